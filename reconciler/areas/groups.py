"""Group memberships of every kind: Graph for security and Microsoft 365 groups, Exchange for
distribution lists and mail-enabled security groups; dynamic and synced ones are left alone."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from reconciler.apply.context import APPLIED, Write, failure
from reconciler.areas import Area, DirectoryAudit, Kind, Step
from reconciler.graph import requests as api
from reconciler.graph.errors import GraphError
from reconciler.live.directory import GROUPS
from reconciler.plan.context import window_note
from reconciler.plan.facts import of_user
from reconciler.plan.resolve import ResolveError

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser
    from reconciler.live.reads import Read
    from reconciler.live.state import LiveGroup, LiveState, LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

BIND_LIMIT = 20


def _managed(user: DesiredUser) -> bool:
    return user.manages("groups") or bool(user.sign_in and user.sign_in.remove_groups)


def reads(user: DesiredUser) -> set[Read]:
    return {GROUPS} if _managed(user) else set()


def _why_not(group: LiveGroup) -> str:
    if group.kind == "dynamic":
        return "a dynamic group: its members come from its membership rule"
    return "synced from on-premises: change its members in Active Directory"


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    stripped = ctx.stripped(user, "groups")
    if not user.manages("groups") and not stripped:
        return
    current = ctx.live.groups_of(live.id) if live else set()
    facts = [f"groups:{live.id}"] if live else []
    wanted: set[str] = set()
    for entry in [] if stripped else user.groups:
        try:
            group = ctx.resolver.group(entry.ref, entry.by)
        except ResolveError as exc:
            ctx.error(user, entry.path, str(exc))
            continue
        if not ctx.in_force(user, "group", group.display_name, entry.window):
            continue
        wanted.add(group.id)
        if group.id in current:
            ctx.unchanged(user)
            continue
        if not group.writable:
            ctx.error(user, entry.path, f"cannot add to '{group.display_name}': "
                      f"{_why_not(group)}")
            continue
        ctx.add(user, "group", "add", group.display_name, None, group.display_name,
                apply=_target(group), facts=facts, note=window_note(entry.window))
    for group_id in sorted(current - wanted):
        group = ctx.live.groups[group_id]
        if not group.writable:
            ctx.note(user, "group", group.display_name, f"not manageable: {_why_not(group)}")
        elif ctx.authoritative or stripped or ctx.expired(user, "group", group.display_name):
            ctx.add(user, "group", "remove", group.display_name, group.display_name, None,
                    apply=_target(group), facts=facts,
                    note="signIn.onBlock" if stripped else None)


def _target(group: LiveGroup) -> dict[str, Any]:
    target: dict[str, Any] = {"group": group.id,
                              "via": "exchange" if group.via_exchange else "graph",
                              "identity": group.mail or group.id}
    if group.role_assignable:
        target["roleAssignable"] = True  # its members may hold directory roles
    return target


def _is_member(ctx: ApplyContext, group_id: str, user_id: str) -> bool:
    groups = ctx.graph.list(api.member_of(user_id).path)
    return any(g["id"] == group_id for g in groups)


def _already_member(error: GraphError) -> bool:
    return error.says("already exist") or error.says("already a member")


def _exchange(ctx: ApplyContext, change: Change, add: bool) -> None:
    cmdlet = "Add-DistributionGroupMember" if add else "Remove-DistributionGroupMember"
    try:
        ctx.exchange.invoke(cmdlet, {"Identity": change.apply["identity"],
                                     "Member": change.user,
                                     "BypassSecurityGroupManagerCheck": True})
        ctx.record(change, APPLIED)
    except GraphError as error:
        benign = _already_member(error) if add else error.says("isn't a member")
        ctx.record(change, "already" if benign else failure(error), "" if benign else str(error))


def apply_adds(ctx: ApplyContext, changes: list[Change]) -> None:
    ready = ctx.runnable(changes)
    by_group: dict[str, list[Change]] = {}
    for change in ready:
        if change.apply["via"] == "exchange":
            _exchange(ctx, change, add=True)
        else:
            by_group.setdefault(change.apply["group"], []).append(change)
    writes = []
    for group_id, members in sorted(by_group.items()):
        for start in range(0, len(members), BIND_LIMIT):
            chunk = members[start:start + BIND_LIMIT]
            ids = [ctx.user_id(c.user) for c in chunk]
            writes.append(Write(chunk, api.add_members(group_id, ids),
                                recheck=lambda g=group_id, i=ids: all(
                                    _is_member(ctx, g, u) for u in i),
                                already=_already_member if len(chunk) == 1 else None))
    results = ctx.send_batched(writes)
    retry = [c for n, w in enumerate(writes) if len(w.changes) > 1 and not results[n].ok
             and results[n].error and _already_member(results[n].error) for c in w.changes]
    if retry:  # a bind is all-or-nothing: one existing member refuses it; go one by one
        ctx.forget(retry)
        ctx.send_batched([Write([c], api.add_members(c.apply["group"], [ctx.user_id(c.user)]),
                                already=_already_member) for c in retry])


def apply_removals(ctx: ApplyContext, changes: list[Change]) -> None:
    writes = []
    for change in ctx.runnable(changes):
        if change.apply["via"] == "exchange":
            _exchange(ctx, change, add=False)
            continue
        writes.append(Write([change], api.remove_member(change.apply["group"],
                                                        ctx.user_id(change.user)),
                            already=lambda e: e.status == 404))
    ctx.send_batched(writes)


def relations(user: DesiredUser, current: LiveUser, live: LiveState) -> int:
    return len(live.groups_of(current.id)) if _managed(user) else 0


def import_user(user: LiveUser, state: LiveState) -> dict[str, Any]:
    """Writable groups by name (by mail, then by id, when the name is ambiguous)."""
    names: dict[str, int] = {}
    for group in state.groups.values():
        names[group.display_name.lower()] = names.get(group.display_name.lower(), 0) + 1
    out: list[Any] = []
    for group_id in state.groups_of(user.id):
        group = state.groups[group_id]
        if not group.writable:
            continue  # dynamic and synced groups are not managed from a file
        if names[group.display_name.lower()] == 1:
            out.append(group.display_name)
        elif group.mail:
            out.append(group.mail)
        else:
            out.append({"id": group.id})
    out.sort(key=lambda g: str(g).lower() if not isinstance(g, dict) else g["id"])
    return {"groups": out} if out else {}


def _loaded(text: Any) -> Any:
    """Audit values are JSON-encoded strings ("\\"id\\"", "null"), or plain text."""
    try:
        return json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return text


# The activity that would have caused the drift, by the op the plan would do about it.
ACTIVITIES = {"add": "remove member from group", "remove": "add member to group"}


def _audited(record: dict[str, Any], change: Change, user_id: str) -> bool:
    activity = str(record.get("activityDisplayName") or "").lower()
    if activity != ACTIVITIES.get(change.op):
        return False
    targets = record.get("targetResources") or []
    member = {_loaded(p.get(side)) for t in targets for p in t.get("modifiedProperties") or []
              if p.get("displayName") == "Member.ObjectID" for side in ("oldValue", "newValue")}
    return any(t.get("id") == change.apply.get("group") for t in targets) and user_id in member


AREA = Area(
    name="groups",
    keys=("groups",),
    kinds=(Kind("group", 50, label="group", heading="groups", relation=True,
                privileged=lambda change: bool(change.apply.get("roleAssignable"))),),
    facts={"groups": of_user(lambda user, live, _detail: sorted(live.groups_of(user.id)),
                             "group memberships")},
    reads=reads,
    diff=diff,
    steps=(Step("group adds", ("group",), ("add",), apply_adds),
           Step("group removals", ("group",), ("remove",), apply_removals)),
    relations=relations,
    import_user=import_user,
    import_reads=(GROUPS,),
    audit=DirectoryAudit(_audited),
)
