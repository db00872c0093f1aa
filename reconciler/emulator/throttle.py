"""Graph's throttling per service, as token buckets (limits.py names the figures).

- Identity and access: resource units per app and tenant (3,500 / 5,000 / 8,000 per 10 s by
  tenant size, recomputed when users created or deleted move the tenant to another band),
  writes per app and tenant (3,000 per 150 s) and per tenant (18,000 per 5 min).
- Outlook (mailboxSettings, calendar, photo, ...): 10,000 requests per 10 min and 4 requests
  in flight per app and mailbox.
- Identity and access reports (auditLogs): 5 requests per 10 s per app and tenant.
A throttled request gets 429 with `Retry-After`, `x-ms-throttle-scope` and
`x-ms-throttle-information`; a request answered above 80% of its bucket carries
`x-ms-throttle-limit-percentage`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from reconciler.emulator.faults import Faults
from reconciler.emulator.limits import Limits
from reconciler.emulator.wire import GraphError, Request

_OUTLOOK = re.compile(r"^/v1\.0/users/([^/]+)/(mailboxSettings|calendar|calendars|photo|photos|"
                      r"events|messages|mailFolders|contacts)(/|$)", re.I)


def too_many_requests(retry_after: float, information: str, scope: str) -> GraphError:
    return GraphError(429, "TooManyRequests", "Please retry again later.", {
        "Retry-After": f"{max(retry_after, 0.01):g}",
        "x-ms-throttle-scope": scope,
        "x-ms-throttle-information": information,
    })


def resource_units(request: Request) -> int:
    """Graph's identity-and-access cost of one request (throttling-limits page)."""
    path = request.path.removeprefix("/v1.0")
    if request.method != "GET":
        return 1
    if re.fullmatch(r"/users/?", path):
        cost = 2
    elif re.search(r"/transitiveMembers", path):
        cost = 5
    elif re.search(r"^/groups/[^/]+/members", path) or path.startswith("/subscribedSkus"):
        cost = 3
    elif re.search(r"/(licenseDetails|memberOf|transitiveMemberOf|ownedObjects)", path):
        cost = 2
    else:
        cost = 1
    if "$select" in request.query:
        cost -= 1
    if "$expand" in request.query:
        cost += 1
    top = request.query.get("$top", "")
    if top.isdigit() and int(top) < 20:
        cost -= 1
    return max(cost, 1)


def outlook_mailbox(request: Request) -> str | None:
    """The mailbox an Outlook-backed request addresses, or None."""
    found = _OUTLOOK.match(request.path)
    return found.group(1).lower() if found else None


@dataclass
class Bucket:
    capacity: float
    window: float
    level: float
    stamp: float

    def refill(self, now: float) -> None:
        if self.window > 0:
            self.level = min(self.capacity,
                             self.level + (now - self.stamp) * self.capacity / self.window)
        self.stamp = now

    def wait_for(self, cost: float) -> float:
        return (cost - self.level) * self.window / self.capacity if self.capacity else 0.0

    def used(self) -> float:
        return 1 - self.level / self.capacity if self.capacity else 0.0


class Throttle:
    """All buckets of one emulated tenant (one app: the emulator does not tell apps apart)."""

    def __init__(self, faults: Faults, limits: Limits, users: int) -> None:
        self.faults, self.limits = faults, limits
        self.lock = threading.Lock()
        now = time.monotonic()
        ru = faults.budget or limits.ru_budget(users)

        def bucket(capacity: float, window: float) -> Bucket:
            return Bucket(capacity, window, capacity, now)

        self.ru = bucket(ru, limits.ru_window)
        self.writes = bucket(faults.write_budget or limits.write_budget, limits.write_window)
        self.tenant_writes = bucket(limits.tenant_write_budget, limits.tenant_write_window)
        self.reports = bucket(limits.reports_budget, limits.reports_window)
        self.outlook: dict[str, Bucket] = {}
        self.in_flight: dict[str, int] = {}
        self.enabled = limits.throttling or bool(faults.budget or faults.write_budget)

    def resize(self, users: int) -> None:
        """Recompute the resource-unit budget for a tenant of `users` users: Graph's budget
        follows the tenant's size band (<50, 50-500, >500 users), so creating or deleting
        users across a band boundary changes it. Units already spent stay spent."""
        if self.faults.budget:
            return
        capacity = self.limits.ru_budget(users)
        with self.lock:
            if capacity == self.ru.capacity:
                return
            self.ru.refill(time.monotonic())
            spent = self.ru.capacity - self.ru.level
            self.ru.capacity = capacity
            self.ru.level = min(float(capacity), max(0.0, capacity - spent))

    def charge(self, request: Request, write: bool) -> tuple[int, dict[str, str]]:
        """(resource units, headers to add); raises Graph's 429 when a bucket is empty."""
        cost = resource_units(request)
        if not self.enabled:
            return cost, {}
        now = time.monotonic()
        checks: list[tuple[Bucket, float, str, str]] = []
        mailbox = outlook_mailbox(request)
        if mailbox is not None:
            box = self.outlook.setdefault(mailbox, Bucket(
                self.limits.outlook_budget, self.limits.outlook_window,
                self.limits.outlook_budget, now))
            checks.append((box, 1, "ApplicationMailboxLimitExceeded",
                           f"Mailbox/{mailbox}"))
        elif request.path.startswith("/v1.0/auditLogs/"):
            checks.append((self.reports, 1, "ReportsLimitExceeded", "Tenant_Application/Reports"))
        elif request.path.startswith("/v1.0/"):
            checks.append((self.ru, cost, "ResourceUnitLimitExceeded",
                           "Tenant_Application/ReadWrite"))
            if write:
                checks.append((self.writes, 1, "WriteLimitExceeded",
                               "Tenant_Application/ReadWrite"))
                checks.append((self.tenant_writes, 1, "WriteLimitExceeded", "Tenant/ReadWrite"))
        with self.lock:
            for bucket, amount, information, scope in checks:
                bucket.refill(now)
                if bucket.level < amount:
                    raise too_many_requests(round(bucket.wait_for(amount) + 0.05, 2),
                                            information, scope)
            for bucket, amount, _information, _scope in checks:
                bucket.level -= amount
            used = max((b.used() for b, *_ in checks), default=0.0)
        headers = {"x-ms-throttle-limit-percentage": f"{used:.1f}"} if used > 0.8 else {}
        return cost, headers

    @contextmanager
    def mailbox_slot(self, request: Request) -> Iterator[None]:
        """Outlook allows 4 requests in flight per app and mailbox; the fifth gets 429."""
        mailbox = outlook_mailbox(request) if self.enabled else None
        if mailbox is None:
            yield
            return
        with self.lock:
            if self.in_flight.get(mailbox, 0) >= self.limits.outlook_concurrency:
                raise too_many_requests(1, "ApplicationMailboxConcurrencyLimitExceeded",
                                        f"Mailbox/{mailbox}")
            self.in_flight[mailbox] = self.in_flight.get(mailbox, 0) + 1
        try:
            yield
        finally:
            with self.lock:
                self.in_flight[mailbox] -= 1
