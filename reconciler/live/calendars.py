"""Reading named calendars (Graph) and the Exchange rights behind `custom` entries.

Graph lists a mailbox's calendars and each one's calendarPermissions, but shows a folder
permission it has no role for (Exchange's Owner, PublishingEditor...) as `custom`. For
those mailboxes only, Get-MailboxFolderPermission says which rights the entry holds; its
rows name the user by display name, matched to Graph's `emailAddress.name` (or address).
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.graph import requests as api
from reconciler.graph.batch import BatchItem, run_batch
from reconciler.graph.client import GraphClient
from reconciler.graph.exchange import ExchangeClient
from reconciler.live.mailboxes import CALENDAR, MAILBOXES
from reconciler.live.reads import Asked, Read, ReadContext
from reconciler.live.state import LiveState, LiveUser

PRIMARY = ""  # folder_rights key of the default calendar


def folder_identity(user: LiveUser, calendar: str) -> str:
    """`<upn>:\\<default calendar>[\\<name>]`, the default calendar's name as Graph gives it
    (localized mailboxes name it Kalender, Calendrier...)."""
    default = next((c["name"] for c in (user.calendars or {}).values()
                    if c.get("isDefaultCalendar")), "Calendar")
    return f"{user.upn}:\\{default}" + (f"\\{calendar}" if calendar else "")


def read_calendars(graph: GraphClient, state: LiveState, upns: Iterable[str]) -> None:
    """Each mailbox's calendars, then every named calendar's permissions (batched)."""
    users = [u for u in (state.user_by_upn(upn) for upn in sorted(set(upns)))
             if u is not None and u.mailbox is not None]
    if not users:
        return
    listed = run_batch(graph, [BatchItem(u.id, "GET", api.list_calendars(u.id).path)
                               for u in users])
    items: list[BatchItem] = []
    wanted: dict[str, tuple[LiveUser, str]] = {}
    for user in users:
        result = listed[user.id]
        if not result.ok:
            raise result.error
        user.calendars = {}
        for calendar in result.body.get("value", []):
            user.calendars[calendar["name"].lower()] = {**calendar, "permissions": []}
            if not calendar.get("isDefaultCalendar"):
                key = str(len(items))
                wanted[key] = (user, calendar["name"].lower())
                items.append(BatchItem(key, "GET", api.list_named_calendar_permissions(
                    user.id, calendar["id"]).path))
    if items:
        for key, result in run_batch(graph, items).items():
            if not result.ok:
                raise result.error
            user, name = wanted[key]
            assert user.calendars is not None
            user.calendars[name]["permissions"] = list(result.body.get("value", []))


def read_folder_rights(exchange: ExchangeClient, state: LiveState) -> None:
    """Exchange rights of every `custom` entry Graph showed, per calendar folder."""
    for user in state.users.values():
        folders: list[tuple[str, list[dict]]] = [(PRIMARY, user.calendar or [])]
        folders += [(name, c["permissions"]) for name, c in (user.calendars or {}).items()
                    if not c.get("isDefaultCalendar")]
        for name, entries in folders:
            if not any(e.get("role") == "custom" for e in entries):
                continue
            calendar = (user.calendars or {}).get(name, {}).get("name", name) if name else ""
            rows = exchange.invoke("Get-MailboxFolderPermission",
                                   {"Identity": folder_identity(user, calendar)},
                                   anchor=user.upn)
            rights = {str(r.get("User") or "").lower(): list(r.get("AccessRights") or [])
                      for r in rows}
            if user.folder_rights is None:
                user.folder_rights = {}
            user.folder_rights[name] = rights


def exchange_role(user: LiveUser, calendar: str, entry: dict) -> str:
    """An entry's role, with `custom` resolved to `owner` when Exchange says Owner."""
    role = str(entry.get("role") or "")
    if role != "custom":
        return role
    rights = (user.folder_rights or {}).get(calendar, {})
    email = entry.get("emailAddress") or {}
    found = rights.get(str(email.get("name") or "").lower()) or \
        rights.get(str(email.get("address") or "").lower())
    return "owner" if found == ["Owner"] else "custom"


def _read_calendars(ctx: ReadContext, asked: Asked) -> None:
    read_calendars(ctx.graph, ctx.state, (u.upn for u in asked.users))


def _read_folder_rights(ctx: ReadContext, _asked: Asked) -> None:
    if ctx.exchange is not None:
        read_folder_rights(ctx.exchange, ctx.state)


# Each mailbox's calendars and every named calendar's permissions (two batched rounds).
CALENDARS = Read("calendars", _read_calendars, needs=(MAILBOXES,), per_user=True)
# The Exchange rights behind `custom` entries of the calendars read (CALENDAR, CALENDARS).
FOLDER_RIGHTS = Read("folderRights", _read_folder_rights, needs=(MAILBOXES, CALENDAR, CALENDARS))
