"""The planner: desired users x areas -> one Plan. Pure: no I/O, one clock value."""

from __future__ import annotations

from datetime import datetime

from reconciler.areas.registry import change_order, fact_kinds, note_order, planning_order
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


def make_plan(desired: DesiredTenant, live: LiveState, now: datetime,
              users: list[DesiredUser], *, tenant: bool = True) -> Plan:
    """`tenant`: plan tenant.yaml's own sections too (a whole plan, not `--user`)."""
    plan = Plan(tenant=desired.config.domain, created_at=format_instant(now))
    plan.users = sorted(u.upn for u in users)
    ctx = PlanContext(desired, live, now, plan, fact_kinds())
    areas = planning_order()
    live_users = {user.upn: ctx.live_user(user) for user in users}
    if tenant:
        for area in areas:
            if area.plan_tenant is not None:
                area.plan_tenant(ctx)
    for area in areas:  # area by area: what an area plans after is planned before it
        for user in users:
            if user.state == "deleted" and "state" not in area.keys:
                continue  # a user to delete: only the area owning `state` plans it
            area.diff(ctx, user, live_users[user.upn])
    for area in areas:
        if area.finish is not None:
            area.finish(ctx)
    for key in NOT_YET_MANAGED:
        holders = [u.upn for u in users if u.manages(key)]
        if holders:
            plan.warnings.append(f"{key}: not managed by this version yet; nothing is planned "
                                 f"for it ({len(holders)} user{'s' if len(holders) != 1 else ''})")
    plan.sort(change_order, note_order)
    return plan
