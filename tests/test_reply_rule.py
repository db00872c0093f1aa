"""One rule for what a reply means, the same for a request on its own and inside a $batch:
judged from the emulator's audit log (how many times each write really landed)."""

from __future__ import annotations

import pytest

from reconciler.graph.batch import BatchItem, run_batch
from reconciler.graph.client import GraphClient
from reconciler.graph.retry import Attempt, RetryPolicy, Verdict, judge
from tests.emulated import client, emulator
from tests.scripted import FAST, script  # noqa: F401 - the fixture
from tests.tenancy import oid, small_seed

ALICE, BOB, DAVE = (oid(f"{n}@contoso.com") for n in ("alice", "bob", "dave"))


def updates(em, user_id: str) -> int:
    return sum(1 for a in em.store.audits() if a["activityDisplayName"] == "Update user"
               and a["targetResources"][0]["id"] == user_id)


def title_is(graph: GraphClient, user_id: str, title: str):
    return lambda: graph.get(f"/users/{user_id}", {"$select": "jobTitle"})["jobTitle"] == title


def single_and_batch(graph: GraphClient):
    single = graph.write("PATCH", f"/users/{ALICE}", {"jobTitle": "One"},
                         recheck=title_is(graph, ALICE, "One"))
    batched = run_batch(graph, [
        BatchItem(name, "PATCH", f"/users/{user_id}", {"jobTitle": "Two"},
                  recheck=title_is(graph, user_id, "Two"))
        for name, user_id in (("b", BOB), ("d", DAVE))])
    return single, batched


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_write_answered_5xx_after_it_landed_is_rechecked_and_not_sent_again(script, status):  # noqa: F811
    em = emulator(small_seed())
    graph = client(em, policy=FAST)
    script.answer(status, "PATCH", f"/users/{ALICE}$")
    script.answer(status, "PATCH", f"/users/{BOB}$")
    single, batched = single_and_batch(graph)
    assert single.ok and single.rechecked
    assert batched["b"].ok and batched["b"].rechecked and batched["d"].ok
    assert [updates(em, u) for u in (ALICE, BOB, DAVE)] == [1, 1, 1]


@pytest.mark.parametrize("status", [500, 503, 504])
def test_a_write_answered_5xx_before_it_ran_is_sent_again_once(script, status):  # noqa: F811
    em = emulator(small_seed())
    graph = client(em, policy=FAST)
    script.answer(status, "PATCH", f"/users/{ALICE}$", when="before")
    script.answer(status, "PATCH", f"/users/{BOB}$", when="before")
    single, batched = single_and_batch(graph)
    assert single.ok and not single.rechecked
    assert batched["b"].ok and not batched["b"].rechecked
    assert [updates(em, u) for u in (ALICE, BOB, DAVE)] == [1, 1, 1]
    assert graph.stats["rechecks"] == 2  # each re-checked once, found not landed, re-sent


def test_no_reply_is_never_success_alone_or_in_a_batch(script):  # noqa: F811
    em = emulator(small_seed())
    graph = client(em, policy=FAST)
    script.drop("PATCH", "/users/", when="before", times=-1)
    script.drop("POST", r"/\$batch$", when="before", times=-1)
    single, batched = single_and_batch(graph)
    assert not single.ok and single.unknown
    assert all(not r.ok and r.unknown for r in batched.values())
    assert [updates(em, u) for u in (ALICE, BOB, DAVE)] == [0, 0, 0]


def test_the_rule_reads_each_reply_the_same_way_for_reads_and_writes():
    policy = RetryPolicy(max_attempts=3)

    def verdict(status, write=True, **at):
        return judge(status, {}, Attempt(write, **at), policy,
                     already=lambda: status == 409).verdict

    assert verdict(204) is Verdict.SUCCESS
    assert verdict(409) is Verdict.ALREADY
    assert verdict(400) is Verdict.GIVE_UP
    assert verdict(401) is Verdict.REFRESH
    assert verdict(401, refreshed=True) is Verdict.GIVE_UP
    assert verdict(429, throttled=1) is Verdict.RETRY
    assert verdict(429, throttled=policy.max_throttled) is Verdict.GIVE_UP
    for status in (None, 500, 502, 503, 504):
        assert verdict(status) is Verdict.RECHECK
        assert verdict(status, write=False) is Verdict.RETRY
        assert verdict(status, attempt=3) is Verdict.GIVE_UP
    assert verdict(None, sent=False) is Verdict.RETRY  # nothing reached the service
    assert verdict(None, sent=False, attempt=policy.connect_attempts) is Verdict.GIVE_UP
    assert verdict(404, lagging=True) is Verdict.RETRY
    assert verdict(404) is Verdict.GIVE_UP
    assert judge(503, {"Retry-After": "7"}, Attempt(True), policy).wait == 7.0
