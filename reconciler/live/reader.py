"""Reading live state in bulk: one listing per collection, per-user reads only where Graph
has no list (our open extension, photo presence), and those batched 20 at a time."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from reconciler.graph import requests as api
from reconciler.graph.batch import BatchItem, run_batch
from reconciler.graph.client import GraphClient
from reconciler.graph.exchange import ExchangeClient
from reconciler.graph.properties import group_kind
from reconciler.live.mailboxes import read_full_access, read_mailboxes, read_outlook
from reconciler.live.state import LiveGroup, LiveSku, LiveState, LiveUser, RoleAssignment

log = logging.getLogger(__name__)
STATE_EXTENSION = "io.reconciler.state"
Progress = Callable[[str], None]


def read_live(graph: GraphClient, needs: set[str], per_user: dict[str, set[str]] | None = None,
              *, exchange: ExchangeClient | None = None,
              progress: Progress | None = None) -> LiveState:
    """Read what `needs` names: users, managers, deleted, groups, roles, skus, mailboxes.

    `per_user` maps a per-user read (extension, photoPresence, fullAccess, calendar,
    replies) to the UPNs that need it; those are read per user, batched or bounded.
    """
    per_user = per_user or {}
    say = progress or (lambda _message: None)
    state = LiveState()
    _read_users(graph, state, "managers" in needs)
    say(f"read: users={len(state.users)}")
    every = [u.upn for u in state.users.values()]
    per_user = {tag: set(every) if "*" in upns else upns for tag, upns in per_user.items()}
    if "deleted" in needs:
        for item in graph.list(api.deleted_users().path):
            state.deleted_users[item["userPrincipalName"].lower()] = item["id"]
    if "groups" in needs:
        _read_groups(graph, state)
        memberships = sum(len(g.members) for g in state.groups.values())
        say(f"read: groups={len(state.groups)} memberships={memberships}")
    if "roles" in needs:
        for role in graph.list(api.list_role_definitions().path):
            state.roles[role["id"]] = role["displayName"]
        for item in graph.list(api.list_role_assignments().path):
            state.assignments.append(RoleAssignment(item["id"], item["roleDefinitionId"],
                                                    item["principalId"],
                                                    item.get("directoryScopeId") or "/"))
        say(f"read: roleDefinitions={len(state.roles)} roleAssignments="
            f"{len(state.assignments)}")
    if "skus" in needs:
        for sku in graph.list(api.list_skus().path):
            state.skus[sku["skuId"]] = LiveSku(
                sku["skuId"], sku["skuPartNumber"],
                int((sku.get("prepaidUnits") or {}).get("enabled") or 0),
                int(sku.get("consumedUnits") or 0),
                {p["servicePlanName"]: p["servicePlanId"] for p in sku.get("servicePlans", [])})
        say(f"read: subscribedSkus={len(state.skus)}")
    _read_per_user(graph, state, per_user.get("extension", ()),
                   per_user.get("photoPresence", ()), per_user.get("phones", ()))
    if "mailboxes" in needs and exchange is not None:
        read_mailboxes(exchange, state)
        read_full_access(exchange, graph, state, per_user.get("fullAccess", ()))
        read_outlook(graph, state, per_user.get("calendar", ()), per_user.get("replies", ()))
        say(f"read: mailboxes={sum(1 for u in state.users.values() if u.mailbox)}")
    state.read = set(needs) | {"users"}
    return state


def _read_users(graph: GraphClient, state: LiveState, managers: bool) -> None:
    request = api.list_users(with_manager=managers)
    for item in graph.list(request.path):
        licenses: dict[str, list[str]] = {}
        inherited: set[str] = set()
        for assignment in item.get("licenseAssignmentStates") or []:
            if assignment.get("assignedByGroup"):
                inherited.add(assignment["skuId"])
            else:
                licenses[assignment["skuId"]] = list(assignment.get("disabledPlans") or [])
        if not item.get("licenseAssignmentStates"):
            licenses = {a["skuId"]: list(a.get("disabledPlans") or [])
                        for a in item.get("assignedLicenses") or []}
        manager = item.pop("manager", None)
        state.users[item["id"]] = LiveUser(
            item["id"], item["userPrincipalName"], item,
            manager_id=manager.get("id") if isinstance(manager, dict) else None,
            licenses=licenses, inherited_licenses=inherited)


def _read_groups(graph: GraphClient, state: LiveState) -> None:
    items, _ = graph.delta(api.groups_delta().path)
    for item in items:
        if "@removed" in item:
            state.groups.pop(item["id"], None)
            continue
        group = state.groups.get(item["id"])
        if group is None or "displayName" in item:
            members = group.members if group else set()
            group = LiveGroup(item["id"], item.get("displayName") or "", item.get("mail"),
                              group_kind(item), bool(item.get("onPremisesSyncEnabled")),
                              members)
            state.groups[item["id"]] = group
        for ref in item.get("members@delta", []):
            if "@removed" in ref:
                group.members.discard(ref["id"])
            else:
                group.members.add(ref["id"])


def _read_per_user(graph: GraphClient, state: LiveState, extension_users: Iterable[str],
                   photo_users: Iterable[str], phone_users: Iterable[str] = ()) -> None:
    items: list[BatchItem] = []
    for upn in sorted(set(phone_users)):
        user = state.user_by_upn(upn)
        if user is not None:
            items.append(BatchItem(f"m:{user.id}", "GET",
                                   _relative(api.list_auth_methods(user.id).path)))
    for upn in sorted(set(extension_users)):
        user = state.user_by_upn(upn)
        if user is not None:
            items.append(BatchItem(f"x:{user.id}", "GET",
                                   _relative(api.get_extension(user.id, STATE_EXTENSION).path)))
    for upn in sorted(set(photo_users)):
        user = state.user_by_upn(upn)
        if user is not None:
            items.append(BatchItem(f"p:{user.id}", "GET",
                                   _relative(api.get_photo_metadata(user.id).path)))
    if not items:
        return
    for key, result in run_batch(graph, items).items():
        kind, user_id = key.split(":", 1)
        user = state.users[user_id]
        if kind == "x":
            user.extension = result.body if result.ok else None
        elif kind == "m" and result.ok:
            methods = result.body.get("value", [])
            user.phones = {m["phoneType"]: m for m in methods if m.get("phoneType")}
            user.methods = sum(1 for m in methods if not m.get("phoneType") and "password"
                               not in str(m.get("@odata.type", "")))
        elif kind == "p":
            user.has_photo = result.ok
        if not result.ok and result.error and result.error.status != 404:
            raise result.error


def _relative(path: str) -> str:
    parts = urlsplit(path)
    return parts.path + (f"?{parts.query}" if parts.query else "")
