"""The tenant apply lock: one apply at a time per tenant, seen from every machine.

The lock is an open extension on the tenant's organization object
(`/organization/{tenant id}/extensions/io.reconciler.applyLock`), so two runners on two
machines (a laptop and a CI job) see the same lock. The lock names its holder, a random
token and a lease (`expiresAt`); the holder renews the lease in the background while it
runs (every third of the lease) and removes the lock at the end. A lock whose holder died
(killed, machine lost) is taken over only after its lease has expired; until then a second
apply stops with an `Error:` line naming the holder. A holder that finds its lock gone or
taken over stops before its next write.

Graph offers no ETag or If-Match on extensions; its one atomic step is create-if-absent:
POST of an extension name that exists answers 409. Every step that must not race is built
on it:

- taking a free lock: POST of the lock; 201 means ours (read back, its token checked, before
  any write), 409 means someone holds it;
- ending a lock record (a takeover of an expired lease, a renewal, a release): first POST of
  the claim `io.reconciler.applyLock.end.<token of that record>`. Only one run can hold the
  claim on a record, so two runs that both see an expired lease cannot both remove it and
  both take the lock: the one whose claim answers 409 stops with the claimant named. The
  claim holder re-reads the lock and removes it only if it still carries that token, then
  removes its claim. A claim has a lease too; a claim whose holder died is ended the same
  way (a claim on the claim).

Leases compare wall clocks of different machines: keep them in sync (NTP); the default lease
(5 minutes, RECONCILER_LOCK_LEASE_SECONDS) is far above usual skew.
"""

from __future__ import annotations

import getpass
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from reconciler.graph.client import GraphClient
from reconciler.graph.errors import GraphError, UnreachableError

log = logging.getLogger(__name__)
LOCK_NAME = "io.reconciler.applyLock"
LEASE_VARIABLE = "RECONCILER_LOCK_LEASE_SECONDS"
DEFAULT_LEASE_SECONDS = 300.0


class TenantLockedError(RuntimeError):
    """Another apply holds this tenant's lock and its lease has not expired."""


class LockLostError(RuntimeError):
    """This apply's lock was taken over or could not be renewed: it stops writing."""


def holder_name(environ: Mapping[str, str] | None = None) -> str:
    """Who is applying, as a person reading the refusal needs it: a CI run's URL, or
    user@host and process id."""
    env = environ if environ is not None else os.environ
    if env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        actor = f" by {env['GITHUB_ACTOR']}" if env.get("GITHUB_ACTOR") else ""
        return (f"GitHub Actions run {server}/{env['GITHUB_REPOSITORY']}/actions/runs/"
                f"{env['GITHUB_RUN_ID']}{actor}")
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()} (pid {os.getpid()})"


def _instant(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seconds(text: Any) -> float:
    try:
        return datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=UTC).timestamp()
    except ValueError:
        return 0.0  # unreadable: treated as expired


class TenantLock:
    """One apply's hold on its tenant; `acquire`, then `check` before writes, `release`."""

    def __init__(self, graph: GraphClient, tenant_id: str, domain: str, *,
                 holder: str | None = None, lease_seconds: float | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.graph, self.domain, self.clock = graph, domain, clock
        self.collection = f"/organization/{tenant_id}/extensions"
        self.path = f"{self.collection}/{LOCK_NAME}"
        self.holder = holder or holder_name()
        self.lease = lease_seconds or float(os.environ.get(LEASE_VARIABLE) or
                                            DEFAULT_LEASE_SECONDS)
        self.token = str(uuid.uuid4())
        self.expires = 0.0
        self.lost: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # taking and giving back ------------------------------------------------------------------
    def acquire(self) -> None:
        """Take the lock, or raise TenantLockedError naming the holder of a live one (or the
        run that is taking over an expired one)."""
        current: dict[str, Any] | None = None
        for _ in range(4):
            now = self.clock()
            # created: read back, its token checked, before any write
            if self._create(LOCK_NAME, now, self.token) and self.mine():
                self.expires = now + self.lease
                self._start_renewing()
                return
            current = self.current()
            if current is None:
                continue  # released a moment ago: try again
            if current.get("token") == self.token:  # ours, its reply was lost
                self.expires = now + self.lease
                self._start_renewing()
                return
            if _seconds(current.get("expiresAt")) > self.clock():
                raise TenantLockedError(self.refusal(current))
            log.warning("taking over the apply lock of %s: its lease expired at %s",
                        current.get("holder"), current.get("expiresAt"))
            claimant = self._end(LOCK_NAME, current, lambda _record: True)
            if claimant is not None:
                raise TenantLockedError(self.refusal(current, taken_by=claimant))
        raise TenantLockedError(self.refusal(current or {}))

    def release(self) -> None:
        """Stop renewing and remove the lock if it is still ours (never someone else's)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self._end(LOCK_NAME, {"token": self.token}, lambda _record: True)
        except (GraphError, UnreachableError) as exc:
            log.warning("could not remove the apply lock (it expires at %s): %s",
                        _instant(self.expires), exc)

    def check(self) -> None:
        """Raise LockLostError when this apply no longer holds its tenant's lock."""
        if self.lost is None and self.expires and self.clock() > self.expires:
            self.lost = f"its lease expired at {_instant(self.expires)} without renewal"
        if self.lost is not None:
            raise LockLostError(f"stopped: this apply lost the lock of {self.domain} "
                                f"({self.lost}); nothing more was sent")

    def refusal(self, current: dict[str, Any], taken_by: str | None = None) -> str:
        if taken_by is not None:
            return (f"tenant {self.domain} is being taken over by another apply: {taken_by} "
                    f"(the lease of {current.get('holder')} expired at "
                    f"{current.get('expiresAt')})")
        return (f"tenant {self.domain} is locked by another apply: {current.get('holder')}, "
                f"since {current.get('acquiredAt')}, lease until {current.get('expiresAt')} "
                "(renewed while it runs)")

    # reading ---------------------------------------------------------------------------------
    def current(self) -> dict[str, Any] | None:
        return self._read(LOCK_NAME)

    def mine(self) -> bool:
        current = self.current()
        return current is not None and current.get("token") == self.token

    def _read(self, name: str) -> dict[str, Any] | None:
        return self.graph.get_or_none(f"{self.collection}/{name}")

    # the one atomic step: create if absent ----------------------------------------------------
    def _create(self, name: str, now: float, token: str) -> bool:
        """POST the extension `name` carrying `token`: True if this run made it (a lost
        reply is settled by reading it back), False on Graph's 409 (it exists)."""
        body = {"@odata.type": "microsoft.graph.openTypeExtension", "extensionName": name,
                "holder": self.holder, "token": token, "acquiredAt": _instant(now),
                "expiresAt": _instant(now + self.lease)}
        result = self.graph.write(
            "POST", self.collection, body, already=lambda e: e.status == 409,
            recheck=lambda: (self._read(name) or {}).get("token") == token)
        if not result.ok:
            raise result.error or GraphError(0, "NoReply", f"{name} was not created")
        return not result.already

    def _end(self, name: str, record: dict[str, Any],
             then: Callable[[dict[str, Any]], bool], depth: int = 0) -> str | None:
        """Run `then` on the extension `name` while it still carries `record`'s token, and
        remove it if `then` says so, holding the claim on that token so that no other run
        can do the same at once. None when done (or the record was already gone); the
        holder of the claim when another run holds it."""
        claim, mine = f"{LOCK_NAME}.end.{record.get('token')}", uuid.uuid4().hex
        for _ in range(4):
            if self._create(claim, self.clock(), mine):
                break
            held = self._read(claim)
            if held is None:
                continue  # its holder just finished: claim it now
            if _seconds(held.get("expiresAt")) > self.clock() or depth >= 2:
                return str(held.get("holder"))
            taken = self._end(claim, held, lambda _record: True, depth + 1)  # holder died
            if taken is not None:
                return taken
        else:
            return "another apply"
        try:
            current = self._read(name)
            if current is not None and current.get("token") == record.get("token") \
                    and then(current):
                self.graph.write("DELETE", f"{self.collection}/{name}",
                                 already=lambda e: e.status == 404)
        finally:
            self.graph.write("DELETE", f"{self.collection}/{claim}",
                             already=lambda e: e.status == 404)
        return None

    # the lease -------------------------------------------------------------------------------
    def _start_renewing(self) -> None:
        self._thread = threading.Thread(target=self._renew_loop, name="tenant-lock",
                                        daemon=True)
        self._thread.start()

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.lease / 3):
            try:
                self.renew()
            except (GraphError, UnreachableError) as exc:  # tried again at the next tick
                log.warning("could not renew the apply lock: %s", exc)
            if self.lost is not None:
                return

    def renew(self) -> None:
        """Extend this run's lease, under the claim on its token (so a takeover of a lease
        that expired meanwhile cannot interleave with it)."""
        extended: list[float] = []

        def extend(_record: dict[str, Any]) -> bool:
            now = self.clock()
            result = self.graph.write("PATCH", self.path,
                                      {"expiresAt": _instant(now + self.lease)})
            if not result.ok:
                raise result.error or GraphError(0, "NoReply", "the lease was not renewed")
            extended.append(now + self.lease)
            return False  # kept, not removed

        claimant = self._end(LOCK_NAME, {"token": self.token}, extend)
        if extended:
            self.expires = extended[0]
            return
        current = self.current()
        holder = claimant or (current.get("holder") if current else None)
        self.lost = f"taken over by {holder}" if holder else "the lock was removed"


def lock_tenant(connection: Any, config: Any) -> TenantLock:
    """Take `config`'s tenant lock for `connection` (given back by `connection.close()`)."""
    lock = TenantLock(connection.graph, config.tenant_id, config.domain)
    lock.acquire()
    connection.lock = lock
    return lock
