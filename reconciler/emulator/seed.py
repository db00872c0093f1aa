"""Filling a new emulated tenant: built-in role definitions, then the seed document."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

from reconciler.emulator import identity
from reconciler.emulator.routes.mail import CALENDAR_ROLES
from reconciler.emulator.rules import blank_user
from reconciler.emulator.store import Store

# Built-in Entra role definitions: for these, id == templateId in every tenant.
BUILTIN_ROLES = {
    "Application Administrator": "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
    "Azure AD Joined Device Local Administrator": "9f06204d-73c1-4d4c-880a-6edb90606fd8",
    "Authentication Administrator": "c4e39bd9-1100-46d3-8c65-fb160da0071f",
    "Billing Administrator": "b0f54661-2d74-4c50-afa3-1ec803f12efe",
    "Cloud Application Administrator": "158c047a-c907-4556-b7ef-446551a6b5f7",
    "Compliance Administrator": "17315797-102d-40b4-93e0-432062caca18",
    "Conditional Access Administrator": "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
    "Directory Readers": "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
    "Exchange Administrator": "29232cdf-9323-42fd-ade2-1d097af3e4de",
    "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
    "Global Reader": "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
    "Groups Administrator": "fdd7a751-b60b-444a-984c-02652fe8fa1c",
    "Guest Inviter": "95e79109-95c0-4d8e-aee3-d01accf2d47b",
    "Helpdesk Administrator": "729827e3-9c14-49f7-bb1b-9608f156bbb8",
    "Intune Administrator": "3a2c62db-5318-420d-8d74-23affee5d9d5",
    "License Administrator": "4d6ac14f-3453-41d0-bef9-a3e0c569773a",
    "Password Administrator": "966707d0-3269-4727-9be2-8c3a10f19b9d",
    "Privileged Authentication Administrator": "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
    "Privileged Role Administrator": "e8611ab8-c189-46e8-94e1-60213ab1f814",
    "Reports Reader": "4a5d8f65-41da-4de4-8968-e035b65339cf",
    "Security Administrator": "194ae4cb-b126-40b2-bd5b-6091b380977d",
    "Security Reader": "5d6b6bb7-de71-4623-b4af-96380a352509",
    "Service Support Administrator": "f023fd81-a637-4b56-95fd-791ac0226033",
    "SharePoint Administrator": "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
    "Teams Administrator": "69091246-20e8-4a56-aa4d-066075b2a7a8",
    "User Administrator": "fe930be7-5e62-47db-91af-98c3a49a38b1",
}


DIRECTORY_READERS = BUILTIN_ROLES["Directory Readers"]


def load_seed(store: Store, seed: Path | dict[str, Any] | None,
              defaults: dict[str, str] | None = None) -> None:
    """Initialise `store` (inside a transaction) from a seed file or document.

    `defaults` ({"id", "domain"}) name the tenant when the seed does not.

    Long because: one pass over the seed's sections in the order the store needs them
    (objects before the links between them), inside one transaction.
    """
    document: dict[str, Any] = {}
    if isinstance(seed, dict):
        document = seed
    elif seed is not None:
        document = json.loads(Path(seed).read_text(encoding="utf-8"))
    tenant = {**(defaults or {}), **document.get("tenant", {})}
    store.set_meta("tenantId", tenant.get("id", "3f2b8c1e-5d4a-4e7b-9c1f-2a6d8e0b7c45"))
    store.set_meta("domain", tenant.get("domain", "contoso.onmicrosoft.com"))
    domains = {tenant.get("domain", "contoso.onmicrosoft.com"), *tenant.get("domains", [])}
    store.set_meta("domains", json.dumps(sorted(d.lower() for d in domains)))
    store.set_meta("signingKey", identity.new_signing_key())
    if "githubSubject" in tenant:
        store.set_meta("githubSubject", tenant["githubSubject"])
    for name, template in BUILTIN_ROLES.items():
        store.put_item("tenant", "roleDefinition", template, {
            "id": template, "templateId": template, "displayName": name, "isBuiltIn": True,
            "isEnabled": True, "description": f"Built-in role: {name}.", "version": "1",
            "resourceScopes": ["/"],
            "rolePermissions": [{"allowedResourceActions": [
                "microsoft.directory/users/standard/read"], "condition": None}],
            "inheritsPermissionsFrom": [{"id": DIRECTORY_READERS}]
            if template != DIRECTORY_READERS else [],
        })
    for role in document.get("roleDefinitions", []):
        store.put_item("tenant", "roleDefinition", role["id"], {"isBuiltIn": False, **role})
    for app in document.get("applications", []):
        store.put_item("tenant", "application", app["appId"], app)
    for sku in document.get("subscribedSkus", []):
        store.put_item("tenant", "subscribedSku", sku["skuId"], _sku(sku, tenant))
    for user in document.get("users", []):
        _seed_user(store, user)
    for group in document.get("groups", []):
        group = dict(group)
        members = group.pop("members", [])
        store.put_object("group", {"groupTypes": [], "mailEnabled": False,
                                   "securityEnabled": True, "mail": None, **group})
        for member in members:
            store.set_member(group["id"], member, True)
    for user in document.get("users", []):
        if user.get("manager"):
            store.set_manager(user["id"], user["manager"])
    for assignment in document.get("roleAssignments", []):
        store.add_role_assignment({"id": assignment.get("id") or str(uuid.uuid4()),
                                   "directoryScopeId": "/", **assignment})
    _seed_workplace(store, document)
    for item in document.get("mailboxes", []):
        store.put_item(item["userId"], "mailbox", "mailbox", item)
    for grant in document.get("mailboxPermissions", []):  # {mailbox, trustee, right}
        kind = "mailboxPermission" if grant["right"] == "FullAccess" else "recipientPermission"
        store.put_item(grant["mailbox"], kind, grant["trustee"], {"trustee": grant["trustee"]})
    for grant in document.get("calendarPermissions", []):  # {userId, address, role}
        permission_id = base64.b64encode(
            f"ExchangePublishedUser.{grant['address']}".encode()).decode()
        store.put_item(grant["userId"], "calendarPermission", permission_id, {
            "id": permission_id, "isRemovable": True, "isInsideOrganization": True,
            "role": grant["role"], "allowedRoles": list(CALENDAR_ROLES),
            "emailAddress": {"name": grant["address"], "address": grant["address"]}})
    _seed_settings(store, document)


def _seed_settings(store: Store, document: dict[str, Any]) -> None:
    """The authorization policy (members over the default) and named calendars."""
    from reconciler.emulator.routes import calendars, policies, tap

    if "authorizationPolicy" in document:
        given = dict(document["authorizationPolicy"])
        merged = {**policies.DEFAULT, **given, "defaultUserRolePermissions": {
            **policies.DEFAULT["defaultUserRolePermissions"],
            **(given.get("defaultUserRolePermissions") or {})}}
        store.put_item("tenant", "authorizationPolicy", policies.POLICY_ID, merged)
    if "temporaryAccessPassPolicy" in document:  # members over a new tenant's defaults
        store.put_item("tenant", "authMethodConfiguration", tap.CONFIGURATION,
                       {**tap.DEFAULT_POLICY, **document["temporaryAccessPassPolicy"]})
    for calendar in document.get("calendars", []):  # {userId, name}
        calendar_id = calendars.calendar_id(calendar["userId"], calendar["name"])
        store.put_item(calendar["userId"], "calendar", calendar_id, {
            **calendars.new_calendar(calendar_id, calendar["name"])})


def _seed_workplace(store: Store, document: dict[str, Any]) -> None:
    """What Graph cannot create: service principals, Intune devices, SharePoint sites,
    Authenticator registrations made on a phone, sign-ins and risky users."""
    for sp in document.get("servicePrincipals", []):
        sp = {"id": str(uuid.uuid4()), **sp}
        store.put_item("tenant", "servicePrincipal", sp["id"], sp)
    for device in document.get("managedDevices", []):
        device = {"id": str(uuid.uuid4()), "managedDeviceOwnerType": "company",
                  "complianceState": "compliant", "enrolledDateTime": "2025-01-01T00:00:00Z",
                  "lastSyncDateTime": "2026-11-01T00:00:00Z", **device}
        user = store.get_object(device.get("userId") or "", "user") if device.get("userId") \
            else None
        if user:
            device.setdefault("userPrincipalName", user.get("userPrincipalName"))
            device.setdefault("userDisplayName", user.get("displayName"))
            device.setdefault("emailAddress", user.get("mail"))
        device["@primaryUser"] = device.get("userId")
        store.put_item("tenant", "managedDevice", device["id"], device)
    for site in document.get("sites", []):
        path = "/" + site["webUrl"].split("://", 1)[-1].partition("/")[2].strip("/").lower()
        site = {"id": str(uuid.uuid4()), "title": path.rsplit("/", 1)[-1].title(), **site,
                "key": path if path != "/" else "/"}
        store.put_item("tenant", "site", site["key"], site)
    for user in document.get("users", []):
        for method in (user.get("authentication") or {}).get("microsoftAuthenticatorMethods", []):
            method = {"id": str(uuid.uuid4()), "createdDateTime": "2025-01-01T00:00:00Z",
                      "deviceTag": "SoftwareTokenActivated", "phoneAppVersion": "6.2401.0119",
                      **method}
            store.put_item(user["id"], "authenticatorMethod", method["id"], method)
    for record in document.get("signIns", []):
        record = {"id": str(uuid.uuid4()), **record}
        store.put_item("tenant", "signIn", record["id"], record)
    for record in document.get("riskyUsers", []):
        store.put_item("tenant", "riskyUser", record["id"], record)


def _sku(sku: dict[str, Any], tenant: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"{tenant.get('id', '')}_{sku['skuId']}",
        "capabilityStatus": "Enabled",
        "appliesTo": "User",
        "prepaidUnits": {"enabled": 0, "suspended": 0, "warning": 0, "lockedOut": 0},
        "servicePlans": [],
        **sku,
    }


def _seed_user(store: Store, user: dict[str, Any]) -> None:
    data = blank_user()
    user.setdefault("id", str(uuid.uuid4()))
    user = dict(user)
    user.pop("manager", None)
    licenses = user.pop("assignedLicenses", [])
    photo = user.pop("@photo", None)
    user.pop("authentication", None)  # registrations made on a phone: _seed_workplace
    data.update(user)
    extension = data.get("onPremisesExtensionAttributes") or {}
    data["onPremisesExtensionAttributes"] = {
        **{f"extensionAttribute{n}": None for n in range(1, 16)}, **extension}
    data.setdefault("createdDateTime", "2024-01-01T00:00:00Z")
    store.put_object("user", data)
    for license_ in licenses:
        store.set_license(data["id"], license_["skuId"], license_.get("disabledPlans", []))
    if photo:
        store.put_blob(data["id"], "photo", photo.get("contentType", "image/jpeg"),
                       bytes.fromhex(photo["hex"]))
