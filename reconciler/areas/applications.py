"""Enterprise application assignments (app role assignments, graph-contract §22).

An entry names the app by appId (unique) or displayName (unique, or the plan asks for the
appId) and the role by value, then displayName, among the app's enabled roles that users can
hold; no role means default access, which only an app without user roles accepts. Assignments
held through a group are reported, never removed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.apply.context import Write
from reconciler.areas import Area, DirectoryAudit, Kind, Step
from reconciler.graph import workplace_requests as api
from reconciler.live.workplace import APP_ROLES, SERVICE_PRINCIPALS
from reconciler.plan.context import window_note
from reconciler.plan.facts import of_user

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser, Entry
    from reconciler.live.reads import Read
    from reconciler.live.state import LiveState, LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

DEFAULT_ACCESS = "00000000-0000-0000-0000-000000000000"


class Unresolved(Exception):
    """An app or role reference that names nothing, or more than one thing."""


def reads(user: DesiredUser) -> set[Read]:
    if not user.manages("applications"):
        return set()
    return {SERVICE_PRINCIPALS, APP_ROLES}


def user_roles(app: dict[str, Any]) -> list[dict[str, Any]]:
    """The app roles a user can be given: enabled, and allowed for users."""
    return [r for r in app.get("appRoles") or [] if r.get("isEnabled", True)
            and "User" in (r.get("allowedMemberTypes") or ["User"])]


def find_app(live: LiveState, ref: str) -> dict[str, Any]:
    by_app_id = [a for a in live.service_principals.values()
                 if str(a.get("appId", "")).lower() == ref.lower()]
    if by_app_id:
        return by_app_id[0]
    named = [a for a in live.service_principals.values()
             if str(a.get("displayName", "")).lower() == ref.lower()]
    if len(named) == 1:
        return named[0]
    if named:
        ids = ", ".join(sorted(a["appId"] for a in named))
        raise Unresolved(f"{len(named)} enterprise applications are named {ref!r}: "
                         f"use the appId ({ids})")
    raise Unresolved(f"no enterprise application {ref!r} (by displayName or appId)")


def find_role(app: dict[str, Any], ref: str | None) -> tuple[str, str | None]:
    """(appRoleId, the role's displayName or None for default access)."""
    roles = user_roles(app)
    if ref is None:
        if roles:
            names = ", ".join(sorted(str(r.get("displayName")) for r in roles))
            raise Unresolved(f"{app['displayName']} has roles for users: name one ({names})")
        return DEFAULT_ACCESS, None
    for field in ("value", "displayName"):
        for role in roles:
            if str(role.get(field) or "").lower() == ref.lower():
                return role["id"], str(role.get("displayName") or role.get("value"))
    names = ", ".join(sorted(str(r.get("displayName")) for r in roles)) or "none"
    raise Unresolved(f"{app['displayName']} has no role {ref!r} for users (it has: {names})")


def _value(app: dict[str, Any], role_name: str | None) -> dict[str, Any]:
    """An assignment as plan data: the app's and the role's names (None: default access)."""
    return {"app": str(app.get("displayName")), "role": role_name}


def _show(value: dict[str, Any]) -> str:
    return f"{value['app']} ({value['role'] or 'default access'})"


def _assignment_target(live: LiveState, assignment: dict[str, Any]) -> str:
    return _show(_assignment_value(live, assignment))


def _assignment_value(live: LiveState, assignment: dict[str, Any]) -> dict[str, Any]:
    app = live.service_principals.get(assignment.get("resourceId", ""), {})
    role = next((r for r in app.get("appRoles") or [] if r["id"] == assignment["appRoleId"]),
                None)
    name = str(role.get("displayName")) if role else (
        None if assignment["appRoleId"] == DEFAULT_ACCESS else assignment["appRoleId"])
    return _value(app or {"displayName": assignment.get("resourceDisplayName")}, name)


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    if not user.manages("applications"):
        return
    held = list(live.app_roles or []) if live else []
    direct = {(a["resourceId"], a["appRoleId"]): a for a in held
              if live is not None and a.get("principalId") == live.id}
    facts = [f"apps:{live.id}"] if live else []
    wanted: set[tuple[str, str]] = set()
    for entry in user.applications:
        key = _wanted(ctx, user, entry)
        if key is None:
            continue
        app_id, role_id, value = key
        target = _show(value)
        if not ctx.in_force(user, "application", target, entry.window):
            continue
        wanted.add((app_id, role_id))
        if (app_id, role_id) in direct:
            ctx.unchanged(user)
            continue
        ctx.add(user, "application", "add", target, None, value,
                apply={"resource": app_id, "role": role_id}, facts=facts,
                note=window_note(entry.window))
    for (app_id, role_id), assignment in sorted(direct.items()):
        value = _assignment_value(ctx.live, assignment)
        target = _show(value)
        if (app_id, role_id) in wanted or not (
                ctx.authoritative or ctx.expired(user, "application", target)):
            continue
        ctx.add(user, "application", "remove", target, value, None,
                apply={"assignment": assignment["id"]}, facts=facts)
    for assignment in held:
        if live is not None and assignment.get("principalId") != live.id:
            ctx.note(user, "application", _assignment_target(ctx.live, assignment),
                     f"assigned through group {assignment.get('principalDisplayName')}: "
                     "not manageable here")


def _wanted(ctx: PlanContext, user: DesiredUser, entry: Entry
            ) -> tuple[str, str, dict[str, Any]] | None:
    try:
        app = find_app(ctx.live, entry.ref)
        role_id, role_name = find_role(app, entry.extra.get("role"))
    except Unresolved as exc:
        ctx.error(user, entry.path, str(exc))
        return None
    return app["id"], role_id, _value(app, role_name)


def _landed(ctx: ApplyContext, user_id: str, resource: str, role: str) -> bool:
    found = ctx.graph.list(api.list_app_role_assignments(user_id).path)
    return any(a["resourceId"] == resource and a["appRoleId"] == role
               and a.get("principalId") == user_id for a in found)


def apply_adds(ctx: ApplyContext, changes: list[Change]) -> None:
    writes = []
    for change in ctx.runnable(changes):
        user_id = ctx.user_id(change.user)
        assert user_id is not None
        resource, role = change.apply["resource"], change.apply["role"]
        writes.append(Write([change], api.assign_app_role(user_id, resource, role),
                            recheck=lambda u=user_id, r=resource, a=role: _landed(ctx, u, r, a),
                            already=lambda e: e.says("already exists on the object")))
    ctx.send_batched(writes)


def apply_removals(ctx: ApplyContext, changes: list[Change]) -> None:
    writes = []
    for change in ctx.runnable(changes):
        user_id = ctx.user_id(change.user)
        assert user_id is not None
        writes.append(Write([change], api.remove_app_role_assignment(
            user_id, change.apply["assignment"]), already=lambda e: e.status == 404))
    ctx.send_batched(writes)


def _direct(user: LiveUser, _live: LiveState, _detail: str) -> Any:
    return sorted((a["resourceId"], a["appRoleId"]) for a in user.app_roles or []
                  if a.get("principalId") == user.id)


def relations(user: DesiredUser, current: LiveUser, _live: LiveState) -> int:
    if not user.manages("applications"):
        return 0
    return sum(1 for a in current.app_roles or [] if a.get("principalId") == current.id)


def import_user(user: LiveUser, state: LiveState) -> dict[str, Any]:
    entries = []
    for assignment in user.app_roles or []:
        if assignment.get("principalId") != user.id:
            continue
        app = state.service_principals.get(assignment["resourceId"])
        if app is None:
            continue
        same_name = [a for a in state.service_principals.values()
                     if a.get("displayName") == app.get("displayName")]
        entry: dict[str, Any] = {"app": app["displayName"] if len(same_name) == 1
                                 else app["appId"]}
        role = next((r for r in app.get("appRoles") or []
                     if r["id"] == assignment["appRoleId"]), None)
        if role is not None:
            entry["role"] = role.get("displayName") or role.get("value")
        entries.append(entry)
    entries.sort(key=lambda e: (str(e["app"]).lower(), str(e.get("role", ""))))
    return {"applications": entries} if entries else {}


ACTIVITIES = {"add": "remove app role assignment from user",
              "remove": "add app role assignment grant to user"}


def _audited(record: dict[str, Any], change: Change, user_id: str) -> bool:
    activity = str(record.get("activityDisplayName") or "").lower()
    return activity == ACTIVITIES.get(change.op) and any(
        t.get("id") == user_id for t in record.get("targetResources") or [])


AREA = Area(
    name="applications",
    keys=("applications",),
    kinds=(Kind("application", 65, label="application", heading="applications",
                relation=True, show=_show),),
    facts={"apps": of_user(_direct, "application assignments")},
    reads=reads,
    diff=diff,
    steps=(Step("workplace adds", ("application",), ("add",), apply_adds),
           Step("workplace removals", ("application",), ("remove",), apply_removals)),
    relations=relations,
    import_user=import_user,
    import_reads=(SERVICE_PRINCIPALS, APP_ROLES),
    audit=DirectoryAudit(_audited),
)
