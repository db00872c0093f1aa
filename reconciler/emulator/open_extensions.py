"""Open extensions (openTypeExtension), as Graph keeps them on any resource that has an
`extensions` navigation (users, the organization): one rule for every owner.

Graph: POST .../extensions creates one named by `extensionName` (required) and answers 409
when that name exists (reconciler's apply lock relies on it); GET, PATCH (a merge that keeps
`id` and `@odata.type`) and DELETE address one by name and answer 404 when it is absent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.emulator.wire import GraphError, bad_request, not_found

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

KIND = "extension"


def create(em: Emulator, owner: str, body: dict[str, Any]) -> dict[str, Any]:
    name = body.get("extensionName")
    if not name:
        raise bad_request("The extensionName property is required.")
    if em.store.item(owner, KIND, name):
        raise GraphError(409, "Request_BadRequest", "An extension already exists with given id.")
    extension = {"@odata.type": "#microsoft.graph.openTypeExtension", **body, "id": name}
    em.store.put_item(owner, KIND, name, extension)
    return extension


def get(em: Emulator, owner: str, name: str) -> dict[str, Any]:
    found = em.store.item(owner, KIND, name)
    if found is None:
        raise not_found(name)
    return found


def update(em: Emulator, owner: str, name: str, body: dict[str, Any]) -> None:
    found = get(em, owner, name)
    found.update({k: v for k, v in body.items() if k not in ("id", "@odata.type")})
    em.store.put_item(owner, KIND, name, found)


def delete(em: Emulator, owner: str, name: str) -> None:
    if not em.store.delete_item(owner, KIND, name):
        raise not_found(name)
