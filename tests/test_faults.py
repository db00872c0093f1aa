"""Under heavy injected faults, nothing read is missed and no write is lost or doubled.

Judged from the emulator's own audit log and state, never from the client's reads.
"""

from __future__ import annotations

import time
from collections import Counter

from reconciler.emulator.generate import generate_seed
from reconciler.graph.batch import BatchItem, run_batch
from reconciler.graph.client import GraphClient
from reconciler.graph.properties import group_kind
from reconciler.graph.retry import RetryPolicy
from tests.emulated import client, emulator, user_body

FAULTS = "throttle=0.3,error5xx=0.05,drop=0.02,commitfail=0.05,lag=0.5s,seed=11"
BIND = "https://graph.microsoft.com/v1.0/directoryObjects/"


def is_member(graph: GraphClient, group_id: str, user_id: str) -> bool:
    groups = graph.list(f"/users/{user_id}/memberOf", {"$select": "id"})
    return any(g["id"] == group_id for g in groups)


def _eventually(read, seconds: float = 5.0):
    """Lists trail writes by the replication lag: read until the object shows."""
    deadline = time.monotonic() + seconds
    while not (found := read()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def test_reads_are_complete_and_writes_land_exactly_once_under_faults():
    seed = generate_seed(users=2000, groups=60, memberships=3000, seed=5)
    em = emulator(seed, faults=FAULTS)
    graph = client(em, sleep=time.sleep, concurrency=4,
                   policy=RetryPolicy(base_seconds=0.05, cap_seconds=1.0, max_attempts=12,
                                      settle_seconds=1.5))
    # settle_seconds well above the lag: a re-check that reads "not landed" on a stale
    # replica is read again once the lag has passed, before anything is re-sent. (With 0,
    # whether a lost reply's re-check fell inside the lag window depended on thread timing:
    # faults are drawn in request order, which four writers in flight make vary, so a title
    # PATCH was now and then sent twice.)

    # A complete read of the tenant.
    users = graph.list("/users", {"$select": "id,userPrincipalName,jobTitle", "$top": "999"})
    assert len({u["id"] for u in users}) == 2000
    writable = [g for g in seed["groups"] if group_kind(g) in ("security", "unified")]
    members = {g["id"]: set(g["members"]) for g in writable}

    # 100 creates, four in flight (creates are never batched).
    def create(n: int) -> tuple[str, str]:
        upn = f"new{n:03d}@contoso.com"

        def lookup() -> list[dict]:
            return graph.list("/users", {"$filter": f"userPrincipalName eq '{upn}'",
                                         "$select": "id"})

        result = graph.write("POST", "/users", user_body(upn), recheck=lambda: bool(lookup()),
                             already=lambda e: e.says("already exists"))
        assert result.ok, result.error
        body = result.body if isinstance(result.body, dict) and "id" in result.body \
            else _eventually(lookup)[0]
        graph.sender.created.add(body["id"])
        return upn, body["id"]

    created = dict(graph.map(create, range(100)))

    # 200 profile updates, batched.
    updates = {}
    items = []
    for n, user in enumerate(users[:200]):
        title = f"Title {n:03d}"
        updates[user["id"]] = title

        def landed(user_id: str = user["id"], title: str = title) -> bool:
            return graph.get(f"/users/{user_id}", {"$select": "jobTitle"})["jobTitle"] == title

        items.append(BatchItem(f"p{n}", "PATCH", f"/users/{user['id']}", {"jobTitle": title},
                               recheck=landed))

    # 150 member adds (50 of them of users created a moment ago) and 50 removals.
    adds: list[tuple[str, str]] = []
    candidates = [u["id"] for u in users[200:]] + list(created.values())
    for n in range(150):
        group_id = writable[n % len(writable)]["id"]
        pool = list(created.values()) if n < 50 else candidates
        user_id = next(u for u in pool[n % len(pool):] + pool
                       if u not in members[group_id] and (group_id, u) not in adds)
        adds.append((group_id, user_id))
    removals = []
    for group_id, current in members.items():
        for user_id in sorted(current)[:3]:
            if len(removals) < 50 and (group_id, user_id) not in adds:
                removals.append((group_id, user_id))
    assert len(removals) == 50
    for n, (group_id, user_id) in enumerate(adds):
        items.append(BatchItem(
            f"a{n}", "PATCH", f"/groups/{group_id}", {"members@odata.bind": [BIND + user_id]},
            recheck=lambda g=group_id, u=user_id: is_member(graph, g, u),
            already=lambda e: e.says("already exist")))
    for n, (group_id, user_id) in enumerate(removals):
        items.append(BatchItem(
            f"r{n}", "DELETE", f"/groups/{group_id}/members/{user_id}/$ref",
            recheck=lambda g=group_id, u=user_id: not is_member(graph, g, u),
            already=lambda e: e.status == 404))
    results = run_batch(graph, items)
    failed = {k: str(v.error) for k, v in results.items() if not v.ok}
    assert failed == {}

    # The emulator's audit log: every write exactly once.
    audits = em.store.audits()
    adds_logged = Counter()
    removes_logged = Counter()
    titles_logged = Counter()
    users_logged = Counter()
    for record in audits:
        target = record["targetResources"][0]
        props = {p["displayName"]: p for p in target["modifiedProperties"]}
        if record["activityDisplayName"] == "Add user":
            users_logged[target["userPrincipalName"]] += 1
        elif record["activityDisplayName"] == "Update user" and "jobTitle" in props:
            titles_logged[(target["id"], props["jobTitle"]["newValue"].strip('"'))] += 1
        elif record["activityDisplayName"] == "Add member to group":
            member = props["Member.ObjectID"]["newValue"].strip('"')
            adds_logged[(target["id"], member)] += 1
        elif record["activityDisplayName"] == "Remove member from group":
            member = props["Member.ObjectID"]["oldValue"].strip('"')
            removes_logged[(target["id"], member)] += 1
    assert {upn: users_logged[upn] for upn in created} == {upn: 1 for upn in created}
    assert {k: titles_logged[(k, v)] for k, v in updates.items()} == {k: 1 for k in updates}
    assert {pair: adds_logged[pair] for pair in adds} == {pair: 1 for pair in adds}
    assert {pair: removes_logged[pair] for pair in removals} == {pair: 1 for pair in removals}
    assert sum(users_logged.values()) == 100
    assert sum(adds_logged.values()) == 150 and sum(removes_logged.values()) == 50
    assert sum(titles_logged.values()) == 200

    # And the emulator's state agrees.
    for group_id, user_id in adds:
        assert em.store.is_member(group_id, user_id)
    for group_id, user_id in removals:
        assert not em.store.is_member(group_id, user_id)
    # The faults did happen.
    assert graph.stats["throttled"] > 50
    assert graph.stats["rechecks"] > 0
