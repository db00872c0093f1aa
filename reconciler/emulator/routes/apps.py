"""Emulated enterprise applications: service principals and app role assignments.

Rules served (graph-contract §22): a user's list also returns the assignments of the groups
the user is a direct member of (`principalType: Group`); only enabled roles that allow `User`
can be assigned to a user, and the all-zero "default access" role only on an application that
declares no user-assignable roles; a second identical assignment is a 400; `resourceId` is the
service principal's object id, never its appId.
"""

from __future__ import annotations

import base64
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from reconciler.emulator import odata
from reconciler.emulator.routes.common import V1, find_group, find_user, user_target
from reconciler.emulator.wire import GraphError, Request, Response, Router, bad_request, not_found

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

router = Router()
SP_KIND = "servicePrincipal"
KIND = "appRoleAssignment"
DEFAULT_ACCESS = "00000000-0000-0000-0000-000000000000"
SP_DEFAULT = ("id", "appId", "displayName", "appRoles", "appRoleAssignmentRequired",
              "accountEnabled", "servicePrincipalType")


def service_principals(em: Emulator) -> list[dict[str, Any]]:
    return [{"@odata.type": "#microsoft.graph.servicePrincipal", "accountEnabled": True,
             "appRoleAssignmentRequired": False, "servicePrincipalType": "Application",
             "appRoles": [], **sp} for sp in em.store.items("tenant", SP_KIND)]


def _principal(em: Emulator, sp_id: str) -> dict[str, Any]:
    found = next((sp for sp in service_principals(em) if sp["id"] == sp_id), None)
    if found is None:
        raise not_found(sp_id)
    return found


@router.route("GET", V1 + "/servicePrincipals")
def list_service_principals(em: Emulator, request: Request) -> Response:
    items = odata.refine(service_principals(em), request)
    page, more, count = odata.offset_page(request, items,
                                          odata.directory_page_size(request, em.limits))
    fields = odata.select_fields(request)
    return odata.page_response(request, [odata.select(sp, fields, None) for sp in page], more,
                               "servicePrincipals", count)


@router.route("GET", V1 + "/servicePrincipals/{sp}")
def get_service_principal(em: Emulator, request: Request, sp: str) -> Response:
    if sp.startswith("appId="):  # servicePrincipals(appId='...'), split by paths.normalise
        return get_service_principal_by_app_id(em, request, sp.removeprefix("appId="))
    found = _principal(em, sp)
    return Response.of_json(200, odata.select(found, odata.select_fields(request), None))


def get_service_principal_by_app_id(em: Emulator, request: Request, app: str) -> Response:
    """`servicePrincipals(appId='...')`: the alternate key."""
    app_id = unquote(app).strip("'")
    found = next((s for s in service_principals(em) if s.get("appId") == app_id), None)
    if found is None:
        raise not_found(app_id)
    return Response.of_json(200, odata.select(found, odata.select_fields(request), None))


def assignments_of(em: Emulator, principal_id: str) -> list[dict[str, Any]]:
    """A principal's app role assignments; a user's include its direct groups' (which pass
    them on)."""
    owners = [principal_id]
    if em.store.get_object(principal_id, "user") is not None:
        owners += em.store.groups_of(principal_id)
    return [{"@odata.type": "#microsoft.graph.appRoleAssignment", "deletedDateTime": None, **a}
            for owner in owners for a in em.store.items(owner, KIND)]


def assigned_to(em: Emulator, resource_id: str) -> list[dict[str, Any]]:
    """The assignments granted on a resource service principal (appRoleAssignedTo)."""
    return [{"@odata.type": "#microsoft.graph.appRoleAssignment", "deletedDateTime": None, **a}
            for owner in _owners(em) for a in em.store.items(owner, KIND)
            if a["resourceId"] == resource_id]


def _new_id(principal_id: str) -> str:
    """Opaque, 43 characters, like Graph's (base64url of the principal id and a salt)."""
    raw = uuid.UUID(principal_id).bytes + uuid.uuid4().bytes[:16]
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")[:43]


@router.route("GET", V1 + "/users/{key}/appRoleAssignments")
def list_user_assignments(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    items = odata.refine(assignments_of(em, user["id"]), request)
    fields = odata.select_fields(request)
    count = len(items) if request.query.get("$count", "").lower() == "true" else None
    return odata.page_response(request, [odata.select(a, fields, None) for a in items], None,
                               f"users('{user['id']}')/appRoleAssignments", count)


@router.route("GET", V1 + "/groups/{key}/appRoleAssignments")
def list_group_assignments(em: Emulator, request: Request, key: str) -> Response:
    group = find_group(em, key)
    return odata.page_response(request, assignments_of(em, group["id"]), None,
                               f"groups('{group['id']}')/appRoleAssignments")


@router.route("GET", V1 + "/servicePrincipals/{sp}/appRoleAssignedTo")
def list_assigned_to(em: Emulator, request: Request, sp: str) -> Response:
    resource = _principal(em, sp)
    items = assigned_to(em, resource["id"])
    return odata.page_response(request, odata.refine(items, request), None,
                               f"servicePrincipals('{sp}')/appRoleAssignedTo")


def _owners(em: Emulator) -> list[str]:
    rows = em.store.db.execute("SELECT DISTINCT owner FROM items WHERE kind=?", (KIND,))
    return [r[0] for r in rows]


@router.route("POST", V1 + "/users/{key}/appRoleAssignments")
def add_user_assignment(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    body = request.json() or {}
    if str(body.get("principalId", "")).lower() != user["id"].lower():
        raise bad_request("The principalId in the body must be the user in the path.")
    return _assign(em, request, user, "User", body)


@router.route("POST", V1 + "/groups/{key}/appRoleAssignments")
def add_group_assignment(em: Emulator, request: Request, key: str) -> Response:
    group = find_group(em, key)
    return _assign(em, request, group, "Group", request.json() or {})


@router.route("POST", V1 + "/servicePrincipals/{sp}/appRoleAssignedTo")
def add_assigned_to(em: Emulator, request: Request, sp: str) -> Response:
    body = request.json() or {}
    if body.get("resourceId") != sp:
        raise bad_request("The resourceId in the body must be the service principal in the path.")
    principal = em.store.get_object(str(body.get("principalId", "")))
    if principal is None:
        raise not_found(str(body.get("principalId")))
    kind = "Group" if principal.get("@kind") == "group" else "User"
    return _assign(em, request, principal, kind, body)


def _assign(em: Emulator, request: Request, principal: dict[str, Any], kind: str,
            body: dict[str, Any]) -> Response:
    resource_id = str(body.get("resourceId", ""))
    resource = next((sp for sp in service_principals(em) if sp["id"] == resource_id), None)
    if resource is None:
        raise not_found(resource_id)
    role_id = str(body.get("appRoleId", ""))
    assignable = [r for r in resource.get("appRoles", [])
                  if r.get("isEnabled", True) and "User" in r.get("allowedMemberTypes", ["User"])]
    valid = {r["id"] for r in assignable} or {DEFAULT_ACCESS}
    if role_id not in valid:
        raise bad_request("Permission being assigned was not found on application",
                          code="Request_BadRequest")
    for existing in em.store.items(principal["id"], KIND):
        if existing["resourceId"] == resource_id and existing["appRoleId"] == role_id:
            raise bad_request("Permission being assigned already exists on the object",
                              code="Request_BadRequest")
    assignment = {
        "id": _new_id(principal["id"]), "appRoleId": role_id, "createdDateTime": em.now_text(),
        "principalId": principal["id"], "principalType": kind,
        "principalDisplayName": principal.get("displayName"),
        "resourceId": resource_id, "resourceDisplayName": resource.get("displayName"),
    }
    em.store.put_item(principal["id"], KIND, assignment["id"], assignment)
    em.audit(request, "Add app role assignment grant to user", _target(principal, kind),
             {"AppRole.Id": (None, role_id), "ServicePrincipal.DisplayName":
              (None, resource.get("displayName"))}, category="ApplicationManagement")
    return Response.of_json(201, {"@odata.type": "#microsoft.graph.appRoleAssignment",
                                  "deletedDateTime": None, **assignment})


def _target(principal: dict[str, Any], kind: str) -> dict[str, Any]:
    if kind == "User":
        return user_target(principal)
    return {"id": principal["id"], "displayName": principal.get("displayName"), "type": kind}


@router.route("DELETE", V1 + "/users/{key}/appRoleAssignments/{assignment}")
def delete_user_assignment(em: Emulator, request: Request, key: str, assignment: str) -> Response:
    user = find_user(em, key)
    return _unassign(em, request, user, "User", assignment)


@router.route("DELETE", V1 + "/groups/{key}/appRoleAssignments/{assignment}")
def delete_group_assignment(em: Emulator, request: Request, key: str,
                            assignment: str) -> Response:
    return _unassign(em, request, find_group(em, key), "Group", assignment)


@router.route("DELETE", V1 + "/servicePrincipals/{sp}/appRoleAssignedTo/{assignment}")
def delete_assigned_to(em: Emulator, request: Request, sp: str, assignment: str) -> Response:
    for owner in _owners(em):
        found = em.store.item(owner, KIND, assignment)
        if found is not None and found["resourceId"] == sp:
            principal = em.store.get_object(owner) or {"id": owner}
            return _unassign(em, request, principal, found["principalType"], assignment)
    raise not_found(assignment)


def _unassign(em: Emulator, request: Request, principal: dict[str, Any], kind: str,
              assignment: str) -> Response:
    found = em.store.item(principal["id"], KIND, assignment)
    if found is None:
        raise GraphError(404, "Request_ResourceNotFound",
                         f"Resource '{assignment}' does not exist or one of its queried "
                         "reference-property objects are not present.")
    em.store.delete_item(principal["id"], KIND, assignment)
    em.audit(request, "Remove app role assignment from user", _target(principal, kind),
             {"AppRole.Id": (found["appRoleId"], None)}, category="ApplicationManagement")
    return Response.empty()
