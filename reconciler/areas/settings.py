"""Tenant-wide User settings (`settings.authorizationPolicy` in tenant.yaml): Graph's
`policies/authorizationPolicy`, read once, diffed member by member, written with PATCH.

`guestUserRoleId` is accepted by name (guest, restrictedGuest, member) or by the role
template id, and shown by name. A change that widens access (more people may invite guests,
guests see more, members may create more) is privileged: reviewers see it first. A nested
`defaultUserRolePermissions` change is sent as the whole object as it was read, with the
one member changed, so members the file does not manage (permissionGrantPoliciesAssigned)
are written back as they were.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.apply.context import Write
from reconciler.areas import NO_RELATIONS, Area, DirectoryAudit, Kind, Nothing, Step
from reconciler.graph import requests as api
from reconciler.live.reads import Asked, Read, ReadContext
from reconciler.plan.facts import FactKind

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser, TenantConfig
    from reconciler.live.state import LiveState, LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

POLICY = "authorizationPolicy"
# Role templates guests may be given (Graph's authorizationPolicy page), least access first.
GUEST_ROLES = {"restrictedGuest": "2af84b1e-32c8-42b7-82bc-daa82404023b",
               "guest": "10dae51f-b6af-4016-8d66-8c2a99b929b3",
               "member": "a0b1b346-4d3e-4e8b-98f8-753987be4970"}
# allowInvitesFrom, from the most restrictive to the most inclusive.
INVITES = ("none", "adminsAndGuestInviters", "adminsGuestInvitersAndAllMembers", "everyone")
USER_PERMISSIONS = "defaultUserRolePermissions"


def guest_role_id(value: str) -> str:
    return GUEST_ROLES.get(value, value).lower()


def guest_role_name(role_id: str | None) -> str | None:
    if role_id is None:
        return None
    return next((name for name, known in GUEST_ROLES.items() if known == role_id.lower()),
                role_id)


def _widens(member: str, before: Any, after: Any) -> bool:
    """Whether going from `before` to `after` lets more people do or see more."""
    if member == "allowInvitesFrom":
        return before in INVITES and after in INVITES and \
            INVITES.index(after) > INVITES.index(before)
    if member == "guestUserRoleId":
        order = list(GUEST_ROLES)
        return before in order and after in order and order.index(after) > order.index(before)
    return before is False and after is True


def _read_policy(ctx: ReadContext, _asked: Asked) -> None:
    policy = ctx.graph.get(api.get_authorization_policy().path)
    ctx.state.authorization_policy = {k: v for k, v in policy.items() if not k.startswith("@")}


# The tenant's User settings: policies/authorizationPolicy, one GET.
AUTHORIZATION_POLICY = Read("authorizationPolicy", _read_policy)


def tenant_reads(config: TenantConfig) -> set[Read]:
    return {AUTHORIZATION_POLICY} if POLICY in config.settings else set()


def plan_tenant(ctx: PlanContext) -> None:
    wanted = ctx.desired.config.settings.get(POLICY)
    live = ctx.live.authorization_policy
    if not wanted or live is None:
        return
    for member, value in wanted.items():
        if member == USER_PERMISSIONS:
            current = dict(live.get(USER_PERMISSIONS) or {})
            for name, flag in value.items():
                _member(ctx, f"{USER_PERMISSIONS}.{name}", current.get(name), flag,
                        {USER_PERMISSIONS: {**current, name: flag}})
        elif member == "guestUserRoleId":
            _member(ctx, member, guest_role_name(live.get(member)),
                    guest_role_name(guest_role_id(value)), {member: guest_role_id(value)})
        else:
            _member(ctx, member, live.get(member), value, {member: value})


def _member(ctx: PlanContext, member: str, before: Any, after: Any,
            body: dict[str, Any]) -> None:
    if before == after:
        return
    short = member.rpartition(".")[2]
    ctx.add_tenant("tenantSetting", "change", f"{POLICY}.{member}", before, after,
                   apply={"body": body, "widens": _widens(short, before, after)},
                   facts=[f"{POLICY}:"])


def _policy_fact(live: LiveState, _rest: str) -> Any:
    return live.authorization_policy


def _landed(ctx: ApplyContext, body: dict[str, Any]) -> bool:
    current = ctx.graph.get(api.get_authorization_policy().path)
    return all(current.get(k) == v for k, v in body.items())


def apply_settings(ctx: ApplyContext, changes: list[Change]) -> None:
    """One PATCH per top-level member; the changes to members of the nested object go
    together in one PATCH of the whole object (each change's body carries it as read)."""
    grouped: dict[str, tuple[list[Change], dict[str, Any]]] = {}
    for change in changes:
        for member, value in change.apply["body"].items():
            carried, body = grouped.setdefault(member, ([], {}))
            carried.append(change)
            if isinstance(value, dict):
                target = change.target or ""
                name = target.rpartition(".")[2]
                merged = body.get(member) or dict(value)
                merged[name] = value[name]
                body[member] = merged
            else:
                body[member] = value
    for carried, body in grouped.values():
        ctx.send(Write(carried, api.update_authorization_policy(body),
                       recheck=lambda b=body: _landed(ctx, b)))


def _audited(record: dict[str, Any], change: Change, _user_id: str) -> bool:
    return record.get("activityDisplayName") == "Update authorization policy"


def reads(_user: DesiredUser) -> set[Read]:
    return set()


def diff(_ctx: PlanContext, _user: DesiredUser, _live: LiveUser | None) -> None:
    """Nothing per user: the section is tenant.yaml's (plan_tenant)."""


def _import(_user: LiveUser, _state: LiveState) -> dict[str, Any]:
    return {}


AREA = Area(
    name="settings",
    keys=("settings",),
    kinds=(Kind("tenantSetting", 5, label="settings", heading="user settings", quoted=True,
                label_target=True, privileged=lambda change: bool(change.apply.get("widens"))),),
    facts={POLICY: FactKind(_policy_fact, lambda _rest, _subject: "the tenant's authorization "
                                                                  "policy")},
    reads=reads,
    diff=diff,
    steps=(Step("tenant settings", ("tenantSetting",), ("change",), apply_settings),),
    relations=NO_RELATIONS,
    import_user=Nothing("tenant-wide: settings live in tenant.yaml, not in user files"),
    audit=DirectoryAudit(_audited),
    tenant_reads=tenant_reads,
    plan_tenant=plan_tenant,
)

