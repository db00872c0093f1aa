"""Emulated directory-wide routes: roles, SKUs and licenses, deleted items, audit logs."""

from __future__ import annotations

import base64
import uuid
from typing import TYPE_CHECKING, Any

from reconciler.emulator import odata
from reconciler.emulator.routes.common import (
    V1,
    assigned_plans,
    directory_role,
    find_object,
    find_user,
    no_me,
    ref_id,
    role_template,
    served_user,
    user_target,
)
from reconciler.emulator.routes.navigations import served
from reconciler.emulator.rules import USER_DEFAULT_SELECT
from reconciler.emulator.wire import Request, Response, Router, bad_request, not_found

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

router = Router()
CONFLICT = ("A conflicting object with one or more of the specified property values is present "
            "in the directory.")


# role definitions and assignments -------------------------------------------------------------
@router.route("GET", V1 + "/roleManagement/directory/roleDefinitions")
def role_definitions(em: Emulator, request: Request) -> Response:
    roles = em.store.items("tenant", "roleDefinition")
    if "$filter" in request.query:
        predicate = odata.parse_filter(request.query["$filter"]).predicate
        roles = [r for r in roles if predicate(r)]
    fields = odata.select_fields(request)
    return odata.page_response(request, [odata.select(r, fields, None) for r in roles], None,
                               "roleManagement/directory/roleDefinitions")


@router.route("GET", V1 + "/roleManagement/directory/roleAssignments")
def role_assignments(em: Emulator, request: Request) -> Response:
    assignments = em.store.role_assignments()
    if "$filter" in request.query:
        predicate = odata.parse_filter(request.query["$filter"]).predicate
        assignments = [a for a in assignments if predicate(a)]
    size = odata.directory_page_size(request, em.limits)
    state = odata.decode_token(request.query["$skiptoken"]) if "$skiptoken" in request.query \
        else {}
    offset = state.get("offset", 0)
    more = {"offset": offset + size} if offset + size < len(assignments) else None
    page = assignments[offset:offset + size]
    if request.query.get("$expand", "").startswith("principal"):
        for item in page:  # the principal with its properties, as expansions carry them
            item["principal"] = served(em, em.store.get_object(item["principalId"])) or {
                "id": item["principalId"]}
    fields = odata.select_fields(request)
    return odata.page_response(request, [odata.select(a, fields, None) for a in page], more,
                               "roleManagement/directory/roleAssignments")


@router.route("POST", V1 + "/roleManagement/directory/roleAssignments")
def create_role_assignment(em: Emulator, request: Request) -> Response:
    body = request.json() or {}
    role = em.store.item("tenant", "roleDefinition", body.get("roleDefinitionId", ""))
    if role is None:
        raise not_found(body.get("roleDefinitionId", ""))
    principal = find_object(em, body.get("principalId", ""))
    scope = body.get("directoryScopeId")
    if not scope and not body.get("appScopeId"):
        raise bad_request("Either directoryScopeId or appScopeId must be specified.")
    if any(a["roleDefinitionId"] == role["id"] and a["directoryScopeId"] == scope
           for a in em.store.role_assignments(principal_id=principal["id"])):
        raise bad_request(CONFLICT)
    opaque = base64.urlsafe_b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes[:1])
    assignment = {"id": opaque.decode().rstrip("=") + "-1", "roleDefinitionId": role["id"],
                  "principalId": principal["id"], "directoryScopeId": scope}
    em.store.add_role_assignment(assignment)
    em.audit(request, "Add member to role", user_target(principal), {
        "Role.DisplayName": (None, role["displayName"]), "Role.TemplateId": (None, role["id"])},
        category="RoleManagement")
    body_out = {"@odata.context": f"{request.origin}/v1.0/$metadata#roleManagement/directory/"
                "roleAssignments/$entity", **assignment}
    return Response.of_json(201, body_out)


@router.route("DELETE", V1 + "/roleManagement/directory/roleAssignments/{assignment}")
def delete_role_assignment(em: Emulator, request: Request, assignment: str) -> Response:
    found = next((a for a in em.store.role_assignments() if a["id"] == assignment), None)
    if found is None:
        raise not_found(assignment)
    em.store.delete_role_assignment(assignment)
    principal = em.store.get_object(found["principalId"]) or {"id": found["principalId"]}
    role = em.store.item("tenant", "roleDefinition", found["roleDefinitionId"]) or {}
    em.audit(request, "Remove member from role", user_target(principal), {
        "Role.DisplayName": (role.get("displayName"), None)}, category="RoleManagement")
    return Response.empty()


def _activated_roles(em: Emulator) -> list[dict[str, Any]]:
    used = {a["roleDefinitionId"] for a in em.store.role_assignments()}
    return [{"id": r["id"], "deletedDateTime": None, "displayName": r["displayName"],
             "description": r["description"], "roleTemplateId": r["templateId"]}
            for r in em.store.items("tenant", "roleDefinition") if r["id"] in used]


@router.route("GET", V1 + "/directoryRoles")
def directory_roles(em: Emulator, request: Request) -> Response:
    used = {a["roleDefinitionId"] for a in em.store.role_assignments()}
    roles = [directory_role(em, r["id"]) for r in em.store.items("tenant", "roleDefinition")
             if r["id"] in used]
    return odata.serve_collection(request, roles, em.limits, "directoryRoles", None,
                                  "directoryRole")


def _template(em: Emulator, role: str) -> str:
    template = role_template(em, role)
    if template is None:
        raise not_found(role)
    return template


@router.route("GET", V1 + "/directoryRoles/{role}")
def get_directory_role(em: Emulator, request: Request, role: str) -> Response:
    body = odata.select(directory_role(em, _template(em, role)), odata.select_fields(request),
                        None)
    return Response.of_json(200, {"@odata.context": f"{request.origin}/v1.0/$metadata#"
                                  "directoryRoles/$entity", **body})


@router.route("GET", V1 + "/directoryRoles/{role}/members")
def directory_role_members(em: Emulator, request: Request, role: str) -> Response:
    members = []
    for assignment in em.store.role_assignments(role_definition_id=_template(em, role)):
        obj = em.store.get_object(assignment["principalId"])
        if obj:
            kind = obj.pop("@kind")
            members.append({"@odata.type": f"#microsoft.graph.{kind}", **obj})
    return odata.serve_collection(request, members, em.limits, "directoryObjects",
                                  USER_DEFAULT_SELECT)


@router.route("POST", V1 + "/directoryRoles/{role}/members/$ref")
def add_directory_role_member(em: Emulator, request: Request, role: str) -> Response:
    template = _template(em, role)
    definition = em.store.item("tenant", "roleDefinition", template) or {}
    principal = find_object(em, ref_id(request.json()))
    if any(a["roleDefinitionId"] == template
           for a in em.store.role_assignments(principal_id=principal["id"])):
        raise bad_request("One or more added object references already exist for the following "
                          "modified properties: 'members'.")
    em.store.add_role_assignment({"id": str(uuid.uuid4()), "roleDefinitionId": template,
                                  "principalId": principal["id"], "directoryScopeId": "/"})
    em.audit(request, "Add member to role", user_target(principal),
             {"Role.DisplayName": (None, definition.get("displayName"))},
             category="RoleManagement")
    return Response.empty()


@router.route("DELETE", V1 + "/directoryRoles/{role}/members/{member}/$ref")
def remove_directory_role_member(em: Emulator, request: Request, role: str,
                                 member: str) -> Response:
    template = _template(em, role)
    found = [a for a in em.store.role_assignments(principal_id=member, role_definition_id=template)]
    if not found:
        raise not_found(member)
    for assignment in found:
        em.store.delete_role_assignment(assignment["id"])
    em.audit(request, "Remove member from role", {"id": member, "type": "User"},
             category="RoleManagement")
    return Response.empty()


# SKUs and licenses ----------------------------------------------------------------------------
def _skus(em: Emulator) -> list[dict[str, Any]]:
    skus = em.store.items("tenant", "subscribedSku")
    for sku in skus:
        sku["consumedUnits"] = em.store.consumed_units(sku["skuId"])
    return skus


@router.route("GET", V1 + "/subscribedSkus")
def subscribed_skus(em: Emulator, request: Request) -> Response:
    fields = odata.select_fields(request)
    return odata.page_response(request, [odata.select(s, fields, None) for s in _skus(em)],
                               None, "subscribedSkus")


@router.route("GET", V1 + "/subscribedSkus/{sku}")
def subscribed_sku(em: Emulator, request: Request, sku: str) -> Response:
    found = next((s for s in _skus(em) if s["id"] == sku or s["skuId"] == sku), None)
    if found is None:
        raise not_found(sku)
    return Response.of_json(200, {"@odata.context": f"{request.origin}/v1.0/$metadata#"
                                  "subscribedSkus/$entity", **found})


@router.route("POST", V1 + "/me/assignLicense")
@router.route("GET", V1 + "/me/licenseDetails")
@router.route("POST", V1 + "/me/revokeSignInSessions")
def me_only(em: Emulator, request: Request) -> Response:
    raise no_me(request)


@router.route("POST", V1 + "/users/{key}/assignLicense")
def assign_license(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    body = request.json() or {}
    if "addLicenses" not in body or "removeLicenses" not in body:
        raise bad_request("Invalid value specified for property 'addLicenses' of resource "
                          "'User'." if "addLicenses" not in body else
                          "Invalid value specified for property 'removeLicenses' of resource "
                          "'User'.")
    skus = {s["skuId"].lower(): s for s in _skus(em)}
    current = {lic["skuId"]: lic for lic in em.store.licenses_of([user["id"]])[user["id"]]}
    inherited = {s["skuId"] for s in user.get("licenseAssignmentStates") or []
                 if s.get("assignedByGroup")}
    for sku_id in body["removeLicenses"]:
        if sku_id in inherited and sku_id not in current:
            raise bad_request("User license is inherited from a group membership and it cannot "
                              "be removed directly from the user.")
        if sku_id not in current:
            raise bad_request(f"User does not have a corresponding license: {sku_id}.")
    if body["addLicenses"] and not user.get("usageLocation"):
        raise bad_request("License assignment cannot be done for user with invalid usage "
                          "location.")
    for item in body["addLicenses"]:
        sku = skus.get(str(item.get("skuId", "")).lower())
        if sku is None:
            raise bad_request(f"License {item.get('skuId')} does not correspond to a valid "
                              "company License.")
        plan_ids = {p["servicePlanId"] for p in sku.get("servicePlans", [])}
        for plan in item.get("disabledPlans") or []:
            if plan not in plan_ids:
                raise bad_request(f"Service plan {plan} does not belong to license "
                                  f"{sku['skuId']}.")
        if sku["skuId"] not in current and \
                sku["prepaidUnits"].get("enabled", 0) - sku["consumedUnits"] <= 0:
            raise bad_request(f"Subscription {sku['skuId']} does not have any available "
                              "licenses.")
    changed = {}
    for sku_id in body["removeLicenses"]:
        em.store.set_license(user["id"], sku_id, None)
        changed[sku_id] = (current[sku_id]["disabledPlans"], None)
    for item in body["addLicenses"]:
        sku_id = skus[str(item["skuId"]).lower()]["skuId"]
        em.store.set_license(user["id"], sku_id, list(item.get("disabledPlans") or []))
        changed[sku_id] = (current.get(sku_id, {}).get("disabledPlans"),
                           list(item.get("disabledPlans") or []))
    em.store.put_object("user", user)
    em.audit(request, "Change user license", user_target(user), changed)
    body_out = served_user(em, user)
    body_out["assignedPlans"] = assigned_plans(em, body_out)
    body_out.pop("passwordProfile", None)
    return Response.of_json(200, {"@odata.context": f"{request.origin}/v1.0/$metadata#users/"
                                  "$entity", **body_out})


@router.route("GET", V1 + "/users/{key}/licenseDetails")
def license_details(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    skus = {s["skuId"]: s for s in em.store.items("tenant", "subscribedSku")}
    details = []
    for lic in em.store.licenses_of([user["id"]])[user["id"]]:
        sku = skus.get(lic["skuId"], {})
        details.append({"id": f"{lic['skuId']}", "skuId": lic["skuId"],
                        "skuPartNumber": sku.get("skuPartNumber"),
                        "servicePlans": [{**p, "provisioningStatus": "Disabled"
                                          if p["servicePlanId"] in lic["disabledPlans"]
                                          else "Success"} for p in sku.get("servicePlans", [])]})
    return odata.page_response(request, details, None, "users('x')/licenseDetails")


# deleted items ----------------------------------------------------------------------------
@router.route("GET", V1 + "/directory/deletedItems")
def deleted_items(em: Emulator, request: Request) -> Response:
    """Graph lists deleted items only through a cast (user, group, application...)."""
    cast = request.cast
    if cast is None:
        raise bad_request("The requested resource type is not supported: a cast such as "
                          "microsoft.graph.user or microsoft.graph.group is required.")
    kind = cast.removeprefix("microsoft.graph.")
    if kind not in ("user", "group"):
        items: list[dict[str, Any]] = []
    else:
        items = [{"@odata.type": f"#microsoft.graph.{kind}", **o}
                 for o in em.store.all_objects(kind, deleted=True)]
    default = (*USER_DEFAULT_SELECT, "deletedDateTime") if kind == "user" else None
    return odata.serve_collection(request, items, em.limits, "directoryObjects", default,
                                  "directoryObject")


def _deleted(em: Emulator, object_id: str) -> dict[str, Any]:
    obj = em.store.get_object(object_id, deleted=True)
    if obj is None:
        raise not_found(object_id)
    return obj


@router.route("GET", V1 + "/directory/deletedItems/{object_id}")
def deleted_item(em: Emulator, request: Request, object_id: str) -> Response:
    obj = _deleted(em, object_id)
    kind = obj.pop("@kind")
    return Response.of_json(200, {"@odata.context": f"{request.origin}/v1.0/$metadata#"
                                  "directoryObjects/$entity",
                                  "@odata.type": f"#microsoft.graph.{kind}", **obj})


@router.route("DELETE", V1 + "/directory/deletedItems/{object_id}")
def purge_item(em: Emulator, request: Request, object_id: str) -> Response:
    """Permanently delete a soft-deleted object: it can no longer be restored."""
    obj = _deleted(em, object_id)
    kind = obj.pop("@kind")
    em.store.purge_object(object_id)
    em.audit(request, f"Hard Delete {kind}", user_target(obj) if kind == "user" else
             {"id": obj["id"], "displayName": obj.get("displayName"), "type": "Group"})
    return Response.empty()


@router.route("POST", V1 + "/directory/deletedItems/{object_id}/restore")
def restore_item(em: Emulator, request: Request, object_id: str) -> Response:
    obj = _deleted(em, object_id)
    kind = obj.pop("@kind")
    if kind == "user" and em.store.user_id_by_upn(obj["userPrincipalName"]):
        raise bad_request(CONFLICT)
    obj["deletedDateTime"] = None
    em.store.put_object(kind, obj)
    em.audit(request, f"Restore {kind}", user_target(obj) if kind == "user" else
             {"id": obj["id"], "displayName": obj.get("displayName"), "type": "Group"})
    return Response.of_json(200, {"@odata.context": f"{request.origin}/v1.0/$metadata#"
                                  "directoryObjects/$entity",
                                  "@odata.type": f"#microsoft.graph.{kind}", **obj})


# audit logs -----------------------------------------------------------------------------------
@router.route("GET", V1 + "/auditLogs/directoryAudits")
def directory_audits(em: Emulator, request: Request) -> Response:
    # Exchange admin actions live in Exchange's own audit (Search-AdminAuditLog), not here.
    # SharePoint and Intune changes are in the unified audit log and Intune's auditEvents.
    records = [r for r in em.store.audits()
               if r.get("category") not in ("ExchangeAdmin", "SharePoint", "Device")]
    if "$filter" in request.query:
        predicate = odata.parse_filter(request.query["$filter"]).predicate
        records = [r for r in records if predicate(r)]
    records.reverse()  # newest first, as Graph lists them
    size = odata.page_size(request, em.limits.audit_page_max, em.limits.page_default)
    state = odata.decode_token(request.query["$skiptoken"]) if "$skiptoken" in request.query \
        else {}
    offset = state.get("offset", 0)
    more = {"offset": offset + size} if offset + size < len(records) else None
    return odata.page_response(request, records[offset:offset + size], more,
                               "auditLogs/directoryAudits")
