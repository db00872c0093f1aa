"""Replication waits only where Graph documents lag: a 404 Request_ResourceNotFound that
names an object this run created. A 404 that is an answer (a relation not set, an
extension not made yet, a mailbox not provisioned, a removal already done) costs no wait and
no second request: judged from the requests the emulator received and the waits taken."""

from __future__ import annotations

import time

from reconciler.graph.retry import RetryPolicy
from tests.emulated import RecordingSleep, client, emulator, user_body

POLICY = RetryPolicy(base_seconds=0.01, replication_seconds=60.0)


def received(em) -> list[tuple[str, str]]:
    """Every request the emulator receives, as (method, path)."""
    seen: list[tuple[str, str]] = []
    original = em.faults.before

    def before(request, write, inner=False):  # noqa: ANN001, ANN202 - the emulator's hook
        seen.append((request.method, request.path))
        return original(request, write, inner)

    em.faults.before = before
    return seen


def new_user(graph) -> str:
    created = graph.write("POST", "/users", user_body("new@contoso.onmicrosoft.com"))
    assert created.ok
    return created.body["id"]


def test_a_404_that_answers_about_a_new_users_relation_costs_no_wait():
    em = emulator()
    sleep = RecordingSleep()
    graph = client(em, sleep=sleep, policy=POLICY)
    user_id = new_user(graph)
    seen = received(em)
    no_manager = graph.write("DELETE", f"/users/{user_id}/manager/$ref",
                             already=lambda e: e.status == 404)
    assert no_manager.already  # already absent: success, at once
    no_extension = graph.write("PATCH", f"/users/{user_id}/extensions/io.reconciler.state",
                               {"photoSha256": "x"})
    assert no_extension.error is not None and no_extension.error.status == 404
    no_mailbox = graph.write("PATCH", f"/users/{user_id}/mailboxSettings",
                             {"timeZone": "UTC"})
    assert no_mailbox.error is not None and no_mailbox.error.code == \
        "MailboxNotEnabledForRESTAPI"  # minutes to provision, never waited on
    assert len(seen) == 3  # one request each
    assert sleep.waits == []
    assert graph.stats.get("replication_waits", 0) == 0


def test_a_404_naming_the_object_just_created_is_waited_on_until_it_replicates():
    em = emulator(faults="lag=0.3,seed=3")
    graph = client(em, sleep=lambda s: time.sleep(min(s, 0.05)), policy=POLICY)
    user_id = new_user(graph)
    seen = received(em)
    for n in range(6):
        assert graph.write("PATCH", f"/users/{user_id}", {"jobTitle": f"Engineer {n}"}).ok
    assert graph.stats.get("replication_waits", 0) > 0  # the lag was met, and waited out
    assert len(seen) == 6 + graph.stats["replication_waits"]  # each wait: one more request
    updates = [a for a in em.store.audits() if a["activityDisplayName"] == "Update user"]
    assert len(updates) == 6  # each update landed once


def test_a_recheck_that_reads_a_stale_replica_reads_again_once_settled_before_resending():
    """The write landed but its reply was lost; the first re-read comes from a replica that
    has not seen it (as Graph documents for reads right after a write). It is read again
    once `settle_seconds` have passed since the write went out, and not sent twice."""
    from reconciler.emulator.wire import DroppedConnection

    em = emulator()
    sleep = RecordingSleep()
    graph = client(em, sleep=sleep, policy=RetryPolicy(base_seconds=0.01, settle_seconds=3.0))
    user_id = new_user(graph)
    dropped = []

    def lose_reply(request, inner=False):  # noqa: ANN001, ANN202 - the emulator's hook
        if request.method == "PATCH" and not dropped:
            dropped.append(request.path)
            raise DroppedConnection()

    em.faults.after_commit = lose_reply
    reads = iter([False, True])  # a stale replica first, then one that has the write
    result = graph.write("PATCH", f"/users/{user_id}", {"jobTitle": "Engineer"},
                         recheck=lambda: next(reads))
    assert result.ok and result.rechecked
    updates = [a for a in em.store.audits() if a["activityDisplayName"] == "Update user"]
    assert len(updates) == 1  # landed once, never re-sent
    assert graph.stats["settle_waits"] == 1 and 0 < max(sleep.waits) <= 3.0
