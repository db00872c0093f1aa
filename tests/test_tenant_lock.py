"""One apply at a time per tenant, with the lock kept in the tenant (so two machines see it):
judged from the emulator's record of writes."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from reconciler.apply.lock import LOCK_NAME, LockLostError, TenantLock, TenantLockedError
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
