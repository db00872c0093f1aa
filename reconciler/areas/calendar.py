"""Who may see a user's calendars: the primary one and named ones (`calendar.calendars`),
through Graph's calendarPermissions, per mailbox in turn; `owner` through Exchange.

Graph's roles stop below Exchange's Owner, so `role: owner` is written with
Add/Set-MailboxFolderPermission (`<upn>:\\Calendar[\\<name>]`), and read back from Graph's
`custom` entries resolved with Get-MailboxFolderPermission. Changing an owner to another
role and removing one go through Graph. A named calendar that does not exist is created
(POST users/{id}/calendars); none is ever deleted. The organization's default ("My
Organization") and anonymous entries are never planned."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.apply.context import APPLIED, FAILED, Write, failure
from reconciler.areas import Area, Kind, Nothing, Step
from reconciler.areas.mailboxes import mailbox_ready
from reconciler.graph import requests as api
from reconciler.graph.errors import GraphError
from reconciler.live.calendars import (
    CALENDARS,
    FOLDER_RIGHTS,
    PRIMARY,
    exchange_role,
    folder_identity,
)
from reconciler.live.mailboxes import CALENDAR
from reconciler.plan.context import window_note
from reconciler.plan.facts import of_user

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import CalendarPermission, DesiredUser
    from reconciler.live.reads import Read
    from reconciler.live.state import LiveState, LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext

EXCHANGE_DEFAULT_ROLE = "freeBusyRead"
DELEGATE_ROLES = ("delegateWithoutPrivateEventAccess", "delegateWithPrivateEventAccess")


def reads(user: DesiredUser) -> set[Read]:
    wanted: set[Read] = set()
    if user.manages("calendar.permissions"):
        wanted |= {CALENDAR, FOLDER_RIGHTS}
    owner = any(p.role == "owner" for p in user.calendar_permissions)
    if user.manages("calendar.calendars") or owner:
        wanted |= {CALENDAR, CALENDARS, FOLDER_RIGHTS}
    return wanted


def _inside(ctx: PlanContext, address: str) -> bool:
    return ctx.live.user_by_mail(address) is not None or address.lower() in ctx.creating


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    managed = [k for k in ("calendar.permissions", "calendar.calendars") if user.manages(k)]
    if not managed or not mailbox_ready(ctx, user, live, ("calendar", managed[0].split(".")[1])):
        return
    assert live is not None
    if user.manages("calendar.permissions"):
        _calendar(ctx, user, live, PRIMARY, None, live.calendar or [],
                  user.calendar_permissions)
    for name, permissions in user.calendars.items():
        found = (live.calendars or {}).get(name.lower())
        if found is not None and found.get("isDefaultCalendar"):
            ctx.error(user, ("calendar", "calendars", name), f"'{name}' is the primary "
                      "calendar: manage it with calendar.permissions")
            continue
        if found is None:
            ctx.add(user, "calendar", "add", name, None, name, apply={"name": name},
                    facts=[f"calendar:{live.id}"])
        _calendar(ctx, user, live, name, found, (found or {}).get("permissions") or [],
                  permissions)


def _calendar(ctx: PlanContext, user: DesiredUser, live: LiveUser, name: str,
              found: dict[str, Any] | None, entries: list[dict[str, Any]],
              permissions: list[CalendarPermission]) -> None:
    """One calendar's permissions (the primary when `name` is empty); its default and
    anonymous entries are never planned."""
    facts = [f"calendar:{live.id}"]
    prefix = f"{name}: " if name else ""
    where = {"calendar": name, "calendarId": (found or {}).get("id")} if name else {}
    current: dict[str, dict[str, Any]] = {}
    for entry in entries:
        address = (entry.get("emailAddress") or {}).get("address")
        if not entry.get("isRemovable", True) or not address:
            if not name and entry.get("role") != EXCHANGE_DEFAULT_ROLE:
                ctx.note(user, "calendarPermission", "My Organization",
                         f"the organization-wide entry is '{entry.get('role')}'; it cannot be "
                         "removed and is left as it is")
            continue
        current[address.lower()] = {**entry, "role": exchange_role(live, name.lower(), entry)}
    wanted: set[str] = set()
    for permission in permissions:
        address = permission.user.lower()
        target = prefix + address
        if not ctx.in_force(user, "calendarPermission", target, permission.window):
            continue
        wanted.add(address)
        existing = current.get(address)
        shown = {"user": address, "role": permission.role, **({"calendar": name} if name else {})}
        via = {"via": "exchange"} if permission.role == "owner" else {}
        if existing is None:
            if permission.role in (*DELEGATE_ROLES, "owner") and not _inside(ctx, address):
                ctx.error(user, (*permission.path, "role"), f"{permission.role} is only for "
                          f"people inside the organization; {address} is not")
                continue
            ctx.add(user, "calendarPermission", "add", target, None, shown,
                    apply={"address": address, "role": permission.role, **where, **via},
                    note=window_note(permission.window), facts=facts)
        elif existing.get("role") != permission.role:
            allowed = existing.get("allowedRoles") or [permission.role]
            if permission.role not in (*allowed, "owner") or (
                    permission.role == "owner" and not existing.get("isInsideOrganization",
                                                                    True)):
                ctx.error(user, (*permission.path, "role"), f"{address} can be given "
                          f"{', '.join(allowed)} only")
                continue
            ctx.add(user, "calendarPermission", "change", target,
                    {**shown, "role": existing.get("role")}, shown,
                    apply={"address": address, "role": permission.role, "id": existing["id"],
                           **where, **via}, facts=facts)
        else:
            ctx.unchanged(user)
    for address in sorted(set(current) - wanted):
        if ctx.authoritative or ctx.expired(user, "calendarPermission", prefix + address):
            ctx.add(user, "calendarPermission", "remove", prefix + address,
                    {"user": address, "role": current[address].get("role"),
                     **({"calendar": name} if name else {})}, None,
                    apply={"address": address, "id": current[address]["id"], **where},
                    facts=facts)


def _calendar_id(ctx: ApplyContext, change: Change) -> str | None:
    """The named calendar's id: planned, or created earlier in this apply."""
    detail = change.apply
    return detail.get("calendarId") or _created(ctx).get(
        (change.user.lower(), str(detail.get("calendar")).lower()))


def _created(ctx: ApplyContext) -> dict[tuple[str, str], str]:
    return ctx.__dict__.setdefault("_created_calendars", {})


def _request(ctx: ApplyContext, change: Change, calendar_id: str | None) -> Write:
    user_id, detail = ctx.user_id(change.user), change.apply
    assert user_id is not None
    named = detail.get("calendar")
    if change.op == "add":
        request = api.add_named_calendar_permission(
            user_id, calendar_id or "", detail["address"], detail["address"],
            detail["role"]) if named else api.add_calendar_permission(
            user_id, detail["address"], detail["address"], detail["role"])
        return Write([change], request, already=lambda e: e.status == 409)
    if change.op == "change":
        request = api.update_named_calendar_permission(
            user_id, calendar_id or "", detail["id"], detail["role"]) if named else \
            api.update_calendar_permission(user_id, detail["id"], detail["role"])
        return Write([change], request)
    request = api.remove_named_calendar_permission(user_id, calendar_id or "", detail["id"]) \
        if named else api.remove_calendar_permission(user_id, detail["id"])
    return Write([change], request, already=lambda e: e.status == 404)


def _folder(ctx: ApplyContext, change: Change) -> str:
    live = ctx.live.user_by_upn(change.user)
    assert live is not None
    return folder_identity(live, str(change.apply.get("calendar") or ""))


def _owner(ctx: ApplyContext, change: Change) -> None:
    """Owner through Exchange (Graph's roles stop below it): Add, or Set over an entry."""
    cmdlet = "Add-MailboxFolderPermission" if change.op == "add" else \
        "Set-MailboxFolderPermission"
    params = {"Identity": _folder(ctx, change), "User": change.apply["address"],
              "AccessRights": ["Owner"]}
    try:
        ctx.exchange.run(cmdlet, params, anchor=change.user)
    except GraphError as error:
        if "UserAlreadyExistsInPermissionEntry" in (error.code or "") and cmdlet.startswith(
                "Add"):
            try:
                ctx.exchange.run("Set-MailboxFolderPermission", params, anchor=change.user)
            except GraphError as second:
                ctx.record(change, failure(second), str(second))
                return
            ctx.record(change, APPLIED)
            return
        ctx.record(change, failure(error), str(error))
        return
    ctx.record(change, APPLIED)


def _one(ctx: ApplyContext, change: Change) -> None:
    if change.apply.get("via") == "exchange":
        _owner(ctx, change)
        return
    calendar_id = _calendar_id(ctx, change) if change.apply.get("calendar") else None
    if change.apply.get("calendar") and calendar_id is None:
        ctx.record(change, FAILED, f"the calendar '{change.apply['calendar']}' was not created")
        return
    ctx.send(_request(ctx, change, calendar_id))


def apply_calendar(ctx: ApplyContext, changes: list[Change]) -> None:
    """Mailboxes in parallel, one request at a time per mailbox (Outlook's limit is 4)."""
    by_mailbox = ctx.by_user(changes)
    ctx.graph.map(lambda group: [_one(ctx, c) for c in group], list(by_mailbox.values()))


def _create(ctx: ApplyContext, change: Change) -> None:
    user_id = ctx.user_id(change.user)
    assert user_id is not None
    name = change.apply["name"]
    result = ctx.send(Write([change], api.create_calendar(user_id, {"name": name}),
                            already=lambda e: e.status == 409))
    created = result.body.get("id") if result.ok and isinstance(result.body, dict) else None
    if created is None and result.ok:  # already there: find its id
        listed = ctx.graph.list(api.list_calendars(user_id).path)
        created = next((c["id"] for c in listed if c["name"].lower() == name.lower()), None)
    if created:
        _created(ctx)[(change.user.lower(), name.lower())] = created


def apply_create(ctx: ApplyContext, changes: list[Change]) -> None:
    """Named calendars that do not exist yet, before their permissions."""
    by_mailbox = ctx.by_user(changes)
    ctx.graph.map(lambda group: [_create(ctx, c) for c in group], list(by_mailbox.values()))


def _grants(user: LiveUser, _live: LiveState, _detail: str) -> Any:
    named = sorted((name, sorted(((e.get("emailAddress") or {}).get("address") or "",
                                  e.get("role") or "") for e in c.get("permissions") or []))
                   for name, c in (user.calendars or {}).items())
    return [sorted(((e.get("emailAddress") or {}).get("address") or "", e.get("role") or "")
                   for e in user.calendar or []), named,
            sorted((k, sorted(v.items())) for k, v in (user.folder_rights or {}).items())]


def relations(_user: DesiredUser, current: LiveUser, _live: LiveState) -> int:
    return len(current.calendar or []) + sum(
        len(c.get("permissions") or []) for c in (current.calendars or {}).values())


def _imported(user: LiveUser, name: str, entries: list[dict[str, Any]]) -> list[dict]:
    """Removable entries with a role the format has (a `custom` one other than Owner is
    left out: the file cannot say it)."""
    out = []
    for entry in entries:
        address = (entry.get("emailAddress") or {}).get("address")
        role = exchange_role(user, name, entry)
        if entry.get("isRemovable", True) and address and role != "custom":
            out.append({"user": address, "role": role})
    return sorted(out, key=lambda p: p["user"])


def import_user(user: LiveUser, _state: LiveState) -> dict[str, Any]:
    out: dict[str, Any] = {}
    permissions = _imported(user, PRIMARY, user.calendar or [])
    if permissions:
        out["permissions"] = permissions
    named = {c["name"]: _imported(user, key, c.get("permissions") or [])
             for key, c in sorted((user.calendars or {}).items())
             if not c.get("isDefaultCalendar")}
    if named:
        out["calendars"] = named
    return {"calendar": out} if out else {}


AREA = Area(
    name="calendar",
    keys=("calendar",),
    kinds=(Kind("calendar", 118, label="calendar", heading="calendars"),
           Kind("calendarPermission", 120, label="calendarPermission",
                heading="calendar permissions", relation=True,
                show=lambda grant: (f"{grant['calendar']}: " if grant.get("calendar") else "")
                + f"{grant['user']}: {grant['role']}"),),
    facts={"calendar": of_user(_grants, "calendar permissions")},
    reads=reads,
    diff=diff,
    steps=(Step("calendar grants", ("calendar",), ("add",), apply_create),
           Step("calendar grants", ("calendarPermission",), ("add", "change"),
                apply_calendar),
           Step("calendar removals", ("calendarPermission",), ("remove",), apply_calendar)),
    relations=relations,
    import_user=import_user,
    import_reads=(CALENDAR, CALENDARS, FOLDER_RIGHTS),
    audit=Nothing("calendar sharing is written through Outlook, which keeps no admin audit"),
    plans_after=("user", "licenses"),  # delegates may be created; mailbox_ready
)
