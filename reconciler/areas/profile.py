"""Profile fields and extension attributes: one PATCH per user."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.apply.context import Write
from reconciler.areas import Step
from reconciler.areas.values import empty, same, to_graph
from reconciler.graph import requests as api
from reconciler.graph.properties import SYNC_MASTERED

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser
    from reconciler.live.state import LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

KEYS = ("profile", "extensionAttributes")
SIGN_IN_FIELDS = ("accountEnabled", "employeeHireDate", "employeeLeaveDateTime")
EXTENSIONS = "onPremisesExtensionAttributes"


def needs(user: DesiredUser) -> set[str]:
    return set()


def _op(before: Any, after: Any) -> str:
    if empty(before):
        return "add"
    return "remove" if empty(after) else "change"


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    already_set = ctx.patch_after_create.get(user.upn.lower())
    if live is None and already_set is None:
        return  # a new user gets its profile in the create request
    props = live.props if live else {}
    user_id = live.id if live else None
    owned = SIGN_IN_FIELDS if user.sign_in is not None else ()
    for field, desired in user.profile.items():
        if field in owned:
            continue  # the signIn area writes these (blockAt owns the leave date and block)
        if live is None and (field in (already_set or ()) or desired is None):
            continue
        current = props.get(field)
        if live is not None and same(field, desired, current):
            ctx.unchanged(user)
            continue
        if live is not None and live.synced and field in SYNC_MASTERED:
            ctx.error(user, ("profile", field),
                      f"{user.upn} is synced from on-premises Active Directory "
                      "(onPremisesSyncEnabled): change this field there; nothing is sent")
            continue
        ctx.add(user, "profile", _op(current, desired), field, current, desired,
                apply={"field": field, "value": to_graph(field, desired)},
                facts=[f"profile:{user_id}:{field}"] if user_id else [])
    current_extensions = props.get(EXTENSIONS) or {}
    mastered = bool(live and (live.synced or props.get("onPremisesImmutableId")))
    for name, desired in user.extension_attributes.items():
        current = current_extensions.get(name)
        if live is not None and same(name, desired, current):
            ctx.unchanged(user)
            continue
        if mastered:
            ctx.error(user, ("extensionAttributes", name),
                      f"{user.upn} is or was synced from on-premises: extension attributes "
                      "are read-only in the cloud; change them in Active Directory")
            continue
        ctx.add(user, "extensionAttribute", _op(current, desired), name, current, desired,
                apply={"field": name, "value": desired},
                facts=[f"profile:{user_id}:{EXTENSIONS}"] if user_id else [])


def _body(changes: list[Change]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for change in changes:
        if change.kind == "extensionAttribute":
            body.setdefault(EXTENSIONS, {})[change.apply["field"]] = change.apply["value"]
        else:
            body[change.apply["field"]] = change.apply["value"]
    return body


def _landed(ctx: ApplyContext, user_id: str, body: dict[str, Any]) -> bool:
    current = ctx.graph.get(api.get_user(user_id, ",".join(body)).path)
    for field, value in body.items():
        if field == EXTENSIONS:
            stored = current.get(EXTENSIONS) or {}
            if not all(same(k, v, stored.get(k)) for k, v in value.items()):
                return False
        elif not same(field, value, current.get(field)):
            return False
    return True


def apply_profile(ctx: ApplyContext, changes: list[Change]) -> None:
    by_user = ctx.by_user(changes)
    writes = []
    for upn, user_changes in sorted(by_user.items()):
        user_id = ctx.user_id(upn)
        body = _body(user_changes)
        writes.append(Write(user_changes, api.update_user(user_id, body),
                            recheck=lambda u=user_id, b=body: _landed(ctx, u, b)))
    ctx.send_batched(writes)


STEPS = [Step(10, ("profile", "extensionAttribute"), ("add", "change", "remove"),
              apply_profile)]
