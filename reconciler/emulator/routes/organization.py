"""Emulated organization routes: the tenant's own object and its open extensions.

Graph: GET /organization, and open extensions on the organization resource
(POST/GET/PATCH/DELETE /organization/{id}/extensions[/{name}]), with the same rule as on
users: POST of an extension name that exists answers 409. reconciler keeps its apply lock
there, so every machine that can reach the tenant sees it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.emulator import odata
from reconciler.emulator.routes.common import V1
from reconciler.emulator.wire import GraphError, Request, Response, Router, bad_request, not_found

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

router = Router()
KIND = "extension"


def _organization(em: Emulator) -> dict:
    return {"id": em.tenant_id, "displayName": em.store.get_meta("domain") or em.tenant_id,
            "verifiedDomains": [{"name": em.store.get_meta("domain"), "isDefault": True}]}


def _owner(em: Emulator, key: str) -> str:
    if key.lower() != em.tenant_id.lower():
        raise not_found(key)
    return em.tenant_id


@router.route("GET", V1 + "/organization")
def list_organization(em: Emulator, request: Request) -> Response:
    return odata.page_response(request, [_organization(em)], None, "organization")


@router.route("GET", V1 + "/organization/{key}/extensions")
def list_extensions(em: Emulator, request: Request, key: str) -> Response:
    owner = _owner(em, key)
    return odata.page_response(request, em.store.items(owner, KIND), None,
                               f"organization('{owner}')/extensions")


@router.route("POST", V1 + "/organization/{key}/extensions")
def add_extension(em: Emulator, request: Request, key: str) -> Response:
    owner = _owner(em, key)
    body = request.json() or {}
    name = body.get("extensionName")
    if not name:
        raise bad_request("The extensionName property is required.")
    if em.store.item(owner, KIND, name):
        raise GraphError(409, "Request_BadRequest", "An extension already exists with given id.")
    extension = {"@odata.type": "#microsoft.graph.openTypeExtension", **body, "id": name}
    em.store.put_item(owner, KIND, name, extension)
    return Response.of_json(201, extension)


@router.route("GET", V1 + "/organization/{key}/extensions/{name}")
def get_extension(em: Emulator, request: Request, key: str, name: str) -> Response:
    found = em.store.item(_owner(em, key), KIND, name)
    if found is None:
        raise not_found(name)
    return Response.of_json(200, found)


@router.route("PATCH", V1 + "/organization/{key}/extensions/{name}")
def update_extension(em: Emulator, request: Request, key: str, name: str) -> Response:
    owner = _owner(em, key)
    found = em.store.item(owner, KIND, name)
    if found is None:
        raise not_found(name)
    found.update({k: v for k, v in (request.json() or {}).items()
                  if k not in ("id", "@odata.type")})
    em.store.put_item(owner, KIND, name, found)
    return Response.empty()


@router.route("DELETE", V1 + "/organization/{key}/extensions/{name}")
def delete_extension(em: Emulator, request: Request, key: str, name: str) -> Response:
    if not em.store.delete_item(_owner(em, key), KIND, name):
        raise not_found(name)
    return Response.empty()
