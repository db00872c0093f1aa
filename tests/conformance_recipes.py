"""For each documented example: put the objects it refers to into an emulator, and return
the request to send (placeholders replaced by those objects' ids)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from reconciler.emulator.app import Emulator
from reconciler.emulator.rules import blank_user

EXCHANGE_SKU = "6fd2c87f-b296-42f0-b197-1e91e994b900"
EXCHANGE_PLAN = "efb87545-963c-4e0d-99df-69c6916d9eb0"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


class Seeder:
    def __init__(self, em: Emulator) -> None:
        self.em = em
        self.store = em.store
        self.count = 0

    def user(self, **props: Any) -> str:
        self.count += 1
        data = blank_user()
        data.update({"id": str(uuid.uuid4()), "displayName": f"User {self.count}",
                     "userPrincipalName": f"user{self.count}@contoso.onmicrosoft.com",
                     "mailNickname": f"user{self.count}", "accountEnabled": True,
                     "usageLocation": "US"})
        data.update({k: v for k, v in props.items() if not k.startswith("@")})
        if not data.get("userPrincipalName") or "@" not in data["userPrincipalName"]:
            data["userPrincipalName"] = f"user{self.count}@contoso.onmicrosoft.com"
        with self.store.transaction():
            self.store.put_object("user", data)
        return data["id"]

    def group(self, members: list[str] = (), **props: Any) -> str:
        data = {"id": str(uuid.uuid4()), "displayName": "Group", "description": None,
                "groupTypes": [],
                "mailEnabled": False, "securityEnabled": True, "mail": None}
        data.update({k: v for k, v in props.items() if not k.startswith("@") and
                     not k.endswith("@delta")})
        with self.store.transaction():
            self.store.put_object("group", data)
            for member in members:
                self.store.set_member(data["id"], member, True)
        return data["id"]

    def mailbox_user(self, **props: Any) -> str:
        with self.store.transaction():
            self.store.put_item("tenant", "subscribedSku", EXCHANGE_SKU, {
                "id": EXCHANGE_SKU, "skuId": EXCHANGE_SKU, "skuPartNumber": "ENTERPRISEPACK",
                "capabilityStatus": "Enabled", "appliesTo": "User", "consumedUnits": 0,
                "prepaidUnits": {"enabled": 100, "suspended": 0, "warning": 0},
                "servicePlans": [{"servicePlanId": EXCHANGE_PLAN,
                                  "servicePlanName": "EXCHANGE_S_ENTERPRISE",
                                  "provisioningStatus": "Success", "appliesTo": "User"}]})
        user_id = self.user(**props)
        with self.store.transaction():
            self.store.set_license(user_id, EXCHANGE_SKU, [])
        return user_id

    def sku(self, sku: dict[str, Any]) -> None:
        with self.store.transaction():
            self.store.put_item("tenant", "subscribedSku", sku["skuId"], dict(sku))

    def assign(self, role: str, principal: str, assignment_id: str | None = None) -> str:
        assignment_id = assignment_id or str(uuid.uuid4())
        with self.store.transaction():
            self.store.add_role_assignment({"id": assignment_id, "roleDefinitionId": role,
                                            "principalId": principal, "directoryScopeId": "/"})
        return assignment_id


def me(path: str, user_id: str) -> str:
    return re.sub(r"^/me(?=/|\?|$)", f"/users/{user_id}", path)


def fill(text: str, *values: str) -> str:
    """Replace `{...}` placeholders in order."""
    for value in values:
        text = re.sub(r"\{[^}]*\}", value, text, count=1)
    return text


def prepare(example: dict[str, Any], em: Emulator) -> tuple[str, Any, dict[str, str]]:
    """(path, body, headers) to send for `example`, with its objects seeded into `em`."""
    seed = Seeder(em)
    req, resp = example["request"], example["response"]
    path, body, headers = req["path"], req["body"], dict(req["headers"])
    response = resp["body"] if isinstance(resp["body"], dict) else {}
    values = response.get("value", []) if isinstance(response.get("value"), list) else []
    api = example["api"]

    if api == "users.get":
        user_id = seed.user(**response)
        path = me(fill(path, user_id), user_id)
    elif api == "users.list":
        for item in values:
            props = dict(item)
            props.setdefault("userPrincipalName", props.get("mail"))
            if "identities" in path:
                props["identities"] = [{"signInType": "emailAddress",
                                        "issuerAssignedId": "j.smith@yahoo.com",
                                        "issuer": "contoso.onmicrosoft.com"}]
            for license_ in props.pop("assignedLicenses", []):
                seed.sku({"skuId": license_["skuId"], "skuPartNumber": "DOC_SKU",
                          "prepaidUnits": {"enabled": 10}, "servicePlans": []})
            user_id = seed.user(**props)
            for license_ in item.get("assignedLicenses", []):
                with em.store.transaction():
                    em.store.set_license(user_id, license_["skuId"], [])
    elif api in ("users.update", "users.delete", "users.revokeSignInSessions",
                 "users.licenseDetails", "photo.put"):
        user_id = seed.user()
        path = me(fill(path, user_id), user_id)
        if api == "users.licenseDetails":
            seed.mailbox_user()
            with em.store.transaction():
                em.store.set_license(user_id, EXCHANGE_SKU, [])
    elif api.startswith("deletedItems"):
        group = response if "id" in response else (values[0] if values else {})
        group_id = seed.group(**group)
        with em.store.transaction():
            stored = em.store.get_object(group_id)
            stored.pop("@kind")
            stored["deletedDateTime"] = "2026-11-01T00:00:00Z"
            em.store.put_object("group", stored)
        path = fill(path, group_id)
    elif api == "manager.get":
        def chain(node: dict[str, Any]) -> str:
            above = chain(node["manager"]) if "manager" in node else None
            user_id = seed.user(**{k: v for k, v in node.items() if k != "manager"})
            if above:
                with em.store.transaction():
                    em.store.set_manager(user_id, above)
            return user_id
        path = me(path, chain(response))
    elif api == "manager.set":
        user_id, manager_id = seed.user(), seed.user()
        path = fill(path, user_id)
        body = {"@odata.id": fill(body["@odata.id"], manager_id)}
    elif api == "manager.remove":
        user_id = UUID.search(path).group()
        seed.user(id=user_id)
        manager_id = seed.user()
        with em.store.transaction():
            em.store.set_manager(user_id, manager_id)
    elif api == "groups.list":
        for item in values or [{"displayName": f"g{n}"} for n in range(3)]:
            seed.group(**{"hasMembersWithLicenseErrors": True, **item})
    elif api == "groups.members.list":
        members = [seed.user(**item) for item in values] or [seed.user() for _ in range(2)]
        path = fill(path, seed.group(members))
    elif api == "groups.members.add":
        users = [seed.user() for _ in body["members@odata.bind"]]
        path = fill(path, seed.group())
        body = {"members@odata.bind": [fill(ref, u) for ref, u in
                                       zip(body["members@odata.bind"], users, strict=True)]}
    elif api == "groups.members.remove":
        member = seed.user()
        path = fill(path, seed.group([member]), member)
    elif api == "groups.delta":
        if "$skiptoken" in path or "$deltatoken" in path:
            return _continued_delta(seed, em, "groups", values, path, headers)
        for item in values:
            members = [seed.user(id=m["id"]) for m in item.get("members@delta", [])]
            seed.group(members, **item)
    elif api == "users.memberOf":
        user_id = seed.user()
        for item in values or [{"displayName": "All Users"}]:
            seed.group([user_id], **item)
        path = fill(path, user_id)
    elif api.startswith("directoryRoles"):
        return _directory_roles(seed, example, path, body, headers, response)
    elif api == "roleAssignments.list":
        principal = seed.user(id=values[0]["principalId"])
        for item in values:
            seed.assign(item["roleDefinitionId"], principal, item["id"])
    elif api == "roleAssignments.create":
        seed.user(id=body["principalId"])
        role = body["roleDefinitionId"]
        if em.store.item("tenant", "roleDefinition", role) is None:  # a custom role
            with em.store.transaction():
                em.store.put_item("tenant", "roleDefinition", role, {
                    "id": role, "templateId": role, "displayName": "Custom role",
                    "isBuiltIn": False, "description": "A custom role."})
    elif api == "roleAssignments.delete":
        seed.assign("62e90394-69f5-4237-9190-012177145e10", seed.user(),
                    path.rsplit("/", 1)[-1])
    elif api == "subscribedSkus.list":
        for item in values:
            seed.sku(item)
    elif api == "subscribedSkus.get":
        seed.sku(response)
        path = fill(path, response["id"])
    elif api == "users.assignLicense":
        user_id = seed.user(businessPhones=["+1 425 555 0100"], city="Redmond",
                            companyName="Contoso")
        sku_id = str(uuid.uuid4())
        plan = body["addLicenses"][0]["disabledPlans"][0]
        seed.sku({"skuId": sku_id, "skuPartNumber": "DOC_ADD", "prepaidUnits": {"enabled": 5},
                  "servicePlans": [{"servicePlanId": plan, "servicePlanName": "DOC_PLAN"},
                                   {"servicePlanId": str(uuid.uuid4()),
                                    "servicePlanName": "DOC_OTHER_PLAN"}]})
        removed = body["removeLicenses"][0]
        seed.sku({"skuId": removed, "skuPartNumber": "DOC_REMOVE",
                  "prepaidUnits": {"enabled": 5}, "servicePlans": []})
        with em.store.transaction():
            em.store.set_license(user_id, removed, [])
        body = json.loads(json.dumps(body).replace('"guid"', f'"{sku_id}"'))
        path = me(path, user_id)
    elif api.startswith("calendarPermissions") or api.startswith("mailboxSettings"):
        user_id = seed.mailbox_user()
        if api == "calendarPermissions.delete":
            permission = "RXhjaGFuZ2VQdWJsaXNoZWRVc2VyLmNocmlzQGNvbnRvc28uY29t"
            with em.store.transaction():
                em.store.put_item(user_id, "calendarPermission", permission, {
                    "id": permission, "isRemovable": True, "isInsideOrganization": True,
                    "role": "read", "allowedRoles": ["read", "write"],
                    "emailAddress": {"name": "Chris", "address": "chris@contoso.com"}})
            path = fill(path, user_id, permission)
        else:
            if api.startswith("mailboxSettings.get"):
                part = path.rsplit("/", 1)[-1]
                with em.store.transaction():
                    em.store.put_item(user_id, "mailboxSettings", "settings", {
                        "automaticRepliesSetting": {}, "workingHours": {}, "timeZone": "UTC",
                        part: {k: v for k, v in response.items() if not k.startswith("@")}})
            for item in values:
                if item.get("isRemovable"):
                    with em.store.transaction():
                        em.store.put_item(user_id, "calendarPermission", item["id"], item)
            path = me(fill(path, user_id), user_id)
    elif api in ("authMethods.list", "phoneMethods.create", "emailMethods.create",
                 "authenticatorMethods.list", "authenticatorMethods.delete"):
        upn = re.search(r"/users/([^/]+)", path)
        user_id = seed.user(userPrincipalName=upn.group(1)) if upn else seed.user()
        kind = "authenticatorMethod" if "authenticator" in api else "authMethod"
        existing = values if api.endswith(".list") else (
            [{"id": path.rsplit("/", 1)[-1], "displayName": "phone"}]
            if api.endswith(".delete") else [])
        with em.store.transaction():
            for item in existing:
                em.store.put_item(user_id, kind, item["id"], item)
        path = me(path, user_id)
    elif api == "auditLogs.directoryAudits.list":
        with em.store.transaction():
            for item in values:
                em.store.add_audit(item)
    elif api == "users.delta":
        if "$skiptoken" in path or "$deltatoken" in path:
            return _continued_delta(seed, em, "users", values, path, headers)
        for item in values:
            seed.user(**item)
    return path, body, headers


def _directory_roles(seed: Seeder, example: dict, path: str, body: Any, headers: dict,
                     response: dict) -> tuple[str, Any, dict[str, str]]:
    values = response.get("value", [])
    api = example["api"]
    role = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"  # Directory Readers
    if api == "directoryRoles.list":
        for item in values:
            seed.assign(item["roleTemplateId"], seed.user())
        return path, body, headers
    ids = UUID.findall(path)
    # a directoryRole's id is its own, not its template's: address the activated role
    path = path.replace(ids[0], directory_role_id(seed.em, role))
    if api == "directoryRoles.members.list":
        for item in values:
            seed.assign(role, seed.user(**item))
    elif api == "directoryRoles.members.add":
        seed.user(id=UUID.search(body["@odata.id"]).group())
    elif api == "directoryRoles.members.remove":
        seed.assign(role, seed.user(id=ids[1]))
    return path, body, headers


def directory_role_id(em: Emulator, template: str) -> str:
    """The object id the emulator gives the activated role of `template` (read from it)."""
    from tests.conformance_client import send

    return send(em, "GET", f"/directoryRoles/roleTemplateId={template}", None, {}).json()["id"]


def _continued_delta(seed: Seeder, em: Emulator, kind: str, values: list[dict], path: str,
                     headers: dict[str, str]) -> tuple[str, Any, dict[str, str]]:
    """Replace the doc's opaque token with one this emulator issued for the same state."""
    from tests.conformance_client import send

    for item in values:
        if kind == "users":
            seed.user(**item)
        else:
            seed.group(**item)
    for _ in range(2):
        seed.user() if kind == "users" else seed.group()
    first = send(em, "GET", f"/{kind}/delta", None, {"Prefer": "odata.maxpagesize=1"}).json()
    if "$skiptoken" in path:
        token = first["@odata.nextLink"].split("$skiptoken=")[1]
        return f"/{kind}/delta?$skiptoken={token}", None, headers
    link = first.get("@odata.nextLink")
    while link:
        page = send(em, "GET", link.split("/v1.0")[1], None, {}).json()
        link = page.get("@odata.nextLink")
        first = page
    token = first["@odata.deltaLink"].split("$deltatoken=")[1]
    return f"/{kind}/delta?$deltatoken={token}", None, headers
