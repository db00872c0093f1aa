"""Who may see a user's primary calendar: Graph calendarPermissions, per mailbox in turn.

The default ("My Organization") entry cannot be removed and is left as it is."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.apply.context import Write
from reconciler.areas import Area, Kind, Nothing, Step
from reconciler.areas.mailboxes import mailbox_ready
from reconciler.graph import requests as api
from reconciler.live.reads import Collection, PerUser
from reconciler.plan.context import window_note
from reconciler.plan.facts import of_user

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser
    from reconciler.live.reads import Read
    from reconciler.live.state import LiveState, LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

EXCHANGE_DEFAULT_ROLE = "freeBusyRead"
DELEGATE_ROLES = ("delegateWithoutPrivateEventAccess", "delegateWithPrivateEventAccess")


def reads(user: DesiredUser) -> set[Read]:
    if not user.manages("calendar.permissions"):
        return set()
    return {Collection.MAILBOXES, PerUser.CALENDAR}


def _inside(ctx: PlanContext, address: str) -> bool:
    return ctx.live.user_by_mail(address) is not None or address.lower() in ctx.creating


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    if not user.manages("calendar.permissions") or not mailbox_ready(
            ctx, user, live, ("calendar", "permissions")):
        return
    assert live is not None
    facts = [f"calendar:{live.id}"]
    entries = live.calendar or []
    current: dict[str, dict[str, Any]] = {}
    for entry in entries:
        address = (entry.get("emailAddress") or {}).get("address")
        if not entry.get("isRemovable", True) or not address:
            if entry.get("role") != EXCHANGE_DEFAULT_ROLE:
                ctx.note(user, "calendarPermission", "My Organization",
                         f"the organization-wide entry is '{entry.get('role')}'; it cannot be "
                         "removed and is left as it is")
            continue
        current[address.lower()] = entry
    wanted: set[str] = set()
    for permission in user.calendar_permissions:
        address = permission.user.lower()
        if not ctx.in_force(user, "calendarPermission", address, permission.window):
            continue
        wanted.add(address)
        existing = current.get(address)
        if existing is None:
            if permission.role in DELEGATE_ROLES and not _inside(ctx, address):
                ctx.error(user, (*permission.path, "role"), f"{permission.role} is only for "
                          f"people inside the organization; {address} is not")
                continue
            ctx.add(user, "calendarPermission", "add", address, None,
                    {"user": address, "role": permission.role},
                    apply={"address": address, "role": permission.role},
                    note=window_note(permission.window), facts=facts)
        elif existing.get("role") != permission.role:
            if permission.role not in (existing.get("allowedRoles") or [permission.role]):
                ctx.error(user, (*permission.path, "role"), f"{address} can be given "
                          f"{', '.join(existing['allowedRoles'])} only")
                continue
            ctx.add(user, "calendarPermission", "change", address,
                    {"user": address, "role": existing.get("role")},
                    {"user": address, "role": permission.role},
                    apply={"address": address, "role": permission.role, "id": existing["id"]},
                    facts=facts)
        else:
            ctx.unchanged(user)
    for address in sorted(set(current) - wanted):
        if ctx.authoritative or ctx.expired(user, "calendarPermission", address):
            ctx.add(user, "calendarPermission", "remove", address,
                    {"user": address, "role": current[address].get("role")}, None,
                    apply={"address": address, "id": current[address]["id"]}, facts=facts)


def _request(ctx: ApplyContext, change: Change) -> Write:
    user_id, detail = ctx.user_id(change.user), change.apply
    if change.op == "add":
        return Write([change], api.add_calendar_permission(user_id, detail["address"],
                                                           detail["address"], detail["role"]),
                     already=lambda e: e.status == 409)
    if change.op == "change":
        return Write([change], api.update_calendar_permission(user_id, detail["id"],
                                                              detail["role"]))
    return Write([change], api.remove_calendar_permission(user_id, detail["id"]),
                 already=lambda e: e.status == 404)


def apply_calendar(ctx: ApplyContext, changes: list[Change]) -> None:
    """Mailboxes in parallel, one request at a time per mailbox (Outlook's limit is 4)."""
    by_mailbox = ctx.by_user(changes)
    ctx.graph.map(lambda group: [ctx.send(_request(ctx, c)) for c in group],
                  list(by_mailbox.values()))


def _grants(user: LiveUser, _live: LiveState, _detail: str) -> Any:
    return sorted(((e.get("emailAddress") or {}).get("address") or "", e.get("role") or "")
                  for e in user.calendar or [])


def relations(_user: DesiredUser, current: LiveUser, _live: LiveState) -> int:
    return len(current.calendar or [])


def import_user(user: LiveUser, _state: LiveState) -> dict[str, Any]:
    calendar = [{"user": e["emailAddress"]["address"], "role": e["role"]}
                for e in user.calendar or [] if e.get("isRemovable", True)
                and (e.get("emailAddress") or {}).get("address")]
    if not calendar:
        return {}
    return {"calendar": {"permissions": sorted(calendar, key=lambda p: p["user"])}}


AREA = Area(
    name="calendar",
    keys=("calendar",),
    kinds=(Kind("calendarPermission", 120, label="calendarPermission",
                heading="calendar permissions", relation=True,
                show=lambda grant: f"{grant['user']}: {grant['role']}"),),
    facts={"calendar": of_user(_grants, "calendar permissions")},
    reads=reads,
    diff=diff,
    steps=(Step("calendar grants", ("calendarPermission",), ("add", "change"),
                apply_calendar),
           Step("calendar removals", ("calendarPermission",), ("remove",), apply_calendar)),
    relations=relations,
    import_user=import_user,
    audit=Nothing("calendar sharing is written through Outlook, which keeps no admin audit"),
    plans_after=("user", "licenses"),  # delegates may be created; mailbox_ready
)
