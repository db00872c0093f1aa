"""Emulated Outlook-backed routes: photo, calendar permissions, mailbox settings."""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING, Any
from zoneinfo import available_timezones

from reconciler.emulator import csdl, odata
from reconciler.emulator.routes.common import V1, find_user, mailbox_user, no_me, user_target
from reconciler.emulator.rules import image_format
from reconciler.emulator.wire import GraphError, Request, Response, Router, bad_request

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

router = Router()
MAX_REQUEST_BYTES = 4 * 1024 * 1024
DEFAULT_PERMISSION_ID = "RGVmYXVsdA=="  # base64("Default"): the "My Organization" entry
CALENDAR_ROLES = ("none", "freeBusyRead", "limitedRead", "read", "write",
                  "delegateWithoutPrivateEventAccess", "delegateWithPrivateEventAccess")
ORGANIZATION_ROLES = ["none", "freeBusyRead", "limitedRead", "read", "write"]


@router.route("PUT", V1 + "/me/photo/$value")
@router.route("GET", V1 + "/me/mailboxSettings")
@router.route("PATCH", V1 + "/me/mailboxSettings")
@router.route("GET", V1 + "/me/mailboxSettings/{part}")
@router.route("GET", V1 + "/me/calendar/calendarPermissions")
@router.route("POST", V1 + "/me/calendar/calendarPermissions")
def me_only(em: Emulator, request: Request, **_: str) -> Response:
    raise no_me(request)


# photo -----------------------------------------------------------------------------------------
@router.route("PUT", V1 + "/users/{key}/photo/$value")
@router.route("PATCH", V1 + "/users/{key}/photo/$value")
def put_photo(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    if len(request.body) > MAX_REQUEST_BYTES:
        raise GraphError(413, "RequestEntityTooLarge", "The request body exceeds 4 MB.")
    found = image_format(request.body[:16])
    if found is None:
        raise bad_request("The photo is not a supported image (JPEG, PNG or GIF).",
                          code="ImageInvalid")
    em.store.put_blob(user["id"], "photo", f"image/{found}", request.body)
    em.audit(request, "Update user photo", user_target(user))
    return Response(200)


@router.route("GET", V1 + "/users/{key}/photo")
def photo_metadata(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    stored = em.store.blob(user["id"], "photo")
    if stored is None:
        raise _no_photo()
    return Response.of_json(200, {"@odata.mediaContentType": stored[0], "id": "default",
                                  "height": 96, "width": 96})


@router.route("GET", V1 + "/users/{key}/photo/$value")
def photo_value(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    stored = em.store.blob(user["id"], "photo")
    if stored is None:
        raise _no_photo()
    return Response(200, stored[1], {"content-type": stored[0]})


@router.route("DELETE", V1 + "/users/{key}/photo/$value")
def delete_photo(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    if em.store.blob(user["id"], "photo") is None:
        raise _no_photo()
    em.store.put_blob(user["id"], "photo", "", None)
    em.audit(request, "Delete user photo", user_target(user))
    return Response.empty()


def _no_photo() -> GraphError:
    return GraphError(404, "ImageNotFound", "Exception of type 'Microsoft.Fast.Profile.Core."
                      "Exception.ImageNotFoundException' was thrown.")


# calendar permissions --------------------------------------------------------------------------
def _permissions(em: Emulator, user_id: str) -> list[dict[str, Any]]:
    items = em.store.items(user_id, "calendarPermission")
    if not any(p["id"] == DEFAULT_PERMISSION_ID for p in items):
        default = {"id": DEFAULT_PERMISSION_ID, "isRemovable": False,
                   "isInsideOrganization": True, "role": "freeBusyRead",
                   "allowedRoles": ORGANIZATION_ROLES,
                   "emailAddress": {"name": "My Organization", "address": None}}
        em.store.put_item(user_id, "calendarPermission", DEFAULT_PERMISSION_ID, default)
        items.append(default)
    return items


@router.route("GET", V1 + "/users/{key}/calendar/calendarPermissions")
def list_calendar_permissions(em: Emulator, request: Request, key: str) -> Response:
    user = mailbox_user(em, key)
    return odata.page_response(request, _permissions(em, user["id"]), None,
                               f"users('{user['id']}')/calendar/calendarPermissions")


@router.route("POST", V1 + "/users/{key}/calendar/calendarPermissions")
def add_calendar_permission(em: Emulator, request: Request, key: str) -> Response:
    user = mailbox_user(em, key)
    body = request.json() or {}
    address = ((body.get("emailAddress") or {}).get("address") or "").strip()
    if not address:
        raise bad_request("The emailAddress.address is required.", code="ErrorInvalidRequest")
    role = body.get("role", "read")
    inside = _inside(em, address)
    _check_role(role, inside)
    existing = _permissions(em, user["id"])
    if any(((p.get("emailAddress") or {}).get("address") or "").lower() == address.lower()
           for p in existing):
        raise GraphError(409, "ErrorItemAlreadyExists",
                         "The specified permission already exists.")
    permission = {
        "id": base64.b64encode(f"ExchangePublishedUser.{address}".encode()).decode(),
        "isRemovable": True, "isInsideOrganization": inside, "role": role,
        "allowedRoles": _allowed(inside),
        "emailAddress": {"name": (body.get("emailAddress") or {}).get("name") or address,
                         "address": address},
    }
    em.store.put_item(user["id"], "calendarPermission", permission["id"], permission)
    em.audit(request, "Add calendar permission", user_target(user),
             {address: (None, role)}, service="Exchange")
    return Response.of_json(201, {"@odata.context": f"{request.origin}/v1.0/$metadata#users('"
                                  f"{user['id']}')/calendar/calendarPermissions/$entity",
                                  **permission})


def _inside(em: Emulator, address: str) -> bool:
    """A user or a mail-enabled group of the organization."""
    return em.store.user_id_by_upn(address) is not None or any(
        (o.get("mail") or "").lower() == address.lower()
        for kind in ("user", "group") for o in em.store.all_objects(kind))


def _allowed(inside: bool) -> list[str]:
    return list(CALENDAR_ROLES if inside else ("freeBusyRead", "limitedRead", "read"))


def _check_role(role: str, inside: bool) -> None:
    if role not in CALENDAR_ROLES:
        raise bad_request(f"The role '{role}' is not valid.", code="ErrorInvalidRequest")
    if role not in _allowed(inside):
        raise bad_request(f"The role '{role}' is not allowed for this recipient.",
                          code="ErrorInvalidRequest")


def _permission(em: Emulator, user_id: str, permission_id: str) -> dict[str, Any]:
    found = next((p for p in _permissions(em, user_id) if p["id"] == permission_id), None)
    if found is None:
        raise GraphError(404, "ErrorItemNotFound",
                         "The specified object was not found in the store.")
    return found


@router.route("GET", V1 + "/users/{key}/calendar/calendarPermissions/{permission}")
def get_calendar_permission(em: Emulator, request: Request, key: str,
                            permission: str) -> Response:
    user = mailbox_user(em, key)
    found = _permission(em, user["id"], permission)
    return Response.of_json(200, found)


@router.route("PATCH", V1 + "/users/{key}/calendar/calendarPermissions/{permission}")
def update_calendar_permission(em: Emulator, request: Request, key: str,
                               permission: str) -> Response:
    user = mailbox_user(em, key)
    body = request.json() or {}
    found = _permission(em, user["id"], permission)
    if set(body) - {"role"}:
        raise bad_request("Only the role of a calendar permission can be updated.",
                          code="ErrorInvalidRequest")
    if body.get("role") not in found["allowedRoles"]:
        raise bad_request(f"The role '{body.get('role')}' is not valid for this permission.",
                          code="ErrorInvalidRequest")
    old = found["role"]
    found["role"] = body["role"]
    em.store.put_item(user["id"], "calendarPermission", permission, found)
    address = (found.get("emailAddress") or {}).get("address") or "My Organization"
    em.audit(request, "Update calendar permission", user_target(user),
             {address: (old, found["role"])}, service="Exchange")
    return Response.of_json(200, found)


@router.route("DELETE", V1 + "/users/{key}/calendar/calendarPermissions/{permission}")
def delete_calendar_permission(em: Emulator, request: Request, key: str,
                               permission: str) -> Response:
    user = mailbox_user(em, key)
    found = _permission(em, user["id"], permission)
    if not found["isRemovable"]:
        raise bad_request("The default calendar permission cannot be removed.",
                          code="ErrorInvalidRequest")
    em.store.delete_item(user["id"], "calendarPermission", permission)
    em.audit(request, "Remove calendar permission", user_target(user),
             {found["emailAddress"]["address"]: (found["role"], None)}, service="Exchange")
    return Response.empty()


# mailbox settings ------------------------------------------------------------------------------
_ENUMS = {"status": ("disabled", "alwaysEnabled", "scheduled"),
          "externalAudience": ("none", "contactsOnly", "all")}


def _settings(em: Emulator, user_id: str) -> dict[str, Any]:
    stored = em.store.item(user_id, "mailboxSettings", "settings")
    return stored or {
        "archiveFolder": "AAMkAGI2TAAA=",
        "timeZone": "UTC",
        "automaticRepliesSetting": {
            "status": "disabled", "externalAudience": "all",
            "internalReplyMessage": "", "externalReplyMessage": "",
            "scheduledStartDateTime": {"dateTime": "2026-01-01T00:00:00.0000000",
                                       "timeZone": "UTC"},
            "scheduledEndDateTime": {"dateTime": "2026-01-02T00:00:00.0000000",
                                     "timeZone": "UTC"}},
        "language": {"locale": "en-US", "displayName": "English (United States)"},
        "dateFormat": "M/d/yyyy", "timeFormat": "h:mm tt",
        "delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
        "userPurpose": "user",
        "workingHours": {"daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                         "startTime": "08:00:00.0000000", "endTime": "17:00:00.0000000",
                         "timeZone": {"name": "UTC"}},
    }


@router.route("GET", V1 + "/users/{key}/mailboxSettings")
def get_mailbox_settings(em: Emulator, request: Request, key: str) -> Response:
    user = mailbox_user(em, key)
    return Response.of_json(200, {"@odata.context": f"{request.origin}/v1.0/$metadata#users('"
                                  f"{user['id']}')/mailboxSettings", **_settings(em, user["id"])})


@router.route("GET", V1 + "/users/{key}/mailboxSettings/{part}")
def get_mailbox_setting(em: Emulator, request: Request, key: str, part: str) -> Response:
    user = mailbox_user(em, key)
    settings = _settings(em, user["id"])
    if part not in settings:
        raise bad_request(f"Resource not found for the segment '{part}'.", code="BadRequest")
    value = settings[part]
    context = f"{request.origin}/v1.0/$metadata#users('{user['id']}')/mailboxSettings/{part}"
    body = {"@odata.context": context, **value} if isinstance(value, dict) else \
        {"@odata.context": context, "value": value}
    return Response.of_json(200, body)


@router.route("PATCH", V1 + "/users/{key}/mailboxSettings")
def update_mailbox_settings(em: Emulator, request: Request, key: str) -> Response:
    """Update mailboxSettings: complex values are merged (properties not sent keep their
    values), every value is checked against the CSDL's types and enums, a schedule or
    working hours ending before they start and an unknown time zone are refused."""
    user = mailbox_user(em, key)
    body = {k: v for k, v in (request.json() or {}).items() if not k.startswith("@")}
    settings = _settings(em, user["id"])
    if "userPurpose" in body:
        raise bad_request("The property 'userPurpose' is read-only.", code="ErrorInvalidRequest")
    body = csdl.canonical_enums(body, "mailboxSettings")  # Outlook reads enums in any case
    if isinstance(body.get("automaticRepliesSetting"), dict):
        body["automaticRepliesSetting"] = _normalise_replies(body["automaticRepliesSetting"])
    problems = csdl.problems(body, "mailboxSettings")
    if problems:
        raise bad_request(f"Invalid value in the request: {problems[0]}.",
                          code="ErrorInvalidRequest")
    changed = {}
    for name, value in body.items():
        if name not in settings:
            raise bad_request(f"The property '{name}' does not exist on type "
                              "'microsoft.graph.mailboxSettings'.", code="ErrorInvalidRequest")
        merged = _merge(settings[name], value)
        changed[name] = (settings[name], merged)
        settings[name] = merged
    _check_settings(settings)
    em.store.put_item(user["id"], "mailboxSettings", "settings", settings)
    em.audit(request, "Update mailbox settings", user_target(user),
             {k: v for k, v in changed.items()}, service="Exchange")
    return Response.of_json(200, {"@odata.context": f"{request.origin}/v1.0/$metadata#users('"
                                  f"{user['id']}')/mailboxSettings",
                                  **{k: settings[k] for k in body}})


def _merge(current: Any, sent: Any) -> Any:
    """PATCH of a complex value: sent properties replace, the others keep their values."""
    if isinstance(current, dict) and isinstance(sent, dict):
        return {**current, **{k: _merge(current.get(k), v) for k, v in sent.items()}}
    return sent


_WINDOWS_ZONE = re.compile(r"^[A-Z][A-Za-z .()+\-]* Standard Time$|^UTC([+-]\d{2})?$")


def _known_zone(name: Any) -> bool:
    """An IANA zone (zoneinfo) or a Windows zone name, the two forms Graph accepts."""
    if not isinstance(name, str) or not name:
        return False
    return name in available_timezones() or bool(_WINDOWS_ZONE.match(name))


def _check_settings(settings: dict[str, Any]) -> None:
    def invalid(message: str) -> GraphError:
        return bad_request(message, code="ErrorInvalidRequest")

    if not _known_zone(settings.get("timeZone")):
        raise invalid(f"The time zone '{settings.get('timeZone')}' is not valid.")
    replies = settings.get("automaticRepliesSetting") or {}
    start, end = replies.get("scheduledStartDateTime"), replies.get("scheduledEndDateTime")
    if replies.get("status") == "scheduled" and not (start and end):
        raise invalid("Scheduled automatic replies need a start and an end.")
    for stamp in (start, end):
        if stamp and not _known_zone(stamp.get("timeZone")):
            raise invalid(f"The time zone '{stamp.get('timeZone')}' is not valid.")
    if start and end and str(end.get("dateTime")) <= str(start.get("dateTime")) and \
            start.get("timeZone") == end.get("timeZone"):
        raise invalid("The scheduled end time must be after the scheduled start time.")
    hours = settings.get("workingHours") or {}
    if hours:
        zone = hours.get("timeZone") or {}
        custom = str(zone.get("@odata.type", "")).endswith("customTimeZone")
        if not custom and not _known_zone(zone.get("name")):  # a custom zone is named freely
            raise invalid(f"The time zone '{(hours.get('timeZone') or {}).get('name')}' is "
                          "not valid.")
        if str(hours.get("endTime")) <= str(hours.get("startTime")):
            raise invalid("The working hours end time must be after the start time.")


def _normalise_replies(value: dict[str, Any]) -> dict[str, Any]:
    out = dict(value)
    for name, allowed in _ENUMS.items():
        if name in out:
            match = next((a for a in allowed if a.lower() == str(out[name]).lower()), None)
            if match is None:
                raise bad_request(f"'{out[name]}' is not a valid value for {name}.",
                                  code="ErrorInvalidRequest")
            out[name] = match
    return out
