"""Emulated organization routes: the tenant's own object and its open extensions.

Graph: GET /organization, and open extensions on the organization resource
(POST/GET/PATCH/DELETE /organization/{id}/extensions[/{name}]), with the same rule as on
users: POST of an extension name that exists answers 409. reconciler keeps its apply lock
there, so every machine that can reach the tenant sees it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.emulator import odata
from reconciler.emulator import open_extensions as extensions
from reconciler.emulator.routes.common import V1
from reconciler.emulator.wire import Request, Response, Router, not_found

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

router = Router()


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
    return odata.page_response(request, em.store.items(owner, extensions.KIND), None,
                               f"organization('{owner}')/extensions")


@router.route("POST", V1 + "/organization/{key}/extensions")
def add_extension(em: Emulator, request: Request, key: str) -> Response:
    return Response.of_json(201, extensions.create(em, _owner(em, key), request.json() or {}))


@router.route("GET", V1 + "/organization/{key}/extensions/{name}")
def get_extension(em: Emulator, request: Request, key: str, name: str) -> Response:
    return Response.of_json(200, extensions.get(em, _owner(em, key), name))


@router.route("PATCH", V1 + "/organization/{key}/extensions/{name}")
def update_extension(em: Emulator, request: Request, key: str, name: str) -> Response:
    extensions.update(em, _owner(em, key), name, request.json() or {})
    return Response.empty()


@router.route("DELETE", V1 + "/organization/{key}/extensions/{name}")
def delete_extension(em: Emulator, request: Request, key: str, name: str) -> Response:
    extensions.delete(em, _owner(em, key), name)
    return Response.empty()
