"""Emulated group owners (`/groups/{id}/owners`): list, add by reference, remove.

Rules served (group-post-owners, group-delete-owners): an owner is a user or service principal
referenced by `@odata.id`; adding an existing owner is a 400 "One or more added object
references already exist"; removing a non-owner is a 404; the last owner of a Microsoft 365
group can be removed by an application (the portal keeps one, Graph does not).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.emulator import odata
from reconciler.emulator.routes.common import V1, find_group, group_target, ref_id
from reconciler.emulator.wire import GraphError, Request, Response, Router, bad_request, not_found

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

router = Router()
KIND = "groupOwner"


@router.route("GET", V1 + "/groups/{key}/owners")
def list_owners(em: Emulator, request: Request, key: str) -> Response:
    group = find_group(em, key)
    owners = []
    for item in em.store.items(group["id"], KIND):
        found = em.store.get_object(item["id"])
        if found is not None:
            kind = found.pop("@kind", "user")
            owners.append({"@odata.type": f"#microsoft.graph.{kind}",
                           **{k: v for k, v in found.items() if not k.startswith("@")}})
    fields = odata.select_fields(request)
    return odata.page_response(request, [odata.select(o, fields, None) for o in owners], None,
                               "directoryObjects")


@router.route("POST", V1 + "/groups/{key}/owners/$ref")
def add_owner(em: Emulator, request: Request, key: str) -> Response:
    group = find_group(em, key)
    owner_id = ref_id(request.json() or {})
    if em.replica(em.store.get_object(owner_id, "user"), owner_id) is None:
        raise not_found(owner_id)
    if em.store.item(group["id"], KIND, owner_id) is not None:
        raise bad_request("One or more added object references already exist for the "
                          "following modified properties: 'owners'.")
    em.store.put_item(group["id"], KIND, owner_id, {"id": owner_id})
    em.audit(request, "Add owner to group", group_target(group), {"Owner": (None, owner_id)},
             category="GroupManagement")
    return Response.empty()


@router.route("DELETE", V1 + "/groups/{key}/owners/{owner}/$ref")
def remove_owner(em: Emulator, request: Request, key: str, owner: str) -> Response:
    group = find_group(em, key)
    if not em.store.delete_item(group["id"], KIND, owner):
        raise GraphError(404, "Request_ResourceNotFound", f"Resource '{owner}' does not exist "
                         "or one of its queried reference-property objects are not present.")
    em.audit(request, "Remove owner from group", group_target(group), {"Owner": (owner, None)},
             category="GroupManagement")
    return Response.empty()
