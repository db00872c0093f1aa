"""One apply at a time per tenant, with the lock kept in the tenant (so two machines see it):
judged from the emulator's record of writes."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter

import httpx
import pytest

from reconciler.apply.lock import LOCK_NAME, LockLostError, TenantLock, TenantLockedError
from reconciler.emulator.transport import InProcessTransport
from reconciler.graph.auth import NoAuth
from reconciler.graph.client import GraphClient
from reconciler.graph.retry import RetryPolicy
from reconciler.graph.sender import Sender
from tests.emulated import TENANT_ID, client, emulator
from tests.scripted import apply_process, served, wait_for
from tests.tenancy import audits, make_tenant, small_seed, store

SHORT_LEASE = {"RECONCILER_LOCK_LEASE_SECONDS": "3"}


def lock(graph, holder: str, lease: float = 60.0, clock=time.time) -> TenantLock:
    return TenantLock(graph, TENANT_ID, "contoso.onmicrosoft.com", holder=holder,
                      lease_seconds=lease, clock=clock)


def test_a_second_apply_is_refused_with_the_holder_named_until_the_first_gives_back():
    em = emulator(small_seed())
    first, second = lock(client(em), "ci run 41"), lock(client(em), "laptop of ana")
    first.acquire()
    with pytest.raises(TenantLockedError, match="locked by another apply: ci run 41, since"):
        second.acquire()
    first.release()
    assert em.store.item(TENANT_ID, "extension", LOCK_NAME) is None
    second.acquire()
    assert em.store.item(TENANT_ID, "extension", LOCK_NAME)["holder"] == "laptop of ana"
    second.release()


def test_a_lock_whose_holder_died_is_taken_over_only_after_its_lease_expires():
    em = emulator(small_seed())
    now = [1_000_000.0]
    dead = lock(client(em), "killed run", lease=60, clock=lambda: now[0])
    dead.acquire()
    dead._stop.set()  # the process died: no renewal, no release
    later = lock(client(em), "next run", lease=60, clock=lambda: now[0])
    now[0] += 59
    with pytest.raises(TenantLockedError, match="killed run"):
        later.acquire()
    now[0] += 2  # the lease has expired
    later.acquire()
    assert em.store.item(TENANT_ID, "extension", LOCK_NAME)["holder"] == "next run"
    dead.renew()  # the old holder, were it alive, finds out and stops before its next write
    with pytest.raises(LockLostError, match="taken over by next run"):
        dead.check()
    dead.release()  # never removes someone else's lock
    assert em.store.item(TENANT_ID, "extension", LOCK_NAME)["holder"] == "next run"


def hires(count: int) -> dict[str, str]:
    return {f"hire{n:02d}": f"userPrincipalName: hire{n:02d}@contoso.com\n"
                            f"profile: {{displayName: Hire {n:02d}}}\n"
                            "groups: [Engineering]\n" for n in range(count)}


def writes(folder) -> Counter:
    return Counter((a["activityDisplayName"], json.dumps(a["targetResources"], sort_keys=True))
                   for a in audits(folder))


def test_two_applies_at_once_write_each_change_once_and_one_is_refused(tmp_path):
    folder = make_tenant(tmp_path, hires(16))
    with served(folder, "latency=200ms"):
        first = apply_process(folder, env=SHORT_LEASE)
        wait_for(lambda: store(folder).item(TENANT_ID, "extension", LOCK_NAME) is not None
                 and any(a["activityDisplayName"] == "Add user" for a in audits(folder)))
        second = apply_process(folder, env=SHORT_LEASE)
        assert second.wait(timeout=60) == 1
        message = second.stderr.read()
        assert "tenant contoso.onmicrosoft.com is locked by another apply" in message
        assert f"(pid {first.pid})" in message
        assert first.wait(timeout=60) == 0, first.stderr.read()
        both = [apply_process(folder, env=SHORT_LEASE) for _ in range(2)]  # nothing left
        assert sorted(p.wait(timeout=60) for p in both) in ([0, 0], [0, 1])
    done = writes(folder)
    assert max(done.values()) == 1  # no write twice
    assert sum(1 for (activity, _) in done if activity == "Add user") == 16
    assert sum(1 for (activity, _) in done if activity == "Add member to group") == 16
    assert store(folder).item(TENANT_ID, "extension", LOCK_NAME) is None  # given back


class Jittery(httpx.BaseTransport):
    """The in-process emulator with a random pause before and after each request, so that
    runs racing for the lock interleave in every order."""

    def __init__(self, em, rng: random.Random) -> None:
        self.inner, self.rng = InProcessTransport(em), rng

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        time.sleep(self.rng.random() * 0.003)
        response = self.inner.handle_request(request)
        time.sleep(self.rng.random() * 0.003)
        return response


def racing_client(em, seed: int) -> GraphClient:
    http = httpx.Client(transport=Jittery(em, random.Random(seed)))
    return GraphClient(http, NoAuth(), sender=Sender(
        http, NoAuth(), "graph", policy=RetryPolicy(base_seconds=0.001), sleep=lambda _s: None))


def race(em, seed: int, count: int) -> tuple[list[TenantLock], list[str], list[TenantLock]]:
    """`count` runs that all start at once: (those that took the lock, refusals, all)."""
    runs = [lock(racing_client(em, seed * 10 + n), f"run {n}") for n in range(count)]
    start = threading.Barrier(count)
    held: list[TenantLock] = []
    refused: list[str] = []

    def take(run: TenantLock) -> None:
        start.wait()
        try:
            run.acquire()
            held.append(run)
        except TenantLockedError as exc:
            refused.append(str(exc))

    threads = [threading.Thread(target=take, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return held, refused, runs


def test_runs_racing_for_an_expired_lease_leave_exactly_one_holder():
    """Takeover is a compare-and-swap: of six runs that all see the same expired lease, one
    takes the lock and the others are refused, naming the run that holds or takes it (the
    check-then-delete it replaced let two of six hold the lock in the first round)."""
    for round_ in range(12):
        em = emulator(small_seed())
        em.store.put_item(TENANT_ID, "extension", LOCK_NAME, {
            "id": LOCK_NAME, "extensionName": LOCK_NAME, "holder": "dead run",
            "token": "dead", "acquiredAt": "2020-01-01T00:00:00Z",
            "expiresAt": "2020-01-01T00:05:00Z"})
        held, refused, runs = race(em, round_, 6)
        assert len(held) == 1, (round_, [r.holder for r in held], refused)
        assert em.store.item(TENANT_ID, "extension", LOCK_NAME)["token"] == held[0].token
        assert len(refused) == 5 and all("run " in message for message in refused)
        for run in runs:
            run.release()
        assert em.store.items(TENANT_ID, "extension") == []  # no lock, no claim left behind


def test_a_claim_left_by_a_run_that_died_mid_takeover_is_itself_taken_over_once_expired():
    em = emulator(small_seed())
    for name, token, holder in ((LOCK_NAME, "dead", "dead run"),
                                (f"{LOCK_NAME}.end.dead", "claim", "run killed mid-takeover")):
        em.store.put_item(TENANT_ID, "extension", name, {
            "id": name, "extensionName": name, "holder": holder, "token": token,
            "acquiredAt": "2020-01-01T00:00:00Z", "expiresAt": "2020-01-01T00:05:00Z"})
    held, refused, runs = race(em, 99, 3)
    assert len(held) == 1 and len(refused) == 2
    for run in runs:
        run.release()
    assert em.store.items(TENANT_ID, "extension") == []


def test_two_applies_started_at_once_over_an_expired_lease_write_each_change_once(tmp_path):
    folder = make_tenant(tmp_path, hires(12))
    with served(folder, "latency=200ms"):
        store(folder).put_item(TENANT_ID, "extension", LOCK_NAME, {
            "id": LOCK_NAME, "extensionName": LOCK_NAME, "holder": "a run killed yesterday",
            "token": "dead", "acquiredAt": "2020-01-01T00:00:00Z",
            "expiresAt": "2020-01-01T00:05:00Z"})
        both = [apply_process(folder, env=SHORT_LEASE) for _ in range(2)]
        codes = [p.wait(timeout=120) for p in both]
        errors = [p.stderr.read() for p in both]
    assert sorted(codes) == [0, 1], errors
    winner, loser = (0, 1) if codes[0] == 0 else (1, 0)
    lines = [line for line in errors[loser].splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and f"(pid {both[winner].pid})" in lines[0], errors[loser]
    done = writes(folder)
    assert max(done.values()) == 1  # no write twice
    assert sum(1 for (activity, _) in done if activity == "Add user") == 12
    assert sum(1 for (activity, _) in done if activity == "Add member to group") == 12
    assert store(folder).items(TENANT_ID, "extension") == []  # given back, no claim left
