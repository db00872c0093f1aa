"""Reading live state in bulk: one listing per collection, per-user reads only where Graph
has no list (our open extension, photo presence), and those batched 20 at a time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from reconciler.graph import requests as api
from reconciler.graph.batch import BatchItem, run_batch
from reconciler.graph.client import GraphClient
from reconciler.graph.exchange import ExchangeClient
from reconciler.graph.properties import group_kind
from reconciler.live.cache import DeltaCache, fold_group, fold_user
from reconciler.live.calendars import read_calendars, read_folder_rights
from reconciler.live.mailboxes import read_full_access, read_mailboxes, read_outlook
from reconciler.live.reads import EVERY_USER, Collection, PerUser, Reads
from reconciler.live.state import LiveGroup, LiveSku, LiveState, LiveUser, RoleAssignment
from reconciler.live.workplace import (
    read_app_roles,
    read_devices,
    read_risky_users,
    read_service_principals,
    read_sites,
)

if TYPE_CHECKING:
    from reconciler.graph.sharepoint import SharePointClient

log = logging.getLogger(__name__)
STATE_EXTENSION = "io.reconciler.state"
Progress = Callable[[str], None]


def read_live(graph: GraphClient, reads: Reads, *, exchange: ExchangeClient | None = None,
              sharepoint: SharePointClient | None = None,
              progress: Progress | None = None, anchors: dict[str, str] | None = None,
              cache: DeltaCache | None = None) -> LiveState:
    """Read what `reads` names: the collections, then the per-user reads (batched or
    bounded) for the UPNs each names (EVERY_USER: all). With a `cache`, users (with
    managers) and groups (with members) come from delta rounds resumed from its links."""
    say = progress or (lambda _message: None)
    state = LiveState()
    wanted = reads.collections
    how = ""
    if cache is not None:
        _read_cached(graph, state, cache, Collection.GROUPS in wanted)
        how = " (" + ", ".join(f"{k} {'warm' if v else 'cold'}"
                               for k, v in cache.warm.items()) + ")"
        wanted = wanted - {Collection.GROUPS}
    else:
        _read_users(graph, state, Collection.MANAGERS in wanted)
    say(f"read: users={len(state.users)}{how}")
    state.anchor(anchors or {})  # before per-user reads: a renamed user is read by its id
    every = {u.upn for u in state.users.values()}
    per_user = {read: set(every) if EVERY_USER in upns else upns
                for read, upns in reads.per_user.items()}
    if Collection.DELETED in wanted:
        for item in graph.list(api.deleted_users().path):
            state.deleted_users[item["userPrincipalName"].lower()] = item["id"]
    if Collection.GROUPS in wanted:
        _read_groups(graph, state)
        memberships = sum(len(g.members) for g in state.groups.values())
        say(f"read: groups={len(state.groups)} memberships={memberships}")
    if Collection.ROLES in wanted:
        for role in graph.list(api.list_role_definitions().path):
            state.roles[role["id"]] = role["displayName"]
        for item in graph.list(api.list_role_assignments().path):
            state.assignments.append(RoleAssignment(item["id"], item["roleDefinitionId"],
                                                    item["principalId"],
                                                    item.get("directoryScopeId") or "/"))
        say(f"read: roleDefinitions={len(state.roles)} roleAssignments="
            f"{len(state.assignments)}")
    if Collection.SKUS in wanted:
        for sku in graph.list(api.list_skus().path):
            state.skus[sku["skuId"]] = LiveSku(
                sku["skuId"], sku["skuPartNumber"],
                int((sku.get("prepaidUnits") or {}).get("enabled") or 0),
                int(sku.get("consumedUnits") or 0),
                {p["servicePlanName"]: p["servicePlanId"] for p in sku.get("servicePlans", [])})
        say(f"read: subscribedSkus={len(state.skus)}")
    _read_settings(graph, state, wanted)
    _read_per_user(graph, state, per_user)
    _read_workplace(graph, sharepoint, state, reads, per_user)
    if Collection.MAILBOXES in wanted and exchange is not None:
        read_mailboxes(exchange, state)
        read_full_access(exchange, graph, state, per_user.get(PerUser.FULL_ACCESS, ()))
        read_outlook(graph, state, per_user.get(PerUser.CALENDAR, ()),
                     per_user.get(PerUser.REPLIES, ()))
        read_calendars(graph, state, per_user.get(PerUser.CALENDARS, ()))
        read_folder_rights(exchange, state)
        say(f"read: mailboxes={sum(1 for u in state.users.values() if u.mailbox)}")
    state.read = {c.value for c in reads.collections} | {"users"}
    return state


def _read_settings(graph: GraphClient, state: LiveState, wanted: set[Collection]) -> None:
    """The tenant's own settings (tenant.yaml `settings`): one GET each."""
    if Collection.AUTHORIZATION_POLICY in wanted:
        policy = graph.get(api.get_authorization_policy().path)
        state.authorization_policy = {k: v for k, v in policy.items() if not k.startswith("@")}


def _read_cached(graph: GraphClient, state: LiveState, cache: DeltaCache,
                 groups: bool) -> None:
    """Users with managers and (when wanted) groups with members, from delta rounds."""
    for item in cache.read(graph, "users", api.users_delta().path, fold_user).values():
        state.users[item["id"]] = _live_user(dict(item))
    if groups:
        for item in cache.read(graph, "groups", api.groups_delta().path, fold_group).values():
            state.groups[item["id"]] = LiveGroup(
                item["id"], item.get("displayName") or "", item.get("mail"), group_kind(item),
                bool(item.get("onPremisesSyncEnabled")), set(item.get("members") or ()),
                bool(item.get("isAssignableToRole")))
    cache.save()


def _read_workplace(graph: GraphClient, sharepoint: SharePointClient | None, state: LiveState,
                    reads: Reads, per_user: dict[PerUser, set[str]]) -> None:
    """Enterprise apps, Intune devices and SharePoint sites (live/workplace.py)."""
    def users(read: PerUser) -> list[LiveUser]:
        found = (state.user_by_upn(upn) for upn in sorted(per_user.get(read, ())))
        return [u for u in found if u is not None]

    if Collection.SERVICE_PRINCIPALS in reads.collections:
        read_service_principals(graph, state)
    if Collection.RISKY_USERS in reads.collections:
        read_risky_users(graph, state)
    read_app_roles(graph, users(PerUser.APP_ROLES))
    if Collection.DEVICES in reads.collections:
        read_devices(graph, state, reads.devices, users(PerUser.DEVICES))
    if reads.sites:
        read_sites(sharepoint, graph, state, reads.sites)


def _read_users(graph: GraphClient, state: LiveState, managers: bool) -> None:
    request = api.list_users(with_manager=managers)
    for item in graph.list(request.path):
        state.users[item["id"]] = _live_user(item)


def _live_user(item: dict[str, Any]) -> LiveUser:
    """A user listing item (its manager, if read, folded in as `manager`) as a LiveUser."""
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
    return LiveUser(
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
                              members, bool(item.get("isAssignableToRole")))
            state.groups[item["id"]] = group
        for ref in item.get("members@delta", []):
            if "@removed" in ref:
                group.members.discard(ref["id"])
            else:
                group.members.add(ref["id"])


# The per-user reads made through one $batch, in the order they are queued.
BATCHED = (PerUser.PHONES, PerUser.EXTENSION, PerUser.PHOTO_PRESENCE)


def _path(read: PerUser, user_id: str) -> str:
    if read is PerUser.PHONES:
        return api.list_auth_methods(user_id).path
    if read is PerUser.EXTENSION:
        return api.get_extension(user_id, STATE_EXTENSION).path
    return api.get_photo_metadata(user_id).path


def _store(read: PerUser, user: LiveUser, result: Any) -> None:
    if read is PerUser.EXTENSION:
        user.extension = result.body if result.ok else None
    elif read is PerUser.PHONES and result.ok:
        methods = result.body.get("value", [])
        user.phones = {m["phoneType"]: m for m in methods if m.get("phoneType")}
        kinds = {str(m.get("@odata.type", "")).rsplit(".", 1)[-1]: m for m in methods}
        user.email_method = kinds.get("emailAuthenticationMethod")
        user.authenticators = [m for m in methods if str(m.get("@odata.type", "")).endswith(
            "microsoftAuthenticatorAuthenticationMethod")]
        user.methods = sum(1 for m in methods if not m.get("phoneType") and "password"
                           not in str(m.get("@odata.type", "")))
    elif read is PerUser.PHOTO_PRESENCE:
        user.has_photo = result.ok


def _read_per_user(graph: GraphClient, state: LiveState,
                   per_user: dict[PerUser, set[str]]) -> None:
    items: list[BatchItem] = []
    queued: dict[str, tuple[PerUser, LiveUser]] = {}
    for read in BATCHED:
        for upn in sorted(per_user.get(read, ())):
            user = state.user_by_upn(upn)
            if user is not None:
                key = str(len(items))
                queued[key] = (read, user)
                items.append(BatchItem(key, "GET", _relative(_path(read, user.id))))
    if not items:
        return
    for key, result in run_batch(graph, items).items():
        read, user = queued[key]
        _store(read, user, result)
        if not result.ok and result.error and result.error.status != 404:
            raise result.error


def _relative(path: str) -> str:
    parts = urlsplit(path)
    return parts.path + (f"?{parts.query}" if parts.query else "")
