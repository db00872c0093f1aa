"""Emulated Intune managed devices and their primary user (`deviceManagement/managedDevices`).

Rules served (graph-contract §21): every Intune call needs an active Intune licence in the
tenant (403 otherwise); a device has at most one primary user, read through the `users`
navigation on v1.0 and set or cleared through `users/$ref` on beta (setting replaces the old
one); the flat `userId`/`userPrincipalName` members record the enrolling user and do not follow
a primary-user change; a `$filter` on a property the service does not index fails open and
returns every device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.emulator import odata
from reconciler.emulator.routes.common import V1, find_user, ref_id, user_target
from reconciler.emulator.wire import GraphError, Request, Response, Router, not_found

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

router = Router()
BETA = "/beta"
KIND = "managedDevice"
INDEXED = ("userPrincipalName", "userId", "deviceName", "serialNumber", "operatingSystem")
SERVED = ("id", "deviceName", "userId", "userPrincipalName", "userDisplayName", "emailAddress",
          "azureADDeviceId", "operatingSystem", "osVersion", "managedDeviceOwnerType",
          "complianceState", "lastSyncDateTime", "enrolledDateTime", "serialNumber", "model",
          "manufacturer")
INTUNE_PLANS = ("INTUNE_A", "INTUNE_EDU", "INTUNE_SMBIZ", "INTUNE_A_D")


def intune_licensed(em: Emulator) -> bool:
    """The tenant holds a subscription with an enabled Intune service plan."""
    for sku in em.store.items("tenant", "subscribedSku"):
        units = (sku.get("prepaidUnits") or {}).get("enabled", 0)
        if units and any(p.get("servicePlanName") in INTUNE_PLANS
                         for p in sku.get("servicePlans", [])):
            return True
    return False


def _require_licence(em: Emulator) -> None:
    if not intune_licensed(em):
        raise GraphError(403, "Forbidden", "Application is not authorized to perform this "
                         "operation. Application must have an active Intune license in the "
                         "account to use this API.")


def _device(em: Emulator, device_id: str) -> dict[str, Any]:
    device = em.store.item("tenant", KIND, device_id)
    if device is None:
        raise GraphError(404, "ResourceNotFound", f"Resource not found: managedDevice "
                         f"'{device_id}'.")
    return device


def _served(device: dict[str, Any]) -> dict[str, Any]:
    out = {"@odata.type": "#microsoft.graph.managedDevice"}
    out.update({k: device.get(k) for k in SERVED})
    return out


def _fails_open(request: Request) -> bool:
    """A filter naming no indexed property (or an empty one) is ignored, as Intune does."""
    text = request.query.get("$filter", "")
    return not text.strip() or not any(name in text for name in INDEXED)


@router.route("GET", V1 + "/deviceManagement/managedDevices")
def list_devices(em: Emulator, request: Request) -> Response:
    _require_licence(em)
    devices = [_served(d) for d in em.store.items("tenant", KIND)]
    if "$filter" in request.query and not _fails_open(request):
        devices = odata.refine(devices, request)
    page, more, count = odata.offset_page(request, devices, odata.page_size(request, 1000, 1000))
    fields = odata.select_fields(request)
    page = [odata.select(d, fields, None) for d in page]
    return odata.page_response(request, page, more, "deviceManagement/managedDevices", count)


@router.route("GET", V1 + "/deviceManagement/managedDevices/{device}")
def get_device(em: Emulator, request: Request, device: str) -> Response:
    _require_licence(em)
    served = _served(_device(em, device))
    return Response.of_json(200, odata.select(served, odata.select_fields(request), None))


@router.route("GET", V1 + "/deviceManagement/managedDevices/{device}/users")
def device_users(em: Emulator, request: Request, device: str) -> Response:
    _require_licence(em)
    primary = _device(em, device).get("@primaryUser")
    users = []
    if primary:
        found = em.store.get_object(primary, "user")
        if found is not None:
            found.pop("@kind", None)
            users.append(odata.select({k: v for k, v in found.items() if not k.startswith("@")},
                                      odata.select_fields(request), None))
    return odata.page_response(request, users, None, "users")


@router.route("GET", V1 + "/users/{key}/managedDevices")
def user_devices(em: Emulator, request: Request, key: str) -> Response:
    _require_licence(em)
    user = find_user(em, key)
    devices = [_served(d) for d in em.store.items("tenant", KIND)
               if d.get("@primaryUser") == user["id"]]
    fields = odata.select_fields(request)
    return odata.page_response(request, [odata.select(d, fields, None) for d in devices], None,
                               f"users('{user['id']}')/managedDevices")


@router.route("POST", BETA + "/deviceManagement/managedDevices/{device}/users/$ref")
def set_primary_user(em: Emulator, request: Request, device: str) -> Response:
    _require_licence(em)
    found = _device(em, device)
    user_id = ref_id(request.json() or {})
    user = em.store.get_object(user_id, "user")
    if em.replica(user, user_id) is None:  # a write reaches the primary: only a user
        # created a moment ago may not be found yet
        raise not_found(user_id)
    before = found.get("@primaryUser")
    found["@primaryUser"] = user_id
    em.store.put_item("tenant", KIND, device, found)
    em.audit(request, "Update managed device primary user",
             {**user_target(user), "type": "Device", "displayName": found.get("deviceName")},
             {"PrimaryUser": (before, user_id)}, category="Device", service="Intune")
    return Response.empty()


@router.route("DELETE", BETA + "/deviceManagement/managedDevices/{device}/users/$ref")
def clear_primary_user(em: Emulator, request: Request, device: str) -> Response:
    _require_licence(em)
    found = _device(em, device)
    before = found.get("@primaryUser")
    found["@primaryUser"] = None
    em.store.put_item("tenant", KIND, device, found)
    em.audit(request, "Remove managed device primary user",
             {"id": device, "displayName": found.get("deviceName"), "type": "Device"},
             {"PrimaryUser": (before, None)}, category="Device", service="Intune")
    return Response.empty()
