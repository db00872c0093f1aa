"""Emulated /groups: list, get, members (list, $ref add/remove, members@odata.bind)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.emulator import odata
from reconciler.emulator.routes.common import V1, find_group, find_object, group_target, ref_id
from reconciler.emulator.rules import SYNC_MASTERED_MESSAGE, group_kind, group_properties
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
    return {k: v for k, v in group.items() if not k.startswith("@")}


@router.route("GET", V1 + "/groups")
def list_groups(em: Emulator, request: Request) -> Response:
    size = odata.directory_page_size(request, em.limits)
    fields = odata.select_fields(request)
    odata.advanced_feature(request)
    groups = odata.refine(em.replica_list("group", list(em.store.all_objects("group"))),
                          request)
    page, more, count = odata.offset_page(request, groups, size)
    page = [odata.select(_served(g), fields, None, group_properties(), "group") for g in page]
    return odata.page_response(request, page, more, "groups", count)


@router.route("GET", V1 + "/groups/$count")
def count_groups(em: Emulator, request: Request) -> Response:
    return odata.count_response(request, sum(1 for _ in em.store.all_objects("group")))


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
        if name not in group_properties() or name in ("id", "members", "createdDateTime"):
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


def _members(em: Emulator, request: Request, key: str, cast: str | None) -> Response:
    group = find_group(em, key)
    size = odata.directory_page_size(request, em.limits)
    fields = odata.select_fields(request)
    odata.advanced_feature(request)
    filtered = odata.refined(request) or request.query.get("$count") == "true"
    if filtered:
        ids = em.store.members_of(group["id"])
    else:
        state = odata.decode_token(request.query["$skiptoken"]) \
            if "$skiptoken" in request.query else {}
        ids = em.store.members_of(group["id"], state.get("after", ""), size + 1)
    objects = [em.store.get_object(i) for i in ids]
    objects = [o for o in objects if o and (cast is None or o["@kind"] == cast)]
    items = [{"@odata.type": f"#microsoft.graph.{o.pop('@kind')}", **o} for o in objects]
    if filtered:
        items, more, count = odata.offset_page(request, odata.refine(items, request), size)
    else:
        more = {"after": ids[size - 1]} if len(ids) > size else None
        count = None
        items = items[:size] if len(ids) > size else items
    default = ("displayName", "userPrincipalName", "mail", "jobTitle", "businessPhones",
               "givenName", "surname", "mobilePhone", "officeLocation", "preferredLanguage")
    items = [odata.select(i, fields, default) for i in items]
    return odata.page_response(request, items, more, "directoryObjects", count)


@router.route("GET", V1 + "/groups/{key}/members")
def list_members(em: Emulator, request: Request, key: str) -> Response:
    return _members(em, request, key, None)


@router.route("GET", V1 + "/groups/{key}/members/microsoft.graph.user")
def list_user_members(em: Emulator, request: Request, key: str) -> Response:
    return _members(em, request, key, "user")


@router.route("GET", V1 + "/groups/{key}/members/microsoft.graph.user/$count")
def count_user_members(em: Emulator, request: Request, key: str) -> Response:
    group = find_group(em, key)
    return odata.count_response(request, sum(
        1 for i in em.store.members_of(group["id"])
        if (em.store.get_object(i) or {}).get("@kind") == "user"))
