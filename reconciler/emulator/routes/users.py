"""Emulated /users: list, get, create, update, soft delete, manager, memberOf, delta."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from typing import TYPE_CHECKING, Any

from reconciler.emulator import odata
from reconciler.emulator.routes.common import (
    V1,
    assigned_plans,
    directory_role,
    domains,
    find_object,
    find_user,
    no_me,
    ref_id,
    served_user,
    user_target,
)
from reconciler.emulator.rules import (
    EXTENSION_ATTRIBUTES,
    SYNC_MASTERED,
    SYNC_MASTERED_MESSAGE,
    USER_DEFAULT_SELECT,
    USER_REQUIRED_ON_CREATE,
    USER_WRITABLE,
    blank_user,
    password_meets_complexity,
    user_properties,
    user_read_only,
)
from reconciler.emulator.wire import Request, Response, Router, bad_request, not_found

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

router = Router()


def _project(em: Emulator, request: Request, users: list[dict[str, Any]]) -> list[dict]:
    fields = odata.select_fields(request)
    default = USER_DEFAULT_SELECT  # ConsistencyLevel does not widen it
    licenses = em.store.licenses_of(u["id"] for u in users)
    served = [served_user(em, u, licenses[u["id"]]) for u in users]
    out = []
    for user in served:
        if fields and "assignedPlans" in fields:
            user["assignedPlans"] = assigned_plans(em, user)
        out.append(odata.select(user, fields, default, user_properties(), "user"))
    return out


@router.route("GET", V1 + "/users")
def list_users(em: Emulator, request: Request) -> Response:
    size = odata.directory_page_size(request, em.limits)
    advanced = odata.advanced_feature(request)
    if not (advanced or odata.refined(request) or request.count_segment or
            odata.counted(request)):
        # keyset paging over the whole collection
        state = odata.decode_token(request.query["$skiptoken"]) \
            if "$skiptoken" in request.query else {}
        users = em.replica_list("user", em.store.list_objects("user", state.get("after", ""),
                                                              size + 1))
        more = len(users) > size
        users = users[:size]
        next_state = {"after": users[-1]["id"]} if more else None
        return odata.page_response(request, _project(em, request, users), next_state, "users")
    users = em.replica_list("user", list(em.store.all_objects("user")))
    licenses = em.store.licenses_of(u["id"] for u in users)
    return odata.serve_collection(
        request, users, em.limits, "users", USER_DEFAULT_SELECT, "user",
        project=lambda page: _project(em, request, page),
        view=lambda u: served_user(em, u, licenses[u["id"]]))


@router.route("GET", V1 + "/me")
def me(em: Emulator, request: Request) -> Response:
    raise no_me(request)


@router.route("GET", V1 + "/users/{key}")
def get_user(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    body = _project(em, request, [user])[0]
    body = {"@odata.context": f"{request.origin}/v1.0/$metadata#users/$entity", **body}
    return Response.of_json(200, body)


@router.route("POST", V1 + "/users")
def create_user(em: Emulator, request: Request) -> Response:
    body = request.json() or {}
    _check_writable(body)
    for name in USER_REQUIRED_ON_CREATE:
        if body.get(name) in (None, ""):
            raise bad_request(f"Invalid value specified for property '{name}' of resource "
                              "'User'.")
    upn = body["userPrincipalName"]
    _check_upn(em, upn)
    _check_password(body["passwordProfile"])
    user = blank_user()
    user.update(_merged(user, body))
    user["id"] = str(uuid.uuid4())
    user["mail"] = body.get("mail")
    user["createdDateTime"] = em.now_text()
    user["creationType"] = None
    user["passwordProfile"] = None  # write-only: never returned
    em.store.put_object("user", user, created=time.time())
    remember_password(em, user["id"], body["passwordProfile"])
    em.audit(request, "Add user", user_target(user), {"AccountEnabled": (None, user[
        "accountEnabled"]), "DisplayName": (None, user["displayName"])})
    body_out = {"@odata.context": f"{request.origin}/v1.0/$metadata#users/$entity",
                **odata.select(served_user(em, user), None, USER_DEFAULT_SELECT)}
    return Response.of_json(201, body_out, {"Location": request.link(
        f"/v1.0/users/{user['id']}")})


@router.route("PATCH", V1 + "/users/{key}")
def update_user(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    body = request.json() or {}
    _check_writable(body)
    if user.get("onPremisesSyncEnabled") and SYNC_MASTERED & set(body):
        raise bad_request(SYNC_MASTERED_MESSAGE)
    if "userPrincipalName" in body and body["userPrincipalName"].lower() != \
            user["userPrincipalName"].lower():
        _check_upn(em, body["userPrincipalName"])
    if "passwordProfile" in body:
        _check_password(body["passwordProfile"])
    if "usageLocation" in body and body["usageLocation"] is None and user.get("usageLocation"):
        raise bad_request("Invalid value specified for property 'usageLocation' of resource "
                          "'User'.")
    if "displayName" in body and not body["displayName"]:
        raise bad_request("Invalid value specified for property 'displayName' of resource "
                          "'User'.")
    merged = _merged(user, body)
    changed = {k: (user.get(k), merged[k]) for k in merged
               if user.get(k) != merged[k] and k != "passwordProfile"}
    if "passwordProfile" in body:
        merged["lastPasswordChangeDateTime"] = em.now_text()
        merged["passwordProfile"] = None
    user.update(merged)
    em.store.put_object("user", user)
    if "passwordProfile" in body:
        remember_password(em, user["id"], body["passwordProfile"])
    activity = "Reset user password" if "passwordProfile" in body else "Update user"
    em.audit(request, activity, user_target(user), changed)
    return Response.empty()


def _merged(user: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    merged = dict(body)
    if "onPremisesExtensionAttributes" in body:
        current = dict(user.get("onPremisesExtensionAttributes") or {})
        for name, value in (body["onPremisesExtensionAttributes"] or {}).items():
            if name not in EXTENSION_ATTRIBUTES:
                raise bad_request(f"Property '{name}' does not exist as a declared property or "
                                  "extension property.")
            current[name] = value
        merged["onPremisesExtensionAttributes"] = current
    if "businessPhones" in body and len(body["businessPhones"] or []) > 1:
        raise bad_request("Invalid value specified for property 'businessPhones' of resource "
                          "'User'.")
    return merged


def _check_writable(body: dict[str, Any]) -> None:
    """"Update user": only its writable properties. A directory extension property
    (`extension_{appId}_{name}`) needs registering on an application first, which the
    emulated tenant has none of: Graph's "not available" answer."""
    for name in body:
        if name.startswith("extension_"):
            raise bad_request(f"The following extension properties are not available: {name}.")
        if name in user_read_only():
            raise bad_request(f"Property '{name}' is read-only and cannot be set.")
        if name not in USER_WRITABLE and not name.startswith("@"):
            raise bad_request(f"Property '{name}' does not exist as a declared property or "
                              "extension property.")


def _check_upn(em: Emulator, upn: str) -> None:
    domain = upn.rsplit("@", 1)[-1].lower()
    if "#ext#" not in upn.lower() and domain not in domains(em):
        raise bad_request("Property userPrincipalName is invalid: the domain portion of the "
                          "userPrincipalName property is invalid. You must use one of the "
                          "verified domain names in your organization.")
    taken = em.store.user_id_by_upn(upn) or any(
        u["userPrincipalName"].lower() == upn.lower()
        for u in em.store.all_objects("user", deleted=True))
    if taken:
        raise bad_request("Another object with the same value for property userPrincipalName "
                          "already exists.")


def _check_password(profile: Any) -> None:
    password = (profile or {}).get("password") if isinstance(profile, dict) else None
    if password is not None and not password_meets_complexity(password):
        raise bad_request("The specified password does not comply with password complexity "
                          "requirements. Please provide a different password.")


def remember_password(em: Emulator, user_id: str, profile: Any) -> None:
    """What the service keeps of a password: a salted hash, never the password (an item no
    route serves; tests check a delivered password against it, as a sign-in would)."""
    password = (profile or {}).get("password") if isinstance(profile, dict) else None
    if password is None:
        return
    salt = secrets.token_hex(8)
    em.store.put_item(user_id, "credential", "password", {
        "salt": salt, "sha256": hashlib.sha256((salt + password).encode()).hexdigest(),
        "at": em.now_text()})


@router.route("DELETE", V1 + "/users/{key}")
def delete_user(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    user["deletedDateTime"] = em.now_text()
    em.store.put_object("user", user)
    em.audit(request, "Delete user", user_target(user))
    return Response.empty()


@router.route("GET", V1 + "/users/{key}/manager")
def get_manager(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    manager_id = em.store.manager_of(user["id"])
    manager = em.store.get_object(manager_id, "user") if manager_id else None
    if manager is None:
        raise not_found("manager")
    fields = odata.select_fields(request)
    return Response.of_json(200, {"@odata.type": "#microsoft.graph.user",
                                  **odata.select(manager, fields, USER_DEFAULT_SELECT)})


@router.route("PUT", V1 + "/users/{key}/manager/$ref")
def set_manager(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    manager = find_object(em, ref_id(request.json()))
    if manager["id"] == user["id"]:
        raise bad_request("Invalid value specified for property 'manager' of resource 'User'.")
    old = em.store.manager_of(user["id"])
    em.store.set_manager(user["id"], manager["id"])
    em.store.put_object("user", user)  # a manager change is a change to the user (delta)
    em.audit(request, "Set manager", user_target(user), {"Manager": (old, manager["id"])})
    return Response.empty()


@router.route("DELETE", V1 + "/users/{key}/manager/$ref")
def remove_manager(em: Emulator, request: Request, key: str) -> Response:
    user = find_user(em, key)
    old = em.store.manager_of(user["id"])
    if old is None:
        raise not_found("manager")
    em.store.set_manager(user["id"], None)
    em.store.put_object("user", user)
    em.audit(request, "Remove manager", user_target(user), {"Manager": (old, None)})
    return Response.empty()


def member_of_objects(em: Emulator, object_id: str, transitive: bool) -> list[dict[str, Any]]:
    """The groups (directly, or also through nested groups) and directory roles an object is
    a member of, as Graph serves them in memberOf / transitiveMemberOf."""
    seen: list[str] = []
    frontier = em.store.groups_of(object_id)
    while frontier:
        group_id = frontier.pop(0)
        if group_id in seen:
            continue
        seen.append(group_id)
        if transitive:
            frontier.extend(em.store.groups_of(group_id))
    out = []
    for group_id in seen:
        group = em.store.get_object(group_id, "group")
        if group:
            group.pop("@kind", None)
            out.append({"@odata.type": "#microsoft.graph.group", **group})
    for assignment in em.store.role_assignments(principal_id=object_id):
        out.append({"@odata.type": "#microsoft.graph.directoryRole",
                    **directory_role(em, assignment["roleDefinitionId"])})
    return out


def _member_of(em: Emulator, request: Request, key: str, transitive: bool) -> Response:
    user = find_user(em, key)
    return odata.serve_collection(request, member_of_objects(em, user["id"], transitive),
                                  em.limits, "directoryObjects", None)


@router.route("GET", V1 + "/users/{key}/memberOf")
def member_of(em: Emulator, request: Request, key: str) -> Response:
    return _member_of(em, request, key, False)


@router.route("GET", V1 + "/users/{key}/transitiveMemberOf")
def transitive_member_of(em: Emulator, request: Request, key: str) -> Response:
    return _member_of(em, request, key, True)
