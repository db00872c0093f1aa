"""Emulated /groups: list, get, members (list, $ref add/remove, members@odata.bind)."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from reconciler.emulator import odata
from reconciler.emulator.routes.common import (
    V1,
    domains,
    find_group,
    find_object,
    group_target,
    ref_id,
)
from reconciler.emulator.rules import (
    GROUP_READ_ONLY,
    GROUP_REQUIRED_ON_CREATE,
    READ_ONLY_MESSAGE,
    SYNC_MASTERED_MESSAGE,
    blank_group,
    group_kind,
    group_properties,
)
from reconciler.emulator.wire import Request, Response, Router, bad_request, not_found

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

router = Router()
MAX_BIND = 20
ALREADY_MEMBER = ("One or more added object references already exist for the following "
                  "modified properties: 'members'.")
EXCHANGE_MASTERED = "Cannot Update a mail-enabled security groups and or distribution list."
DYNAMIC = ("Unable to update the specified properties for objects that have membership "
           "rules: members of a dynamic group are computed from its membershipRule.")


def _served(group: dict[str, Any]) -> dict[str, Any]:
    """The group as Graph returns it: its default properties (null or [] when unset)."""
    return {**blank_group(), **{k: v for k, v in group.items() if not k.startswith("@")}}


@router.route("GET", V1 + "/groups")
def list_groups(em: Emulator, request: Request) -> Response:
    groups = [_served(g) for g in em.replica_list("group", list(em.store.all_objects("group")))]
    return odata.serve_collection(request, groups, em.limits, "groups", None, "group")


@router.route("POST", V1 + "/groups")
def create_group(em: Emulator, request: Request) -> Response:
    """Create group: displayName, mailEnabled, mailNickname and securityEnabled required;
    members@odata.bind and owners@odata.bind (at most 20) may come with it."""
    body = request.json() or {}
    members = body.pop("members@odata.bind", None) or []
    body.pop("owners@odata.bind", None)
    for name in GROUP_REQUIRED_ON_CREATE:
        if body.get(name) is None or body.get(name) == "":
            raise bad_request(f"Invalid value specified for property '{name}' of resource "
                              "'Group'.")
    known = group_properties()
    for name in body:
        if name in GROUP_READ_ONLY:
            raise bad_request(READ_ONLY_MESSAGE.format(name))
        if name not in known and not name.startswith("@"):
            raise bad_request(f"Property '{name}' does not exist as a declared property or "
                              "extension property.")
    if len(members) > MAX_BIND:
        raise bad_request(f"The number of members to add ({len(members)}) exceeds the limit of "
                          f"{MAX_BIND} per request.")
    if body.get("mailEnabled") and "Unified" not in (body.get("groupTypes") or []):
        raise bad_request("Creating mail-enabled security groups and distribution groups is not "
                          "supported through Microsoft Graph; use Exchange Online.")
    group = {"id": str(uuid.uuid4()), "description": None, "groupTypes": [], "mail": None,
             "visibility": None, "membershipRule": None, "isAssignableToRole": None,
             "onPremisesSyncEnabled": None, "proxyAddresses": [], "deletedDateTime": None,
             **body, "createdDateTime": em.now_text()}
    group["renewedDateTime"] = group["createdDateTime"]
    if "Unified" in group["groupTypes"]:
        domain = (domains(em) or ["contoso.onmicrosoft.com"])[0]
        group["mail"] = f"{group['mailNickname']}@{domain}"
        group["proxyAddresses"] = [f"SMTP:{group['mail']}"]
    em.store.put_object("group", group, created=time.time())
    em.audit(request, "Add group", group_target(group), {
        "DisplayName": (None, group["displayName"])}, category="GroupManagement")
    if members:
        group["@kind"] = "group"
        _add_members(em, request, group, [ref_id(m) for m in members])
        group.pop("@kind", None)
    return Response.of_json(201, {"@odata.context": f"{request.origin}/v1.0/$metadata#groups/"
                                  "$entity", **_served(group)},
                            {"Location": request.link(f"/v1.0/groups/{group['id']}")})


@router.route("DELETE", V1 + "/groups/{key}")
def delete_group(em: Emulator, request: Request, key: str) -> Response:
    """Delete group: Microsoft 365 groups go to deleted items (restorable for 30 days);
    security groups are deleted permanently."""
    group = find_group(em, key)
    if group.get("onPremisesSyncEnabled"):
        raise bad_request(SYNC_MASTERED_MESSAGE)
    group.pop("@kind", None)
    if "Unified" in (group.get("groupTypes") or []):
        group["deletedDateTime"] = em.now_text()
        em.store.put_object("group", group)
    else:
        em.store.purge_object(group["id"])
    em.audit(request, "Delete group", group_target(group), category="GroupManagement")
    return Response.empty()


@router.route("GET", V1 + "/groups/{key}")
def get_group(em: Emulator, request: Request, key: str) -> Response:
    group = find_group(em, key)
    body = odata.select(_served(group), odata.select_fields(request), None, group_properties(),
                        "group")
    return Response.of_json(200, {"@odata.context": f"{request.origin}/v1.0/$metadata#groups/"
                                  "$entity", **body})


def check_member_writes(group: dict[str, Any]) -> None:
    """Graph refuses member writes to groups it does not master."""
    kind = group_kind(group)
    if group.get("onPremisesSyncEnabled"):
        raise bad_request(SYNC_MASTERED_MESSAGE)
    if kind in ("distribution", "mailEnabledSecurity"):
        raise bad_request(EXCHANGE_MASTERED)
    if kind == "dynamic":
        raise bad_request(DYNAMIC)


def _add_members(em: Emulator, request: Request, group: dict[str, Any], ids: list[str]) -> None:
    check_member_writes(group)
    members = [find_object(em, member_id) for member_id in ids]
    if len({m["id"] for m in members}) != len(members) or any(
            em.store.is_member(group["id"], m["id"]) for m in members):
        raise bad_request(ALREADY_MEMBER)
    if group_kind(group) == "unified" and any(m["@kind"] != "user" for m in members):
        raise bad_request("Members of a Microsoft 365 group must be users.")
    for member in members:
        em.store.set_member(group["id"], member["id"], True)
        target = group_target(group)
        em.audit(request, "Add member to group", target, {
            "Group.ObjectID": (None, group["id"]), "Member.ObjectID": (None, member["id"]),
            "Member.UserPrincipalName": (None, member.get("userPrincipalName"))},
            category="GroupManagement")
    em.store.put_object("group", group)


@router.route("POST", V1 + "/groups/{key}/members/$ref")
def add_member(em: Emulator, request: Request, key: str) -> Response:
    group = find_group(em, key)
    _add_members(em, request, group, [ref_id(request.json())])
    return Response.empty()


@router.route("PATCH", V1 + "/groups/{key}")
def update_group(em: Emulator, request: Request, key: str) -> Response:
    group = find_group(em, key)
    body = request.json() or {}
    binds = body.pop("members@odata.bind", None)
    if binds is not None:
        if not isinstance(binds, list) or len(binds) > MAX_BIND:
            raise bad_request(f"The number of members to add ({len(binds or [])}) exceeds the "
                              f"limit of {MAX_BIND} per request.")
        _add_members(em, request, group, [ref_id(b) for b in binds])
    for name in body:
        if name in GROUP_READ_ONLY:
            raise bad_request(READ_ONLY_MESSAGE.format(name))
        if name not in group_properties() or name == "members":
            raise bad_request(f"Property '{name}' does not exist as a declared property or "
                              "extension property.")
    if body:
        if group.get("onPremisesSyncEnabled"):
            raise bad_request(SYNC_MASTERED_MESSAGE)
        changed = {k: (group.get(k), v) for k, v in body.items() if group.get(k) != v}
        group.update(body)
        em.store.put_object("group", group)
        em.audit(request, "Update group", group_target(group), changed,
                 category="GroupManagement")
    return Response.empty()


@router.route("DELETE", V1 + "/groups/{key}/members/{member}/$ref")
def remove_member(em: Emulator, request: Request, key: str, member: str) -> Response:
    group = find_group(em, key)
    check_member_writes(group)
    if not em.store.is_member(group["id"], member):
        raise not_found(member)
    em.store.set_member(group["id"], member, False)
    em.store.put_object("group", group)
    em.audit(request, "Remove member from group", group_target(group), {
        "Group.ObjectID": (group["id"], None), "Member.ObjectID": (member, None)},
        category="GroupManagement")
    return Response.empty()


def _member_objects(em: Emulator, ids: list[str]) -> list[dict[str, Any]]:
    objects = [em.store.get_object(i) for i in ids]
    return [{"@odata.type": f"#microsoft.graph.{o.pop('@kind')}", **o} for o in objects if o]


MEMBER_DEFAULT = ("displayName", "userPrincipalName", "mail", "jobTitle", "businessPhones",
                  "givenName", "surname", "mobilePhone", "officeLocation", "preferredLanguage")


@router.route("GET", V1 + "/groups/{key}/members")
def list_members(em: Emulator, request: Request, key: str) -> Response:
    group = find_group(em, key)
    plain = not (odata.refined(request) or request.cast or request.count_segment or
                 "$count" in request.query)
    if plain:  # keyset paging: large groups are read page by page without loading them all
        size = odata.directory_page_size(request, em.limits)
        state = odata.decode_token(request.query["$skiptoken"]) \
            if "$skiptoken" in request.query else {}
        ids = em.store.members_of(group["id"], state.get("after", ""), size + 1)
        more = {"after": ids[size - 1]} if len(ids) > size else None
        items = _member_objects(em, ids[:size])
        fields = odata.select_fields(request)
        items = [odata.select(i, fields, MEMBER_DEFAULT) for i in items]
        return odata.page_response(request, items, more, "directoryObjects")
    return odata.serve_collection(request, _member_objects(em, em.store.members_of(group["id"])),
                                  em.limits, "directoryObjects", MEMBER_DEFAULT)


def transitive_member_ids(em: Emulator, group_id: str) -> list[str]:
    """The members of a group and, through nested groups, theirs."""
    seen: list[str] = []
    frontier = em.store.members_of(group_id)
    while frontier:
        member = frontier.pop(0)
        if member in seen:
            continue
        seen.append(member)
        if (em.store.get_object(member) or {}).get("@kind") == "group":
            frontier.extend(em.store.members_of(member))
    return seen


@router.route("GET", V1 + "/groups/{key}/transitiveMembers")
def list_transitive_members(em: Emulator, request: Request, key: str) -> Response:
    group = find_group(em, key)
    return odata.serve_collection(request, _member_objects(em, transitive_member_ids(
        em, group["id"])), em.limits, "directoryObjects", MEMBER_DEFAULT)


@router.route("GET", V1 + "/groups/{key}/memberOf")
def group_member_of(em: Emulator, request: Request, key: str) -> Response:
    from reconciler.emulator.routes.users import member_of_objects

    group = find_group(em, key)
    return odata.serve_collection(request, member_of_objects(em, group["id"], False),
                                  em.limits, "directoryObjects", None)
