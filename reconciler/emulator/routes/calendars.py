"""Emulated Graph calendars of a mailbox: `users/{id}/calendars` and each calendar's
calendarPermissions. The default calendar's permissions are the ones mail.py serves under
`users/{id}/calendar/calendarPermissions` (one store, two addresses, as in Outlook).

A permission that Exchange set to a role Graph cannot express (Owner, PublishingEditor...) is
served with `role: custom`; its Exchange rights live beside it (see exchange_folders.py).
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from reconciler.emulator import odata
from reconciler.emulator.routes import mail
from reconciler.emulator.routes.common import V1, mailbox_user, user_target
from reconciler.emulator.wire import GraphError, Request, Response, Router, bad_request

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

router = Router()
DEFAULT_NAME = "Calendar"
PRIMARY_KIND = "calendarPermission"


def primary_id(user_id: str) -> str:
    return base64.urlsafe_b64encode(f"Calendar.{user_id}".encode()).decode()


def calendars(em: Emulator, user: dict[str, Any]) -> list[dict[str, Any]]:
    """The default calendar first, then the named ones in creation order."""
    owner = {"name": user.get("displayName"),
             "address": user.get("mail") or user["userPrincipalName"]}
    default = {"id": primary_id(user["id"]), "name": DEFAULT_NAME, "color": "auto",
               "hexColor": "", "isDefaultCalendar": True, "isRemovable": False,
               "canShare": True, "canViewPrivateItems": True, "canEdit": True,
               "changeKey": "AAAAAA==", "owner": owner}
    named = [{**c, "owner": owner} for c in em.store.items(user["id"], "calendar")]
    return [default, *named]


def calendar_id(user_id: str, name: str) -> str:
    return base64.urlsafe_b64encode(f"Calendar.{user_id}.{name.lower()}".encode()).decode()


def new_calendar(calendar_id: str, name: str) -> dict[str, Any]:
    return {"id": calendar_id, "name": name, "color": "auto", "hexColor": "",
            "isDefaultCalendar": False, "isRemovable": True, "canShare": True,
            "canViewPrivateItems": True, "canEdit": True, "changeKey": "AAAAAA=="}


def permission_kind(em: Emulator, user: dict[str, Any], calendar_id: str) -> str:
    """The store kind holding one calendar's permissions (404 for an unknown calendar)."""
    if calendar_id == primary_id(user["id"]):
        return PRIMARY_KIND
    if em.store.item(user["id"], "calendar", calendar_id) is None:
        raise _not_found()
    return f"{PRIMARY_KIND}:{calendar_id}"


def permissions(em: Emulator, user_id: str, kind: str) -> list[dict[str, Any]]:
    """A calendar's permissions, the organization-wide entry first (created on first read)."""
    if kind == PRIMARY_KIND:
        return mail._permissions(em, user_id)
    items = em.store.items(user_id, kind)
    if not any(p["id"] == mail.DEFAULT_PERMISSION_ID for p in items):
        default = {"id": mail.DEFAULT_PERMISSION_ID, "isRemovable": False,
                   "isInsideOrganization": True, "role": "none",
                   "allowedRoles": mail.ORGANIZATION_ROLES,
                   "emailAddress": {"name": "My Organization", "address": None}}
        em.store.put_item(user_id, kind, mail.DEFAULT_PERMISSION_ID, default)
        items.insert(0, default)
    return items


def permission_id(address: str) -> str:
    return base64.b64encode(f"ExchangePublishedUser.{address}".encode()).decode()


def _not_found() -> GraphError:
    return GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")


@router.route("GET", V1 + "/users/{key}/calendars")
def list_calendars(em: Emulator, request: Request, key: str) -> Response:
    user = mailbox_user(em, key)
    return odata.page_response(request, calendars(em, user), None,
                               f"users('{user['id']}')/calendars")


@router.route("POST", V1 + "/users/{key}/calendars")
def create_calendar(em: Emulator, request: Request, key: str) -> Response:
    user = mailbox_user(em, key)
    body = request.json() or {}
    name = str(body.get("name") or "").strip()
    if not name:
        raise bad_request("The calendar name is required.", code="ErrorInvalidRequest")
    unknown = set(body) - {"name", "color", "hexColor"}
    if unknown:
        raise bad_request(f"The property '{sorted(unknown)[0]}' cannot be set on a new calendar.",
                          code="ErrorInvalidRequest")
    if any(c["name"].lower() == name.lower() for c in calendars(em, user)):
        raise GraphError(409, "ErrorFolderExists",
                         "A folder with the specified name already exists.")
    calendar = {**new_calendar(calendar_id(user["id"], name), name),
                "color": body.get("color", "auto")}
    em.store.put_item(user["id"], "calendar", calendar["id"], calendar)
    em.audit(request, "Create calendar", user_target(user), {"name": (None, name)},
             service="Exchange")
    created = next(c for c in calendars(em, user) if c["id"] == calendar["id"])
    return Response.of_json(201, {"@odata.context": f"{request.origin}/v1.0/$metadata#users('"
                                  f"{user['id']}')/calendars/$entity", **created})


@router.route("GET", V1 + "/users/{key}/calendars/{calendar}")
def get_calendar(em: Emulator, request: Request, key: str, calendar: str) -> Response:
    user = mailbox_user(em, key)
    found = next((c for c in calendars(em, user) if c["id"] == calendar), None)
    if found is None:
        raise _not_found()
    return Response.of_json(200, found)


@router.route("GET", V1 + "/users/{key}/calendars/{calendar}/calendarPermissions")
def list_permissions(em: Emulator, request: Request, key: str, calendar: str) -> Response:
    user = mailbox_user(em, key)
    kind = permission_kind(em, user, calendar)
    return odata.page_response(request, permissions(em, user["id"], kind), None,
                               f"users('{user['id']}')/calendars('{calendar}')/"
                               "calendarPermissions")


@router.route("POST", V1 + "/users/{key}/calendars/{calendar}/calendarPermissions")
def add_permission(em: Emulator, request: Request, key: str, calendar: str) -> Response:
    user = mailbox_user(em, key)
    kind = permission_kind(em, user, calendar)
    body = request.json() or {}
    address = ((body.get("emailAddress") or {}).get("address") or "").strip()
    if not address:
        raise bad_request("The emailAddress.address is required.", code="ErrorInvalidRequest")
    role = body.get("role", "read")
    inside = mail._inside(em, address)
    mail._check_role(role, inside)
    if any(((p.get("emailAddress") or {}).get("address") or "").lower() == address.lower()
           for p in permissions(em, user["id"], kind)):
        raise GraphError(409, "ErrorItemAlreadyExists", "The specified permission already exists.")
    permission = {"id": permission_id(address), "isRemovable": True,
                  "isInsideOrganization": inside, "role": role,
                  "allowedRoles": mail._allowed(inside),
                  "emailAddress": {"name": (body.get("emailAddress") or {}).get("name") or address,
                                   "address": address}}
    em.store.put_item(user["id"], kind, permission["id"], permission)
    em.audit(request, "Add calendar permission", user_target(user),
             {_where(em, user, calendar, address): (None, role)}, service="Exchange")
    return Response.of_json(201, permission)


def _where(em: Emulator, user: dict[str, Any], calendar: str, address: str) -> str:
    name = next((c["name"] for c in calendars(em, user) if c["id"] == calendar), DEFAULT_NAME)
    return address if name == DEFAULT_NAME else f"{name}: {address}"


def _permission(em: Emulator, user_id: str, kind: str, permission: str) -> dict[str, Any]:
    found = next((p for p in permissions(em, user_id, kind) if p["id"] == permission), None)
    if found is None:
        raise _not_found()
    return found


@router.route("GET", V1 + "/users/{key}/calendars/{calendar}/calendarPermissions/{permission}")
def get_permission(em: Emulator, request: Request, key: str, calendar: str,
                   permission: str) -> Response:
    user = mailbox_user(em, key)
    kind = permission_kind(em, user, calendar)
    return Response.of_json(200, _permission(em, user["id"], kind, permission))


@router.route("PATCH", V1 + "/users/{key}/calendars/{calendar}/calendarPermissions/{permission}")
def update_permission(em: Emulator, request: Request, key: str, calendar: str,
                      permission: str) -> Response:
    user = mailbox_user(em, key)
    kind = permission_kind(em, user, calendar)
    body = request.json() or {}
    found = _permission(em, user["id"], kind, permission)
    if set(body) - {"role"}:
        raise bad_request("Only the role of a calendar permission can be updated.",
                          code="ErrorInvalidRequest")
    if body.get("role") not in found["allowedRoles"]:
        raise bad_request(f"The role '{body.get('role')}' is not valid for this permission.",
                          code="ErrorInvalidRequest")
    old, found["role"] = found["role"], body["role"]
    em.store.put_item(user["id"], kind, permission, found)
    address = (found.get("emailAddress") or {}).get("address") or "My Organization"
    em.audit(request, "Update calendar permission", user_target(user),
             {_where(em, user, calendar, address): (old, found["role"])}, service="Exchange")
    return Response.of_json(200, found)


@router.route("DELETE", V1 + "/users/{key}/calendars/{calendar}/calendarPermissions/{permission}")
def delete_permission(em: Emulator, request: Request, key: str, calendar: str,
                      permission: str) -> Response:
    user = mailbox_user(em, key)
    kind = permission_kind(em, user, calendar)
    found = _permission(em, user["id"], kind, permission)
    if not found["isRemovable"]:
        raise bad_request("The default calendar permission cannot be removed.",
                          code="ErrorInvalidRequest")
    em.store.delete_item(user["id"], kind, permission)
    em.audit(request, "Remove calendar permission", user_target(user),
             {_where(em, user, calendar, found["emailAddress"]["address"]): (found["role"], None)},
             service="Exchange")
    return Response.empty()
