"""How each directory relationship is read when a request `$expand`s it (expand.py applies
the rules; this module only says where the related objects live in the store).

A relationship the CSDL declares and the directory serves but the emulator keeps no data for
(registeredDevices, ownedDevices, createdObjects, ...) expands to an empty collection: the
emulated tenant has no such objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.emulator.expand import resolver
from reconciler.emulator.routes.common import directory_role, served_user

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator


def served(em: Emulator, obj: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored directory object as Graph serves it inside an expansion."""
    if obj is None:
        return None
    kind = obj.pop("@kind", "user")
    if kind == "user":
        obj = served_user(em, obj)
    body = {k: v for k, v in obj.items() if not k.startswith("@")}
    return {"@odata.type": f"#microsoft.graph.{kind}", **body}


def _objects(em: Emulator, ids: list[str]) -> list[dict[str, Any]]:
    out = [served(em, em.store.get_object(i)) for i in ids]
    return [o for o in out if o is not None]


@resolver("user", "manager")
def managers(em: Emulator, ids: list[str]) -> dict[str, Any]:
    found = em.store.managers_of(ids)
    return {i: served(em, em.store.get_object(found[i], "user")) for i in ids if i in found}


@resolver("user", "directReports")
def direct_reports(em: Emulator, ids: list[str]) -> dict[str, Any]:
    return {i: _objects(em, em.store.reports_of(i)) for i in ids}


@resolver("directoryObject", "memberOf")
def member_of(em: Emulator, ids: list[str]) -> dict[str, Any]:
    from reconciler.emulator.routes.users import member_of_objects

    return {i: member_of_objects(em, i, False) for i in ids}


@resolver("directoryObject", "transitiveMemberOf")
def transitive_member_of(em: Emulator, ids: list[str]) -> dict[str, Any]:
    from reconciler.emulator.routes.users import member_of_objects

    return {i: member_of_objects(em, i, True) for i in ids}


@resolver("group", "members")
def members(em: Emulator, ids: list[str]) -> dict[str, Any]:
    return {i: _objects(em, em.store.members_of(i)) for i in ids}


@resolver("group", "transitiveMembers")
def transitive_members(em: Emulator, ids: list[str]) -> dict[str, Any]:
    from reconciler.emulator.routes.groups import transitive_member_ids

    return {i: _objects(em, transitive_member_ids(em, i)) for i in ids}


@resolver("group", "owners")
def owners(em: Emulator, ids: list[str]) -> dict[str, Any]:
    from reconciler.emulator.routes.owners import KIND

    return {i: _objects(em, [o["id"] for o in em.store.items(i, KIND)]) for i in ids}


@resolver("user", "ownedObjects")
def owned_objects(em: Emulator, ids: list[str]) -> dict[str, Any]:
    from reconciler.emulator.routes.owners import KIND

    return {i: _objects(em, em.store.item_owners(KIND, i)) for i in ids}


@resolver("directoryRole", "members")
def role_members(em: Emulator, ids: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for role in em.store.items("tenant", "roleDefinition"):
        role_id = directory_role(em, role["id"])["id"]
        if role_id in ids:
            out[role_id] = _objects(em, [a["principalId"] for a in em.store.role_assignments(
                role_definition_id=role["id"])])
    return out


@resolver("user", "appRoleAssignments")
@resolver("group", "appRoleAssignments")
@resolver("servicePrincipal", "appRoleAssignments")
def app_role_assignments(em: Emulator, ids: list[str]) -> dict[str, Any]:
    from reconciler.emulator.routes.apps import assignments_of

    return {i: assignments_of(em, i) for i in ids}


@resolver("servicePrincipal", "appRoleAssignedTo")
def app_role_assigned_to(em: Emulator, ids: list[str]) -> dict[str, Any]:
    from reconciler.emulator.routes.apps import assigned_to

    return {i: assigned_to(em, i) for i in ids}


@resolver("user", "extensions")
@resolver("group", "extensions")
def extensions(em: Emulator, ids: list[str]) -> dict[str, Any]:
    return {i: [{"@odata.type": "#microsoft.graph.openTypeExtension", **e}
                for e in em.store.items(i, "extension")] for i in ids}
