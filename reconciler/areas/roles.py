"""Directory roles at tenant scope, through unified role assignments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.apply.context import Write
from reconciler.areas import Area, DirectoryAudit, Kind, Step
from reconciler.graph import requests as api
from reconciler.live.directory import GROUPS, ROLES
from reconciler.live.workplace import RISKY_USERS
from reconciler.plan.context import window_note
from reconciler.plan.facts import of_user
from reconciler.plan.resolve import ResolveError

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser
    from reconciler.live.reads import Read
    from reconciler.live.state import LiveState, LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

TENANT_SCOPE = "/"
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"


def _managed(user: DesiredUser) -> bool:
    return user.manages("directoryRoles") or bool(
        user.sign_in and user.sign_in.remove_directory_roles)


def reads(user: DesiredUser) -> set[Read]:
    if not _managed(user):
        return set()
    return {ROLES, GROUPS, RISKY_USERS}


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    stripped = ctx.stripped(user, "roles")
    if not user.manages("directoryRoles") and not stripped:
        return
    direct = {a.role_id: a for a in (ctx.live.assignments_of(live.id) if live else [])
              if a.scope == TENANT_SCOPE}
    via_groups = {a.role_id for g in (ctx.live.groups_of(live.id) if live else set())
                  for a in ctx.live.assignments_of(g)}
    facts = [f"roles:{live.id}"] if live else []
    wanted: set[str] = set()
    for entry in [] if stripped else user.directory_roles:
        try:
            role_id, name = ctx.resolver.role(entry.ref)
        except ResolveError as exc:
            ctx.error(user, entry.path, str(exc))
            continue
        if not ctx.in_force(user, "directoryRole", name, entry.window):
            continue
        wanted.add(role_id)
        if role_id in direct:
            ctx.unchanged(user)
            continue
        ctx.add(user, "directoryRole", "add", name, None, name, apply={"role": role_id},
                facts=facts, note=window_note(entry.window))
    protected = user.upn.lower() in ctx.desired.config.policy.protected_users
    for role_id, assignment in sorted(direct.items()):
        name = ctx.live.roles.get(role_id, role_id)
        if role_id in wanted or not (ctx.authoritative or stripped or
                                     ctx.expired(user, "directoryRole", name)):
            continue
        if protected:
            ctx.error(user, ("directoryRoles",), f"{user.upn} is protected: it is never "
                      f"stripped of roles (would remove {name}; policy.protectedUsers in "
                      f"{ctx.desired.config.source.file})")
            continue
        ctx.add(user, "directoryRole", "remove", name, name, None,
                apply={"role": role_id, "assignment": assignment.id}, facts=facts,
                note="signIn.onBlock" if stripped else None)
    for role_id in sorted(via_groups - wanted - set(direct)):
        ctx.note(user, "directoryRole", ctx.live.roles.get(role_id, role_id),
                 "assigned through a group: not manageable here")


def finish(ctx: PlanContext) -> None:
    """Never leave the tenant without a Global Administrator; warn before a role goes to a
    user Identity Protection holds at risk."""
    _warn_risky(ctx)
    _keep_a_global_administrator(ctx)


def _warn_risky(ctx: PlanContext) -> None:
    granted = [c for c in ctx.plan.changes if c.kind == "directoryRole" and c.op == "add"]
    if granted and ctx.live.risky_error:
        ctx.plan.warnings.append("directory roles are granted without an Identity Protection "
                                 f"check: risky users cannot be read ({ctx.live.risky_error})")
    for change in granted:
        user = ctx.live.user_by_upn(change.user)
        risk = ctx.live.risky.get(user.id) if user else None
        if risk:
            ctx.plan.warnings.append(
                f"{change.user}: gets {change.target} while Identity Protection holds them "
                f"at risk (riskLevel {risk.get('riskLevel')}, riskState "
                f"{risk.get('riskState')}); investigate or dismiss the risk first")


def _keep_a_global_administrator(ctx: PlanContext) -> None:
    holders = {a.principal_id for a in ctx.live.assignments
               if a.role_id == GLOBAL_ADMINISTRATOR and a.scope == TENANT_SCOPE}
    if not holders:
        return
    removed = set()
    for change in ctx.plan.changes:
        user = ctx.live.user_by_upn(change.user)
        if user is None:
            continue
        if change.kind == "directoryRole" and change.op == "remove" and \
                change.apply.get("role") == GLOBAL_ADMINISTRATOR:
            removed.add(user.id)
        if change.kind == "user" and change.op == "remove":
            removed.add(user.id)
    added = any(c.kind == "directoryRole" and c.op == "add" and
                c.apply.get("role") == GLOBAL_ADMINISTRATOR for c in ctx.plan.changes)
    if holders <= removed and not added:
        desired = ctx.desired.user(ctx.live.users[sorted(holders)[0]].upn) \
            if sorted(holders)[0] in ctx.live.users else None
        if desired is not None:
            ctx.error(desired, ("directoryRoles",), "this plan would leave the tenant with no "
                      "Global Administrator; keep at least one")


def _landed(ctx: ApplyContext, user_id: str, role_id: str) -> bool:
    found = ctx.graph.list(api.role_assignments_of(user_id).path)
    return any(a["roleDefinitionId"] == role_id for a in found)


def apply_adds(ctx: ApplyContext, changes: list[Change]) -> None:
    writes = []
    for change in ctx.runnable(changes):
        user_id = ctx.user_id(change.user)
        role_id = change.apply["role"]
        writes.append(Write([change], api.assign_role(role_id, user_id),
                            recheck=lambda u=user_id, r=role_id: _landed(ctx, u, r),
                            already=lambda e: e.says("conflicting object")))
    ctx.send_batched(writes)


def apply_removals(ctx: ApplyContext, changes: list[Change]) -> None:
    ctx.send_batched([Write([c], api.remove_role_assignment(c.apply["assignment"]),
                            already=lambda e: e.status == 404)
                      for c in ctx.runnable(changes)])


def relations(user: DesiredUser, current: LiveUser, live: LiveState) -> int:
    return len(live.assignments_of(current.id)) if _managed(user) else 0


def import_user(user: LiveUser, state: LiveState) -> dict[str, Any]:
    roles = sorted(state.roles.get(a.role_id, a.role_id) for a in state.assignments_of(user.id)
                   if a.scope == TENANT_SCOPE)
    return {"directoryRoles": roles} if roles else {}


# The activity that would have caused the drift, by the op the plan would do about it.
ACTIVITIES = {"add": "remove member from role", "remove": "add member to role"}


def _audited(record: dict[str, Any], change: Change, user_id: str) -> bool:
    activity = str(record.get("activityDisplayName") or "").lower()
    return activity == ACTIVITIES.get(change.op) and any(
        t.get("id") == user_id for t in record.get("targetResources") or [])


AREA = Area(
    name="roles",
    keys=("directoryRoles",),
    kinds=(Kind("directoryRole", 60, label="directoryRole", heading="directory roles",
                relation=True, privileged=lambda _change: True),),
    facts={"roles": of_user(lambda user, live, _detail: sorted(
        (a.role_id, a.scope) for a in live.assignments_of(user.id)), "directory roles")},
    reads=reads,
    diff=diff,
    steps=(Step("role adds", ("directoryRole",), ("add",), apply_adds),
           Step("role removals", ("directoryRole",), ("remove",), apply_removals)),
    relations=relations,
    import_user=import_user,
    import_reads=(ROLES, GROUPS, RISKY_USERS),
    audit=DirectoryAudit(_audited),
    plans_after=("user",),  # finish: a deleted user no longer holds Global Administrator
    finish=finish,
)
