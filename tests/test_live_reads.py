"""Live reads declared by the areas: run in the order their needs give, independent ones side
by side with a bounded number of requests in flight, per-user GETs of every area batched
together, and the same state whatever order the replies come back in."""

from __future__ import annotations

import shutil
import threading
from dataclasses import asdict
from pathlib import Path

import httpx
import pytest

from reconciler.areas import photo
from reconciler.emulator.generate import generate_seed
from reconciler.emulator.transport import InProcessTransport
from reconciler.graph import batch
from reconciler.live import directory, reader
from reconciler.live.calendars import CALENDARS, FOLDER_RIGHTS
from reconciler.live.mailboxes import CALENDAR, MAILBOXES
from reconciler.live.reads import EVERY_USER, USERS, Read, Reads, UserGet, ordered
from reconciler.live.workplace import APP_ROLES
from reconciler.reconcile import run_plan
from tests.emulated import client, emulator
from tests.tenancy import small_seed

DEMO = Path(__file__).resolve().parents[1] / "tenants" / "demo"


def _nothing(_ctx, _asked) -> None:
    return None


def test_reads_come_after_what_they_need_and_per_user_reads_after_the_users():
    waves = ordered([FOLDER_RIGHTS, directory.GROUPS, photo.PHOTO_PRESENCE])
    depth = {read: n for n, wave in enumerate(waves) for read in wave}
    assert depth[USERS] == depth[directory.GROUPS] == 0  # independent: side by side
    assert depth[MAILBOXES] == 1 and depth[photo.PHOTO_PRESENCE] == 1
    assert depth[CALENDAR] == depth[CALENDARS] == 2  # pulled in by FOLDER_RIGHTS
    assert depth[FOLDER_RIGHTS] == 3


def test_reads_that_need_each_other_or_share_a_key_are_refused():
    first = Read("first", _nothing)
    second = Read("second", _nothing, needs=(first,))
    object.__setattr__(first, "needs", (second,))
    with pytest.raises(ValueError, match="first -> second -> first"):
        ordered([first])
    with pytest.raises(ValueError, match="'groups'"):
        ordered([directory.GROUPS, Read("groups", _nothing)])


def test_per_user_gets_of_different_areas_share_their_batches(monkeypatch):
    em = emulator(small_seed())
    graph = client(em)
    sent: list[list[str]] = []
    real = batch.run_batch

    def spy(client_, items):
        sent.append(sorted(i.path.split("/")[3].split("?")[0] for i in items))
        return real(client_, items)

    monkeypatch.setattr(reader, "run_batch", spy)
    reads = Reads()
    for read in (directory.PHONES, directory.EXTENSION, photo.PHOTO_PRESENCE, APP_ROLES):
        reads.add(read, EVERY_USER)
    state = reader.read_live(graph, reads)
    users = len(state.users)
    assert users > 3
    # one run of $batch requests for the four reads of four areas, not one per read
    assert sent == [sorted(["authentication"] * users + ["extensions"] * users
                           + ["photo"] * users + ["appRoleAssignments"] * users)]
    assert em.stats["http"] == 1 + -(-4 * users // 20)  # the users listing, then 20 a batch


class CountingTransport(httpx.BaseTransport):
    """The emulator, counting how many requests are in flight at once."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner, self.lock = inner, threading.Lock()
        self.now = self.most = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            return self.inner.handle_request(request)
        finally:
            with self.lock:
                self.now -= 1


def _each_user(ctx, asked) -> None:
    """A read of its own that, like Get-MailboxPermission, goes user by user in parallel."""
    ctx.graph.map(lambda user: ctx.graph.get(f"/users/{user.id}"), asked.users)


def test_reads_side_by_side_never_exceed_the_concurrency():
    seed = generate_seed(users=60, groups=5, memberships=60, seed=1)
    em = emulator(seed, faults="latency=5ms")
    graph = client(em, concurrency=2)
    counting = CountingTransport(InProcessTransport(em))
    graph.sender.http = httpx.Client(transport=counting)
    reads = Reads()
    for read in (directory.GROUPS, directory.ROLES, directory.SKUS, directory.DELETED):
        reads.add(read)
    for read in (directory.PHONES, directory.EXTENSION, photo.PHOTO_PRESENCE, APP_ROLES,
                 Read("eachUser", _each_user, per_user=True)):  # beside the batches
        reads.add(read, EVERY_USER)
    state = reader.read_live(graph, reads)
    assert state.groups and state.roles and state.skus
    assert 1 <= counting.most <= 2


@pytest.mark.parametrize("order", ["reversed", "one by one"])
def test_the_state_is_the_same_whatever_order_the_reads_finish(tmp_path, monkeypatch, order):
    folder = tmp_path / "demo"
    shutil.copytree(DEMO, folder, ignore=shutil.ignore_patterns(".reconciler"))
    monkeypatch.setenv("RECONCILER_CACHE_DIR", "off")
    run = run_plan(folder)
    run.connection.close()

    def other_order(_graph, tasks) -> None:
        for task in (reversed(tasks) if order == "reversed" else tasks):
            task()

    monkeypatch.setattr(reader, "_run_together", other_order)
    again = run_plan(folder)
    again.connection.close()
    assert "mailboxes" in again.live.read  # the demo reads most kinds of read
    assert asdict(again.live) == asdict(run.live)
    assert again.plan.changes == run.plan.changes


def test_a_read_stores_into_its_own_slot_when_the_state_has_no_field_for_it():
    em = emulator(small_seed())
    graph = client(em)

    def store(user, result) -> None:
        user.keep("department", (result.body or {}).get("department"))

    department = UserGet("department", path=lambda u: f"/users/{u.id}?$select=department",
                         store=store)
    reads = Reads()
    reads.add(department, EVERY_USER)
    state = reader.read_live(graph, reads)
    by_id = {u["id"]: u.get("department") for u in small_seed()["users"]}
    assert {u.id: u.slot("department") for u in state.users.values()} == by_id
    assert "department" in state.read

