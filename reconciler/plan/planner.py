"""The planner: desired users x areas -> one Plan. Pure: no I/O, one clock value."""

from __future__ import annotations

from datetime import datetime

from reconciler.areas import all_areas
from reconciler.desired.dates import format_instant
from reconciler.desired.model import DesiredTenant, DesiredUser
from reconciler.live.state import LiveState
from reconciler.plan.change import Plan
from reconciler.plan.context import PlanContext

# Keys of the format whose areas this version does not carry out yet: planned nothing,
# said so in the plan's warnings.
NOT_YET_MANAGED: tuple[str, ...] = ()


def selected(desired: DesiredTenant, only: tuple[str, ...]) -> list[DesiredUser]:
    """The users to plan: all, or those named by --user (case-insensitive)."""
    if not only:
        return list(desired.users)
    wanted = {u.lower() for u in only}
    return [u for u in desired.users if u.upn.lower() in wanted]


def live_needs(users: list[DesiredUser]) -> tuple[set[str], dict[str, set[str]]]:
    """(collections to read, {per-user read: UPNs}); areas name per-user reads `user:<what>`."""
    needs: set[str] = set()
    per_user: dict[str, set[str]] = {}
    for user in users:
        for area in all_areas():
            for need in area.needs(user):
                if need.startswith("user:"):
                    per_user.setdefault(need[5:], set()).add(user.upn)
                else:
                    needs.add(need)
    return needs, per_user


def make_plan(desired: DesiredTenant, live: LiveState, now: datetime,
              users: list[DesiredUser]) -> Plan:
    plan = Plan(tenant=desired.config.domain, created_at=format_instant(now))
    plan.users = sorted(u.upn for u in users)
    ctx = PlanContext(desired, live, now, plan)
    areas = all_areas()
    live_users = {user.upn: ctx.live_user(user) for user in users}
    for area in areas:  # area by area: every creation is known before any reference to it
        for user in users:
            if user.state == "deleted" and area.KEYS != ("userPrincipalName", "state"):
                continue
            area.diff(ctx, user, live_users[user.upn])
    for area in areas:
        finish = getattr(area, "finish", None)
        if finish is not None:
            finish(ctx)
    for key in NOT_YET_MANAGED:
        holders = [u.upn for u in users if u.manages(key)]
        if holders:
            plan.warnings.append(f"{key}: not managed by this version yet; nothing is planned "
                                 f"for it ({len(holders)} user{'s' if len(holders) != 1 else ''})")
    plan.sort()
    return plan
