"""Putting into an emulator the objects a documented example refers to, generically.

What to create comes from the example's path walked against the CSDL (an entity set or a
navigation, a key, a cast) and from the objects its response shows; how to create an object
of a given type, and how to link it along a navigation, is one entry per CSDL type and per
navigation below, never per example. Objects are written into the emulator's store the way
its seed loader writes them (the state Graph has no write API for: deleted objects, audit
records, licenses held by a SKU...), or through Graph's own API where Graph has a write
(mailboxSettings).
"""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import dataclass
from typing import Any

from reconciler.emulator import csdl
from reconciler.emulator.app import Emulator
from reconciler.emulator.rules import blank_user
from tests.conformance_client import send
from tests.conformance_examples import UUID

# A licence that carries an Exchange Online plan: Outlook endpoints need a mailbox.
EXCHANGE_SKU = "6fd2c87f-b296-42f0-b197-1e91e994b900"
EXCHANGE_PLAN = "efb87545-963c-4e0d-99df-69c6916d9eb0"
DIRECTORY_READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
# Navigations and properties served by Exchange Online: their owner needs a mailbox.
MAILBOX_PARTS = {"calendar", "calendars", "mailboxSettings", "events", "messages",
                 "mailFolders", "contacts", "calendarView", "inferenceClassification"}
# Where each kind of authentication method is kept (the emulator's per-user item kinds).
METHOD_KINDS = {"phoneAuthenticationMethod": "phoneMethod",
                "emailAuthenticationMethod": "emailMethod",
                "microsoftAuthenticatorAuthenticationMethod": "authenticatorMethod"}
DEFAULT_CALENDAR_PERMISSION = "RGVmYXVsdA=="  # base64("Default"): "My Organization"
_DOC_PLACEHOLDER = re.compile(r"^(\{.*\}|.*-value|guid|String)$")


def doc_placeholder(value: Any) -> bool:
    """A value the documentation writes as a stand-in (`{id}`, `city-value`, `guid`)."""
    return isinstance(value, str) and bool(_DOC_PLACEHOLDER.match(value))


@dataclass
class Ref:
    """An arranged object: its CSDL type, its id, and the key a path names it by."""

    type: str
    id: str
    key: str
    owner: Ref | None = None  # for items held by another object (a user's calendar...)


def short(type_name: str | None) -> str:
    return (type_name or "").removeprefix("microsoft.graph.")


def concrete(type_name: str, props: dict[str, Any]) -> str:
    """The type an object of declared type `type_name` is: its @odata.type, else the
    derived type (user or group first) that declares every property shown, else the
    declared type."""
    model = csdl.model()
    if props.get("@odata.type"):
        return csdl.full_name(props["@odata.type"])
    kind = model.type(type_name)
    if kind is None or not kind.abstract and short(type_name) != "directoryObject":
        return type_name
    shown = {k for k in props if not k.startswith("@") and "@" not in k}
    for candidate in ("user", "group", "directoryRole"):
        if model.is_a(candidate, type_name) and shown <= set(model.properties(candidate)) | \
                set(model.navigations(candidate)):
            return csdl.full_name(candidate)
    return type_name


def declared(type_name: str, props: dict[str, Any],
             navigations: bool = False) -> dict[str, Any]:
    """The properties of `props` the type declares (annotations dropped, and navigations
    unless the object keeps them as shown), as values of their declared types."""
    known = dict(csdl.model().properties(type_name))
    if navigations:
        known.update(csdl.model().navigations(type_name))
    return {k: typed(copy.deepcopy(v), known[k].type) for k, v in props.items() if k in known}


def typed(value: Any, type_name: str) -> Any:
    """A documented value as Graph would hold it: the docs' stand-ins (`datetime-value`,
    `servicePlanId-value`) become values of the declared type, enum members take the
    schema's spelling, and keys a complex type does not declare (a doc's misspelt `Type`)
    are dropped. The arranged tenant is then one Graph could have."""
    model = csdl.model()
    if isinstance(value, list):
        return [typed(v, type_name) for v in value]
    if isinstance(value, dict):
        actual = csdl.full_name(value["@odata.type"]) if value.get("@odata.type") else type_name
        kind = model.type(actual) or model.type(type_name)
        if kind is None or any(t.open for t in model.chain(kind.name)):
            return value
        props = model.properties(kind.name)
        return {k: typed(v, props[k].type) if k in props else v for k, v in value.items()
                if k in props or k.startswith("@")}
    if not isinstance(value, str):
        return value
    if type_name in model.enums:
        members = {m.lower(): m for m in model.enums[type_name]}
        return members.get(value.lower(), model.enums[type_name][0])
    if doc_placeholder(value):
        return _STAND_INS.get(type_name, value)
    return value


_STAND_INS = {"Edm.Guid": "00000000-0000-4000-8000-00000000d0c0",
              "Edm.DateTimeOffset": "2024-01-01T00:00:00Z", "Edm.Date": "2024-01-01",
              "Edm.TimeOfDay": "08:00:00.0000000"}


class Arranger:
    """Creates objects in one emulator and remembers what it made."""

    def __init__(self, em: Emulator) -> None:
        self.em = em
        self.store = em.store
        self.count = 0
        self.made: list[Ref] = []
        self.holders: dict[str, str] = {}  # role template -> the assignment activating it

    # objects ------------------------------------------------------------------------------
    def place(self, owner: Ref | None, nav: str, type_name: str, props: dict[str, Any],
              key: str | None = None) -> Ref:
        """An object of `type_name` (with `props`) reached from `owner` through `nav`
        (an entity set when `owner` is None), named `key` when the example names it."""
        kind = concrete(type_name, props)
        name = short(kind)
        if name in ("user", "group") or (nav == "deletedItems" and name == "directoryObject"):
            ref = self.directory_object(kind if name != "directoryObject" else
                                        "microsoft.graph.group", props, key,
                                        deleted=nav == "deletedItems")
        elif name == "directoryObject":
            ref = self.directory_object("microsoft.graph.user", props, key)
        elif name == "directoryRole":
            template = key.partition("=")[2] if key and key.startswith("roleTemplateId=") \
                else None  # the alternate key names the role's template
            ref = self.directory_role({**props, "roleTemplateId": template} if template
                                      else props)
            ref.key = key if template else ref.key
        elif name == "subscribedSku":
            ref = self.sku(props)
        elif name == "unifiedRoleAssignment":
            ref = self.role_assignment(props, key)
        elif name == "unifiedRoleDefinition":
            ref = self.role_definition(props, key)
        elif name == "licenseDetails":
            ref = self.license_details(owner, props)
        elif name == "directoryAudit":
            with self.store.transaction():
                self.store.add_audit(typed(copy.deepcopy(props), kind))
            ref = Ref(kind, props.get("id") or "", props.get("id") or "")
        elif self.model_is(kind, "authenticationMethod") or name == "calendarPermission":
            ref = self.item(owner, kind, props, key)
        else:
            raise NotImplementedError(f"no arrangement for {name} (through {nav})")
        self.link(owner, nav, ref)
        self.made.append(ref)
        self.nested(ref, props)
        return ref

    @staticmethod
    def model_is(type_name: str, ancestor: str) -> bool:
        return csdl.model().is_a(type_name, ancestor)

    def nested(self, ref: Ref, props: dict[str, Any]) -> None:
        """Navigations shown inside an object ($expand, `members@delta`) are arranged too."""
        navigations = csdl.model().navigations(ref.type)
        for key, value in props.items():
            name = key.removesuffix("@delta")
            nav = navigations.get(name)
            if nav is None or name not in LINKED or not isinstance(value, dict | list):
                continue
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict) and "@removed" not in item:
                    existing = self.find(item.get("id"))
                    if existing is not None:
                        self.link(ref, name, existing)
                    else:
                        self.place(ref, name, nav.type, item, item.get("id"))

    def find(self, object_id: Any) -> Ref | None:
        return next((r for r in self.made if object_id and r.id == object_id), None)

    def directory_object(self, kind: str, props: dict[str, Any], key: str | None,
                         deleted: bool = False) -> Ref:
        self.count += 1
        data = declared(kind, props)
        object_id = key if key and UUID.match(key) else data.get("id")
        if not (isinstance(object_id, str) and UUID.match(object_id)):
            object_id = str(uuid.uuid4())
        data["id"] = object_id
        if deleted:
            data["deletedDateTime"] = data.get("deletedDateTime") or "2026-11-01T00:00:00Z"
        elif "deletedDateTime" in data and data["deletedDateTime"] is not None:
            data["deletedDateTime"] = None
        if short(kind) == "user":
            return self._user(data, key)
        group = {"displayName": f"Group {self.count}", "description": None, "groupTypes": [],
                 "mailEnabled": False, "securityEnabled": True, "mail": None,
                 "mailNickname": f"group{self.count}", **data}
        with self.store.transaction():
            self.store.put_object("group", group)
        return Ref(kind, object_id, object_id)

    def _user(self, data: dict[str, Any], key: str | None) -> Ref:
        licenses = data.pop("assignedLicenses", None) or []
        user = blank_user()
        user.update({"displayName": f"User {self.count}", "accountEnabled": True,
                     "mailNickname": f"user{self.count}", "usageLocation": "US",
                     "createdDateTime": "2024-01-01T00:00:00Z"})
        user.update(data)
        upn = key if key and "@" in key else user.get("userPrincipalName")
        if not isinstance(upn, str) or "@" not in upn or doc_placeholder(upn):
            upn = f"user{self.count}.{user['id'][:8]}@contoso.onmicrosoft.com"
        user["userPrincipalName"] = upn
        with self.store.transaction():
            self.store.put_object("user", user)
        for license_ in licenses:
            self.sku({"skuId": license_["skuId"]})
            with self.store.transaction():
                self.store.set_license(user["id"], license_["skuId"],
                                       list(license_.get("disabledPlans") or []))
        return Ref("microsoft.graph.user", user["id"], user["id"] if key is None or
                   PLACEHOLDER_KEY.match(key) else key)

    def mailbox(self, user: Ref) -> None:
        self.sku({"skuId": EXCHANGE_SKU, "skuPartNumber": "ENTERPRISEPACK",
                  "servicePlans": [{"servicePlanId": EXCHANGE_PLAN,
                                    "servicePlanName": "EXCHANGE_S_ENTERPRISE",
                                    "provisioningStatus": "Success", "appliesTo": "User"}]})
        with self.store.transaction():
            self.store.set_license(user.id, EXCHANGE_SKU, [])

    def directory_role(self, props: dict[str, Any]) -> Ref:
        """An activated directory role: its template's definition (described as shown) with
        one assignment. Graph makes the role's object id; the path names it by that id."""
        template = props.get("roleTemplateId") or DIRECTORY_READERS
        definition = self.store.item("tenant", "roleDefinition", template) or {
            "id": template, "templateId": template, "isBuiltIn": False, "isEnabled": True}
        definition.update({k: props[k] for k in ("displayName", "description") if k in props})
        with self.store.transaction():
            self.store.put_item("tenant", "roleDefinition", template, definition)
        if not self.store.role_assignments(role_definition_id=template):
            holder = self.directory_object("microsoft.graph.user", {}, None)
            self.holders[template] = str(uuid.uuid4())
            with self.store.transaction():
                self.store.add_role_assignment({"id": self.holders[template],
                                                "roleDefinitionId": template,
                                                "principalId": holder.id,
                                                "directoryScopeId": "/"})
        role_id = send(self.em, "GET", f"/directoryRoles/roleTemplateId={template}", None,
                       {}).json()["id"]
        return Ref("microsoft.graph.directoryRole", role_id, role_id)

    def sku(self, props: dict[str, Any]) -> Ref:
        sku_id = props.get("skuId")
        if not (isinstance(sku_id, str) and UUID.match(sku_id)):
            sku_id = str(uuid.uuid4())
        existing = self.store.item("tenant", "subscribedSku", sku_id) or {}
        tenant = self.em.tenant_id
        sku = {"capabilityStatus": "Enabled", "appliesTo": "User", "skuPartNumber": "DOC_SKU",
               "prepaidUnits": {"enabled": 100, "suspended": 0, "warning": 0, "lockedOut": 0},
               "servicePlans": [], **existing,
               **declared("microsoft.graph.subscribedSku", props),
               "id": f"{tenant}_{sku_id}", "skuId": sku_id}
        with self.store.transaction():
            self.store.put_item("tenant", "subscribedSku", sku_id, sku)
        consumed = props.get("consumedUnits")
        if isinstance(consumed, int):  # a count Graph derives: as many users hold it
            for _ in range(consumed - self.store.consumed_units(sku_id)):
                holder = self.directory_object("microsoft.graph.user", {}, None)
                with self.store.transaction():
                    self.store.set_license(holder.id, sku_id, [])
        return Ref("microsoft.graph.subscribedSku", sku_id, sku["id"])

    def role_definition(self, props: dict[str, Any], key: str | None) -> Ref:
        role_id = key or props.get("id") or str(uuid.uuid4())
        existing = self.store.item("tenant", "roleDefinition", role_id)
        data = {"id": role_id, "templateId": role_id, "displayName": "Custom role",
                "description": "A custom role.", "isBuiltIn": False, "isEnabled": True,
                **(existing or {}), **declared("microsoft.graph.unifiedRoleDefinition", props,
                                               navigations=True)}
        with self.store.transaction():
            self.store.put_item("tenant", "roleDefinition", role_id, data)
        return Ref("microsoft.graph.unifiedRoleDefinition", role_id, role_id)

    def role_assignment(self, props: dict[str, Any], key: str | None) -> Ref:
        assignment_id = key or props.get("id") or str(uuid.uuid4())
        shown = props.get("principal")  # an $expand-ed principal: the object it names
        if isinstance(shown, dict) and self.store.get_object(str(shown.get("id"))) is None:
            self.place(None, "directoryObjects", "microsoft.graph.directoryObject", shown,
                       shown.get("id"))
        principal = self.ensure_principal(props.get("principalId"))
        role = props.get("roleDefinitionId") or DIRECTORY_READERS
        self.ensure_role_definition(role)
        with self.store.transaction():
            self.store.add_role_assignment({"id": assignment_id, "roleDefinitionId": role,
                                            "principalId": principal,
                                            "directoryScopeId":
                                                props.get("directoryScopeId") or "/"})
        return Ref("microsoft.graph.unifiedRoleAssignment", assignment_id, assignment_id)

    def ensure_principal(self, object_id: Any) -> str:
        if isinstance(object_id, str) and self.store.get_object(object_id):
            return object_id
        key = object_id if isinstance(object_id, str) and UUID.match(object_id) else None
        return self.directory_object("microsoft.graph.user", {}, key).id

    def ensure_role_definition(self, role_id: str) -> None:
        if self.store.item("tenant", "roleDefinition", role_id) is None:
            self.role_definition({}, role_id)

    def license_details(self, owner: Ref | None, props: dict[str, Any]) -> Ref:
        sku = self.sku({"skuId": props.get("skuId"), "skuPartNumber": props.get("skuPartNumber"),
                        "servicePlans": props.get("servicePlans") or []})
        assert owner is not None, "licenseDetails are a user's"
        with self.store.transaction():
            self.store.set_license(owner.id, sku.id, [])
        return Ref("microsoft.graph.licenseDetails", sku.id, sku.id, owner)

    def item(self, owner: Ref | None, kind: str, props: dict[str, Any],
             key: str | None) -> Ref:
        """An object held by a user (an authentication method, a calendar permission)."""
        user = self.user_of(owner)
        item_id = key if key and not PLACEHOLDER_KEY.match(key) else props.get("id")
        if not isinstance(item_id, str) or doc_placeholder(item_id):
            item_id = str(uuid.uuid4())
        data = {**declared(kind, props), "id": item_id}
        if short(kind) == "calendarPermission":
            self.mailbox(user)
            if item_id == DEFAULT_CALENDAR_PERMISSION:  # every calendar has it
                return Ref(kind, item_id, item_id, user)
            data = {"isRemovable": True, "isInsideOrganization": True, "role": "read",
                    "allowedRoles": ["none", "freeBusyRead", "limitedRead", "read", "write"],
                    "emailAddress": {"name": "Doc", "address": "doc@contoso.com"}, **data}
            store_kind = "calendarPermission"
        else:
            store_kind = METHOD_KINDS.get(short(kind), "authMethod")
            if store_kind == "authMethod":
                data = {"@odata.type": f"#{kind}", **data}
        with self.store.transaction():
            self.store.put_item(user.id, store_kind, item_id, data)
        return Ref(kind, item_id, item_id, user)

    def user_of(self, owner: Ref | None) -> Ref:
        while owner is not None and short(owner.type) != "user":
            owner = owner.owner
        assert owner is not None, "an item is held by a user"
        return owner

    # links ---------------------------------------------------------------------------------
    def link(self, owner: Ref | None, nav: str, ref: Ref) -> None:
        """Make `ref` reachable from `owner` through `nav`."""
        if owner is None or nav in ("deletedItems", "roleAssignments", "roleDefinitions",
                                    "directoryAudits", "licenseDetails", "calendarPermissions",
                                    "subscribedSkus") or self.model_is(ref.type,
                                                                         "authenticationMethod"):
            return  # the object itself is the link (or a top-level object)
        role_member = nav in ("members", "transitiveMembers") and \
            short(owner.type) == "directoryRole"
        if role_member or (nav in ("memberOf", "transitiveMemberOf") and
                           short(ref.type) == "directoryRole"):
            role, principal = (owner, ref.id) if role_member else (ref, owner.id)
            self._assign_role(role, principal)
            return
        with self.store.transaction():
            if nav in ("members", "transitiveMembers"):
                self.store.set_member(owner.id, ref.id, True)
            elif nav in ("memberOf", "transitiveMemberOf"):
                self.store.set_member(ref.id, owner.id, True)
            elif nav == "manager":
                self.store.set_manager(owner.id, ref.id)
            elif nav == "directReports":
                self.store.set_manager(ref.id, owner.id)
            else:
                raise NotImplementedError(f"no link for {short(owner.type)}.{nav}")

    def _assign_role(self, role: Ref, principal: str) -> None:
        """Assign the role; the placeholder holder that activated it steps aside."""
        template = send(self.em, "GET", f"/directoryRoles/{role.id}", None,
                        {}).json()["roleTemplateId"]
        with self.store.transaction():
            self.store.add_role_assignment({"id": str(uuid.uuid4()),
                                            "roleDefinitionId": template,
                                            "principalId": principal, "directoryScopeId": "/"})
            holder = self.holders.pop(template, None)
            if holder:
                self.store.delete_role_assignment(holder)


PLACEHOLDER_KEY = re.compile(r"^\{.*\}$")
# Navigations between directory objects, arranged as relations (others are kept as shown).
LINKED = {"members", "transitiveMembers", "memberOf", "transitiveMemberOf", "manager",
          "directReports"}
