"""Profile fields and extension attributes: one PATCH per user."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from reconciler.apply.context import Write
from reconciler.areas import NO_RELATIONS, Area, DirectoryAudit, Kind, Step
from reconciler.areas.values import empty, same, to_graph
from reconciler.desired.schema import load_schema
from reconciler.graph import requests as api
from reconciler.graph.properties import SYNC_MASTERED
from reconciler.plan.facts import FactKind

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser
    from reconciler.live.reads import Read
    from reconciler.live.state import LiveState, LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

SIGN_IN_FIELDS = ("accountEnabled", "employeeHireDate", "employeeLeaveDateTime")
EXTENSIONS = "onPremisesExtensionAttributes"


# The admin portal's grouping of profile fields; plans list changes in this order.
PROFILE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "identity": ("displayName", "givenName", "surname", "mailNickname", "mail", "otherMails",
                 "userType"),
    "job information": ("jobTitle", "department", "companyName", "employeeId", "employeeType",
                        "employeeHireDate", "employeeLeaveDateTime", "employeeOrgData",
                        "officeLocation"),
    "contact information": ("streetAddress", "city", "state", "postalCode", "country",
                            "businessPhones", "mobilePhone", "faxNumber"),
    "parental controls": ("ageGroup", "consentProvidedForMinor"),
    "settings": ("usageLocation", "preferredLanguage", "showInAddressList", "accountEnabled"),
}
PROFILE_ORDER = tuple(f for fields in PROFILE_CATEGORIES.values() for f in fields)


def profile_category(field: str) -> str:
    return next((c for c, fields in PROFILE_CATEGORIES.items() if field in fields), "settings")


def reads(_user: DesiredUser) -> set[Read]:
    return set()  # the user listing carries every profile field


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


# Import: YAML spellings of Graph's enums, and values a new user gets anyway.
ENUMS = {"ageGroup": ("minor", "notAdult", "adult"),
         "consentProvidedForMinor": ("granted", "denied", "notRequired")}
DEFAULTS = {"accountEnabled": True, "userType": "Member", "showInAddressList": None}
MIDNIGHT = re.compile(r"\d{4}-\d{2}-\d{2}T00:00:00(\.0+)?Z")


def _yaml_value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in ENUMS:
        return next((e for e in ENUMS[name] if e.lower() == str(value).lower()), value)
    if name in ("employeeHireDate", "employeeLeaveDateTime") and isinstance(value, str):
        return value[:10] if MIDNIGHT.fullmatch(value) else value
    return value


def import_user(user: LiveUser, _state: LiveState) -> dict[str, Any]:
    """Non-default profile fields the schema knows, and cloud-mastered extension
    attributes."""
    doc: dict[str, Any] = {}
    profile = {}
    fields = load_schema("user")["$defs"]["profile"]["properties"]
    for name in PROFILE_ORDER:
        if name not in fields:
            continue
        value = _yaml_value(name, user.props.get(name))
        if value in (None, "", [], {}) or DEFAULTS.get(name, object()) == value:
            continue
        profile[name] = value
    if profile:
        doc["profile"] = profile
    extensions = {k: v for k, v in (user.props.get(EXTENSIONS) or {}).items() if v}
    if extensions and not (user.synced or user.props.get("onPremisesImmutableId")):
        doc["extensionAttributes"] = dict(sorted(extensions.items(),
                                                 key=lambda kv: int(kv[0][18:])))
    return doc


def _audited(record: dict[str, Any], change: Change, user_id: str) -> bool:
    """An "Update user" record on this user naming the field among its modified
    properties."""
    targets = record.get("targetResources") or []
    activity = str(record.get("activityDisplayName") or "").lower()
    if activity not in ("update user", "remove manager") or not any(
            t.get("id") == user_id for t in targets):
        return False
    names = {str(p.get("displayName") or "").lower() for t in targets
             for p in t.get("modifiedProperties") or []}
    return str(change.target).lower() in names or (
        change.kind == "extensionAttribute" and EXTENSIONS.lower() in names)


def _profile_order(change: Change) -> int:
    return PROFILE_ORDER.index(change.target) if change.target in PROFILE_ORDER else 99


def _disables(change: Change) -> bool:
    """Blocking or enabling sign-in (an enabled account is one more way in)."""
    return change.target == "accountEnabled"


def _read_field(live: LiveState, rest: str) -> Any:
    user_id, _, field = rest.partition(":")
    user = live.users.get(user_id)
    return None if user is None else user.props.get(field)


FACTS = {
    # one profile field (extension attributes: the whole onPremisesExtensionAttributes)
    "profile": FactKind(_read_field,
                        lambda rest, subject: f"{subject}: profile.{rest.split(':', 1)[-1]}"),
}

AREA = Area(
    name="profile",
    keys=("profile", "extensionAttributes"),
    kinds=(Kind("profile", 10, label="profile", label_target=True, heading="settings",
                heading_of=profile_category, quoted=True, privileged=_disables,
                order=_profile_order),
           Kind("extensionAttribute", 40, label="extensionAttributes", label_target=True,
                heading="extension attributes", quoted=True)),
    facts=FACTS,
    reads=reads,
    diff=diff,
    steps=(Step("profile", ("profile", "extensionAttribute"), ("add", "change", "remove"),
                apply_profile),),
    relations=NO_RELATIONS,
    import_user=import_user,
    audit=DirectoryAudit(_audited),
    plans_after=("user",),  # a created user's profile goes in its create request
)
