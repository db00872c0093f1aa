"""The Graph client against the emulator: paging, batching, retries, errors, read-only."""

from __future__ import annotations

import time

import pytest

from reconciler.emulator.generate import generate_seed
from reconciler.graph.batch import BatchItem, pack, run_batch
from reconciler.graph.errors import GraphError, ReadOnlyError
from tests.emulated import RecordingSleep, client, emulator, user_body


def test_a_collection_is_read_completely_through_next_links():
    em = emulator(generate_seed(users=2100, groups=0, memberships=0))
    graph = client(em)
    users = graph.list("/users", {"$select": "id,userPrincipalName", "$top": "999"})
    assert len(users) == 2100
    assert len({u["id"] for u in users}) == 2100
    assert set(users[0]) == {"id", "userPrincipalName"}
    assert graph.stats["http"] == 3  # 999 + 999 + 102


def test_a_page_size_over_999_is_refused_as_graph_does():
    graph = client(emulator())
    with pytest.raises(GraphError) as caught:
        graph.get("/users", {"$top": "1000"})
    assert caught.value.status == 400
    assert "between 1 and 999" in caught.value.message


def test_errors_carry_status_code_message_and_request_id():
    graph = client(emulator())
    with pytest.raises(GraphError) as caught:
        graph.get("/users/00000000-0000-4000-8000-000000000000")
    error = caught.value
    assert (error.status, error.code) == (404, "Request_ResourceNotFound")
    assert error.request_id
    assert "GET /v1.0/users/00000000-0000-4000-8000-000000000000: 404" in str(error)


def test_a_4xx_is_not_retried():
    em = emulator()
    graph = client(em)
    result = graph.write("POST", "/users", {"displayName": "x"})
    assert result.error is not None and result.error.status == 400
    assert em.stats["graph"] == 1


def test_read_only_mode_refuses_writes_before_sending():
    em = emulator()
    graph = client(em, read_only=True)
    with pytest.raises(ReadOnlyError):
        graph.write("PATCH", "/users/x", {"jobTitle": "y"})
    with pytest.raises(ReadOnlyError):
        run_batch(graph, [BatchItem("1", "DELETE", "/users/x")])
    assert em.stats["http"] == 0


def test_retry_after_is_honoured_and_never_retried_early():
    em = emulator()
    graph = client(em, sleep=time.sleep)
    em.faults.before = _throttle_once(retry_after=0.3)
    started = time.monotonic()
    graph.list("/users")
    assert time.monotonic() - started >= 0.3
    assert graph.stats["throttled"] == 1
    assert graph.stats["http"] == 2


def _throttle_once(retry_after: float):
    state = {"done": False}

    def wrapped(request, write, inner=False):
        if not state["done"]:
            state["done"] = True
            from reconciler.emulator.faults import too_many_requests

            raise too_many_requests(retry_after, "ResourceUnitLimitExceeded")

    return wrapped


def test_5xx_is_retried_with_backoff_until_it_succeeds():
    em = emulator()
    sleep = RecordingSleep()
    graph = client(em, sleep=sleep)
    failures = {"left": 2}
    original = em.faults.before

    def flaky(request, write, inner=False):
        if failures["left"]:
            failures["left"] -= 1
            from reconciler.emulator.wire import GraphError as EmuError

            raise EmuError(503, "ServiceUnavailable", "try later")
        return original(request, write, inner)

    em.faults.before = flaky
    assert graph.list("/users") == []
    assert graph.stats["server_errors"] == 2
    assert len(sleep.waits) == 2


def test_a_404_on_a_just_created_user_is_retried_as_replication_lag():
    em = emulator(faults="lag=0.5,seed=1")
    graph = client(em, sleep=lambda s: time.sleep(min(s, 0.05)))
    created = graph.write("POST", "/users", user_body("new@contoso.onmicrosoft.com"))
    assert created.ok
    user_id = created.body["id"]
    for _ in range(5):
        result = graph.write("PATCH", f"/users/{user_id}", {"jobTitle": "Engineer"})
        assert result.ok
    assert graph.get(f"/users/{user_id}", {"$select": "jobTitle"})["jobTitle"] == "Engineer"


def test_a_batch_answers_each_request_on_its_own():
    em = emulator()
    graph = client(em)
    created = graph.write("POST", "/users", user_body("a@contoso.onmicrosoft.com"))
    user_id = created.body["id"]
    results = run_batch(graph, [
        BatchItem("ok", "GET", f"/users/{user_id}?$select=id"),
        BatchItem("missing", "GET", "/users/00000000-0000-4000-8000-000000000000"),
        BatchItem("patch", "PATCH", f"/users/{user_id}", {"city": "Oslo"}),
    ])
    assert results["ok"].ok and results["patch"].ok
    assert results["missing"].error.code == "Request_ResourceNotFound"
    assert graph.get(f"/users/{user_id}", {"$select": "city"})["city"] == "Oslo"


def test_batches_hold_at_most_20_and_keep_dependency_chains_together():
    items = [BatchItem(str(n), "GET", "/users") for n in range(45)]
    items.append(BatchItem("a", "GET", "/users"))
    items.append(BatchItem("b", "GET", "/users", depends_on=("a",)))
    chunks = pack(items)
    assert [len(c) for c in chunks] == [20, 20, 7]
    together = next(c for c in chunks if any(i.id == "a" for i in c))
    assert any(i.id == "b" for i in together)


def test_a_throttled_request_inside_a_200_batch_is_retried_alone():
    em = emulator()
    graph = client(em)
    ids = [graph.write("POST", "/users", user_body(f"u{n}@contoso.onmicrosoft.com")).body["id"]
           for n in range(3)]
    calls = {"n": 0}

    def throttle_second_inner(request, write, inner=False):
        if inner and request.path.endswith(ids[1]) and calls["n"] == 0:
            calls["n"] += 1
            from reconciler.emulator.faults import too_many_requests

            raise too_many_requests(0.05, "ResourceUnitLimitExceeded")

    em.faults.before = throttle_second_inner
    before = em.stats["graph"]
    results = run_batch(graph, [BatchItem(str(n), "PATCH", f"/users/{i}", {"city": "Rome"})
                                for n, i in enumerate(ids)])
    assert all(r.ok for r in results.values())
    assert em.stats["graph"] - before == 4  # three inner requests, then the throttled one again
    assert graph.stats["throttled"] == 1


def test_dependents_of_a_failed_request_fail_with_424_and_are_not_resent():
    em = emulator()
    graph = client(em)
    results = run_batch(graph, [
        BatchItem("create", "POST", "/users", {"displayName": "incomplete"}),
        BatchItem("after", "GET", "/users", depends_on=("create",)),
    ])
    assert results["create"].error.status == 400
    assert results["after"].error.status == 424


def test_an_already_existing_member_is_success_when_the_caller_says_so():
    seed = generate_seed(users=2, groups=1, memberships=2)
    em = emulator(seed)
    graph = client(em)
    group = seed["groups"][0]
    member = group["members"][0]
    result = graph.write(
        "PATCH", f"/groups/{group['id']}",
        {"members@odata.bind": [f"https://graph.microsoft.com/v1.0/directoryObjects/{member}"]},
        already=lambda e: e.says("already exist"))
    assert result.ok and result.already
