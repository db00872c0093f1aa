"""Who may see a user's primary calendar: Graph calendarPermissions, per mailbox in turn.

The default ("My Organization") entry cannot be removed and is left as it is."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.apply.context import Write
from reconciler.areas import Step
from reconciler.areas.mailboxes import mailbox_ready
from reconciler.graph import requests as api
from reconciler.plan.context import window_note

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser
    from reconciler.live.state import LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

KEYS = ("calendar",)
EXCHANGE_DEFAULT_ROLE = "freeBusyRead"
DELEGATE_ROLES = ("delegateWithoutPrivateEventAccess", "delegateWithPrivateEventAccess")


def needs(user: DesiredUser) -> set[str]:
    return {"mailboxes", "user:calendar"} if user.manages("calendar.permissions") else set()


def _inside(ctx: PlanContext, address: str) -> bool:
    return ctx.live.user_by_mail(address) is not None or address.lower() in ctx.creating


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    if not user.manages("calendar.permissions") or not mailbox_ready(
            ctx, user, live, ("calendar", "permissions")):
        return
    assert live is not None
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
        target = f"{address}: {permission.role}"
        if not ctx.in_force(user, "calendarPermission", address, permission.window):
            continue
        wanted.add(address)
        existing = current.get(address)
        if existing is None:
            if permission.role in DELEGATE_ROLES and not _inside(ctx, address):
                ctx.error(user, (*permission.path, "role"), f"{permission.role} is only for "
                          f"people inside the organization; {address} is not")
                continue
            ctx.add(user, "calendarPermission", "add", address, None, target,
                    apply={"address": address, "role": permission.role},
                    note=window_note(permission.window))
        elif existing.get("role") != permission.role:
            if permission.role not in (existing.get("allowedRoles") or [permission.role]):
                ctx.error(user, (*permission.path, "role"), f"{address} can be given "
                          f"{', '.join(existing['allowedRoles'])} only")
                continue
            ctx.add(user, "calendarPermission", "change", address,
                    f"{address}: {existing.get('role')}", target,
                    apply={"address": address, "role": permission.role, "id": existing["id"]})
        else:
            ctx.unchanged(user)
    for address in sorted(set(current) - wanted):
        if ctx.authoritative or ctx.expired(user, "calendarPermission", address):
            ctx.add(user, "calendarPermission", "remove", address,
                    f"{address}: {current[address].get('role')}", None,
                    apply={"address": address, "id": current[address]["id"]})


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


STEPS = [
    Step(76, ("calendarPermission",), ("add", "change"), apply_calendar),
    Step(84, ("calendarPermission",), ("remove",), apply_calendar),
]
