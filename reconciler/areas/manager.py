"""The manager link: PUT or DELETE manager/$ref."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.apply.context import SKIPPED, Write
from reconciler.areas import NO_RELATIONS, Area, DirectoryAudit, Kind, Step
from reconciler.graph import requests as api
from reconciler.live.reads import MANAGERS
from reconciler.plan.facts import of_user
from reconciler.plan.resolve import candidates

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser
    from reconciler.live.reads import Read
    from reconciler.live.state import LiveState, LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

def reads(user: DesiredUser) -> set[Read]:
    return {MANAGERS} if user.manages("manager") else set()


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    if not user.manages("manager"):
        return
    current = ctx.live.users.get(live.manager_id) if live and live.manager_id else None
    before = current.upn if current else None
    user_id = live.id if live else None
    facts = [f"manager:{user_id}"] if user_id else []
    if user.manager is None:
        if current is not None:
            ctx.add(user, "manager", "remove", "manager", before, None, facts=facts)
        else:
            ctx.unchanged(user)
        return
    target = ctx.live.user_by_upn(user.manager)
    if target is None and user.manager.lower() not in ctx.creating:
        upns = [u.upn for u in ctx.live.users.values()]
        ctx.error(user, ("manager",), f"unknown user '{user.manager}' "
                  f"({candidates(user.manager, upns)})")
        return
    if target is not None and current is not None and target.id == current.id:
        ctx.unchanged(user)
        return
    ctx.add(user, "manager", "change" if current else "add", "manager", before,
            target.upn if target else user.manager, apply={"manager": user.manager},
            facts=facts)


def _landed(ctx: ApplyContext, user_id: str, manager_id: str | None) -> bool:
    found = ctx.graph.get_or_none(api.get_manager(user_id).path)
    return (found or {}).get("id") == manager_id


def apply_manager(ctx: ApplyContext, changes: list[Change]) -> None:
    writes = []
    for change in ctx.runnable(changes):
        user_id = ctx.user_id(change.user)
        if change.op == "remove":
            writes.append(Write([change], api.remove_manager(user_id),
                                already=lambda e: e.status == 404))
            continue
        manager_id = ctx.user_id(change.apply["manager"])
        if manager_id is None:
            ctx.record(change, SKIPPED, f"the manager {change.apply['manager']} does not exist")
            continue
        writes.append(Write([change], api.set_manager(user_id, manager_id),
                            recheck=lambda u=user_id, m=manager_id: _landed(ctx, u, m)))
    ctx.send_batched(writes)


def import_user(user: LiveUser, state: LiveState) -> dict[str, Any]:
    manager = state.users.get(user.manager_id) if user.manager_id else None
    return {"manager": manager.upn} if manager is not None else {}


def _audited(record: dict[str, Any], _change: Change, user_id: str) -> bool:
    activity = str(record.get("activityDisplayName") or "").lower()
    return activity in ("set manager", "remove manager") and any(
        t.get("id") == user_id for t in record.get("targetResources") or [])


AREA = Area(
    name="manager",
    keys=("manager",),
    kinds=(Kind("manager", 20, label="manager", heading="manager", quoted=True),),
    facts={"manager": of_user(lambda user, _live, _detail: user.manager_id, "manager")},
    reads=reads,
    diff=diff,
    steps=(Step("manager", ("manager",), ("add", "change", "remove"), apply_manager),),
    relations=NO_RELATIONS,
    import_user=import_user,
    import_reads=(MANAGERS,),
    audit=DirectoryAudit(_audited),
    plans_after=("user",),  # the manager may be a user this plan creates
)
