"""Graph's limits as a cost model, on by default in served and in-process modes.

Every figure here is a setting (`--limits` on `reconciler emulator serve`, or the
RECONCILER_EMULATOR_LIMITS environment variable for both modes, e.g.
`latency=0,lag=0,tenantsize=small`). Sources, all Microsoft Learn:
- paging ("Paging Microsoft Graph data in your app", "List users", "List group members",
  known issues: $expand on directory objects returns at most 100 objects per page);
- delta ("Use delta query", `Prefer: odata.maxpagesize`);
- $batch ("Combine multiple requests in one HTTP request using JSON batching": 20 requests,
  4 concurrent requests per Outlook mailbox, dependsOn);
- throttling ("Microsoft Graph service-specific throttling limits": identity and access
  resource units per app and tenant by tenant size, 3,000 writes per 150 s per app and tenant,
  18,000 writes per 5 min per tenant, Outlook 10,000 requests per 10 min and 4 concurrent
  requests per app and mailbox, identity and access reports 5 requests per 10 s).
Latency and replication lag are not published by Microsoft; the defaults are our assumption
(written in the README) and the benchmarks print them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields

ENVIRONMENT = "RECONCILER_EMULATOR_LIMITS"
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m)?$")
TENANT_SIZES = {"small": 3500, "medium": 5000, "large": 8000}  # RU per 10 s, app + tenant


class LimitSpecError(ValueError):
    """A --limits value that cannot be read."""


def _seconds(text: str) -> float:
    found = _DURATION.match(text)
    if not found:
        raise LimitSpecError(f"'{text}' is not a duration (e.g. 30ms, 2s, 1m)")
    value, unit = float(found.group(1)), found.group(2) or "s"
    return value / 1000 if unit == "ms" else value * 60 if unit == "m" else value


@dataclass
class Limits:
    """The cost model. Durations in seconds; 0 switches a limit off."""

    # paging
    page_default: int = 100          # $top absent: users, groups, members, memberOf, ...
    page_max: int = 999              # largest $top for directory collections
    expand_page_max: int = 100       # directory objects with $expand: at most 100 per page
    expand_items_max: int = 20       # items of an expanded collection navigation per object
    audit_page_max: int = 1000       # auditLogs/directoryAudits $top
    delta_page: int = 200            # objects per delta page without odata.maxpagesize
    delta_members_per_entry: int = 500  # members@delta items per group entry and page
    # $batch
    batch_max: int = 20
    batch_mailbox_max: int = 4
    # throttling (per app and tenant unless named)
    tenant_size: str = "auto"        # auto: by user count (<50 small, 50-500 medium, >500 large)
    ru_window: float = 10.0
    write_budget: int = 3000
    write_window: float = 150.0
    tenant_write_budget: int = 18000
    tenant_write_window: float = 300.0
    outlook_budget: int = 10000      # per mailbox
    outlook_window: float = 600.0
    outlook_concurrency: int = 4     # per mailbox
    reports_budget: int = 5          # auditLogs reads
    reports_window: float = 10.0
    throttling: bool = True
    # time
    latency: float = 0.05            # per request
    latency_per_object: float = 0.0005  # per object in the reply
    lag: float = 1.0                 # replication lag after a write

    _NAMES = {
        "pagedefault": "page_default", "pagemax": "page_max", "expandpagemax": "expand_page_max",
        "expanditemsmax": "expand_items_max", "auditpagemax": "audit_page_max",
        "deltapage": "delta_page", "deltamembers": "delta_members_per_entry",
        "batchmax": "batch_max", "batchmailboxmax": "batch_mailbox_max",
        "tenantsize": "tenant_size", "writebudget": "write_budget",
        "writewindow": "write_window", "tenantwritebudget": "tenant_write_budget",
        "outlookbudget": "outlook_budget", "outlookconcurrency": "outlook_concurrency",
        "reportsbudget": "reports_budget", "throttling": "throttling",
        "latency": "latency", "perobject": "latency_per_object", "lag": "lag",
        "ruwindow": "ru_window", "outlookwindow": "outlook_window",
        "reportswindow": "reports_window", "tenantwritewindow": "tenant_write_window",
    }

    @classmethod
    def parse(cls, spec: str | None) -> Limits:
        """`latency=0,lag=0,tenantsize=large,pagemax=999,throttling=off,...`"""
        limits = cls()
        types = {f.name: f.type for f in fields(cls)}
        for part in filter(None, (p.strip() for p in (spec or "").split(","))):
            name, _, value = part.partition("=")
            key = name.strip().lower().replace("_", "")
            if key not in cls._NAMES:
                raise LimitSpecError(f"unknown limit '{name.strip()}' "
                                     f"(known: {', '.join(sorted(cls._NAMES))})")
            attribute, value = cls._NAMES[key], value.strip()
            kind = types[attribute]
            try:
                if kind == "bool":
                    if value.lower() not in ("on", "off", "true", "false", "1", "0"):
                        raise ValueError
                    setattr(limits, attribute, value.lower() in ("on", "true", "1"))
                elif kind == "float":
                    setattr(limits, attribute, _seconds(value))
                elif kind == "int":
                    setattr(limits, attribute, int(value))
                    if getattr(limits, attribute) < 0:
                        raise ValueError
                else:
                    if value not in (*TENANT_SIZES, "auto"):
                        raise ValueError
                    setattr(limits, attribute, value)
            except ValueError as exc:
                if isinstance(exc, LimitSpecError):
                    raise
                raise LimitSpecError(f"{name.strip()}={value}: not a valid value") from exc
        return limits

    @classmethod
    def from_environment(cls) -> Limits:
        return cls.parse(os.environ.get(ENVIRONMENT))

    def ru_budget(self, users: int) -> int:
        """Identity and access resource units per window for a tenant of `users` users."""
        size = self.tenant_size
        if size == "auto":
            size = "small" if users < 50 else "medium" if users <= 500 else "large"
        return TENANT_SIZES[size]

    def describe(self) -> str:
        """One line naming every figure, for benchmarks and `emulator serve`."""
        return ", ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))
