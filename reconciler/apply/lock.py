"""The tenant apply lock: one apply at a time per tenant, seen from every machine.

The lock is an open extension on the tenant's organization object
(`/organization/{tenant id}/extensions/io.reconciler.applyLock`), so two runners on two
machines (a laptop and a CI job) see the same lock. Taking it is Graph's own atomic step:
POST of an extension name that exists answers 409. The lock names its holder and carries a
lease (`expiresAt`); the holder renews it in the background while it runs (every third of
the lease) and removes it at the end. A lock whose holder died (killed, machine lost) is
taken over only after its lease has expired; until then a second apply stops with an
`Error:` line naming the holder. A holder that finds its lock gone or taken over stops
before its next write.

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
        """Take the lock, or raise TenantLockedError naming the holder of a live one."""
        current: dict[str, Any] | None = None
        for _ in range(3):
            now = self.clock()
            body = {"@odata.type": "microsoft.graph.openTypeExtension",
                    "extensionName": LOCK_NAME, "holder": self.holder, "token": self.token,
                    "acquiredAt": _instant(now), "expiresAt": _instant(now + self.lease)}
            result = self.graph.write("POST", self.collection, body, recheck=self.mine,
                                      already=lambda e: e.status == 409)
            if result.ok and not result.already:
                self.expires = now + self.lease
                self._start_renewing()
                return
            if not result.ok:
                raise result.error or GraphError(0, "NoReply", "the lock was not taken")
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
            self._remove_if(str(current.get("token")))
        raise TenantLockedError(self.refusal(current or {}))

    def release(self) -> None:
        """Stop renewing and remove the lock if it is still ours (never someone else's)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self._remove_if(self.token)
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

    def refusal(self, current: dict[str, Any]) -> str:
        return (f"tenant {self.domain} is locked by another apply: {current.get('holder')}, "
                f"since {current.get('acquiredAt')}, lease until {current.get('expiresAt')} "
                "(renewed while it runs)")

    # reading ---------------------------------------------------------------------------------
    def current(self) -> dict[str, Any] | None:
        return self.graph.get_or_none(self.path)

    def mine(self) -> bool:
        current = self.current()
        return current is not None and current.get("token") == self.token

    def _remove_if(self, token: str) -> None:
        current = self.current()
        if current is not None and current.get("token") == token:
            self.graph.write("DELETE", self.path, already=lambda e: e.status == 404)

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
        current = self.current()
        if current is None or current.get("token") != self.token:
            holder = current.get("holder") if current else None
            self.lost = f"taken over by {holder}" if holder else "the lock was removed"
            return
        now = self.clock()
        result = self.graph.write("PATCH", self.path, {"expiresAt": _instant(now + self.lease)})
        if result.ok:
            self.expires = now + self.lease


def lock_tenant(connection: Any, config: Any) -> TenantLock:
    """Take `config`'s tenant lock for `connection` (given back by `connection.close()`)."""
    lock = TenantLock(connection.graph, config.tenant_id, config.domain)
    lock.acquire()
    connection.lock = lock
    return lock
