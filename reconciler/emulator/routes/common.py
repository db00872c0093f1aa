"""Lookups every route module needs: users and groups by key, served shapes, references."""

from __future__ import annotations

import json
import re
import uuid
from typing import TYPE_CHECKING, Any

from reconciler.emulator.wire import GraphError, Request, bad_request, not_found

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

V1 = "/v1.0"
_REF = re.compile(r"/(?:directoryObjects|users|groups)/([^/]+)$")


def find_user(em: Emulator, key: str, *, deleted: bool = False) -> dict[str, Any]:
    """A live user by object id or userPrincipalName, or Graph's 404."""
    object_id = key if "@" not in key else (em.store.user_id_by_upn(key) or key)
    user = em.store.get_object(object_id, "user", deleted=deleted)
    user = em.replica(user, object_id, deleted)
    if user is None or user.get("@kind", "user") != "user":
        raise not_found(key)
    user.pop("@kind", None)
    return user


def find_group(em: Emulator, key: str) -> dict[str, Any]:
    group = em.store.get_object(key, "group")
    group = em.replica(group, key)
    if group is None or group.get("@kind") != "group":
        raise not_found(key)
    group.pop("@kind", None)
    return group


def find_object(em: Emulator, key: str) -> dict[str, Any]:
    """A live user or group (a directoryObject)."""
    obj = em.store.get_object(key)
    object_id = key if obj is not None or "@" not in key else \
        (em.store.user_id_by_upn(key) or key)
    if obj is None and object_id != key:
        obj = em.store.get_object(object_id)
    obj = em.replica(obj, object_id)
    if obj is None:
        raise not_found(key)
    return obj


def directory_role(em: Emulator, template_id: str) -> dict[str, Any]:
    """The activated directoryRole of a role template, as Graph serves it: its own object id
    (stable per tenant), not the template's."""
    role = em.store.item("tenant", "roleDefinition", template_id) or {}
    name = f"{em.tenant_id}/directoryRole/{template_id}"
    return {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
            "deletedDateTime": None, "description": role.get("description"),
            "displayName": role.get("displayName"),
            "roleTemplateId": role.get("templateId") or template_id}


def role_template(em: Emulator, key: str) -> str | None:
    """The template id a /directoryRoles/{key} names: `roleTemplateId=...` or a role's id."""
    if key.startswith("roleTemplateId="):
        template = key.removeprefix("roleTemplateId=")
        return template if em.store.item("tenant", "roleDefinition", template) else None
    for role in em.store.items("tenant", "roleDefinition"):
        if directory_role(em, role["id"])["id"] == key:
            return role["id"]
    return None


def ref_id(reference: Any) -> str:
    """The object id in `{"@odata.id": ".../directoryObjects/{id}"}` or a bind URL."""
    text = reference.get("@odata.id") if isinstance(reference, dict) else reference
    found = _REF.search(text or "") if isinstance(text, str) else None
    if not found:
        raise bad_request("Invalid object identifier '" + str(text) + "'.")
    return found.group(1)


def served_user(em: Emulator, user: dict[str, Any],
                licenses: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The user as Graph returns it: licenses from the license table, internals removed."""
    out = {k: v for k, v in user.items() if not k.startswith("@")}
    direct = licenses if licenses is not None else em.store.licenses_of([user["id"]])[user["id"]]
    inherited = [s for s in user.get("licenseAssignmentStates") or [] if s.get("assignedByGroup")]
    out["assignedLicenses"] = direct + [
        {"skuId": s["skuId"], "disabledPlans": s.get("disabledPlans", [])} for s in inherited
        if s["skuId"] not in {d["skuId"] for d in direct}
    ]
    out["licenseAssignmentStates"] = [
        {"skuId": d["skuId"], "disabledPlans": d["disabledPlans"], "assignedByGroup": None,
         "state": "Active", "error": "None"} for d in direct
    ] + inherited
    return out


def assigned_plans(em: Emulator, user: dict[str, Any]) -> list[dict[str, Any]]:
    """The service plans a user's licenses switch on (assignedPlans)."""
    skus = {s["skuId"]: s for s in em.store.items("tenant", "subscribedSku")}
    plans = []
    for license_ in user.get("assignedLicenses") or []:
        for plan in skus.get(license_["skuId"], {}).get("servicePlans", []):
            if plan["servicePlanId"] not in license_.get("disabledPlans", []):
                plans.append({"assignedDateTime": user.get("createdDateTime"),
                              "capabilityStatus": "Enabled",
                              "service": plan.get("servicePlanName"),
                              "servicePlanId": plan["servicePlanId"]})
    return plans


def no_me(request: Request) -> GraphError:
    return GraphError(400, "BadRequest",
                      "/me request is only valid with delegated authentication flow.")


def domains(em: Emulator) -> list[str]:
    return json.loads(em.store.get_meta("domains") or "[]")


def user_target(user: dict[str, Any]) -> dict[str, Any]:
    return {"id": user["id"], "displayName": user.get("displayName"), "type": "User",
            "userPrincipalName": user.get("userPrincipalName")}


def group_target(group: dict[str, Any]) -> dict[str, Any]:
    return {"id": group["id"], "displayName": group.get("displayName"), "type": "Group"}


def has_mailbox(em: Emulator, user_id: str) -> bool:
    """A user has a mailbox once an Exchange plan is licensed to it, or it is a shared, room
    or equipment mailbox (those need no license)."""
    mailbox = em.store.item(user_id, "mailbox", "mailbox")
    if mailbox and mailbox.get("RecipientTypeDetails") in (
            "SharedMailbox", "RoomMailbox", "EquipmentMailbox"):
        return True
    skus = {s["skuId"]: s for s in em.store.items("tenant", "subscribedSku")}
    for license_ in em.store.licenses_of([user_id])[user_id]:
        plans = skus.get(license_["skuId"], {}).get("servicePlans", [])
        for plan in plans:
            if plan.get("servicePlanName", "").startswith("EXCHANGE_S_") and \
                    plan.get("servicePlanId") not in license_["disabledPlans"]:
                return True
    return False


def mailbox_user(em: Emulator, key: str) -> dict[str, Any]:
    """A user with a mailbox, or the error Outlook endpoints give for one without."""
    user = find_user(em, key)
    if not has_mailbox(em, user["id"]):
        raise GraphError(404, "MailboxNotEnabledForRESTAPI",
                         "The mailbox is either inactive, soft-deleted, or is hosted on-premise.")
    return user
