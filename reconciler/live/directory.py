"""Directory reads several areas share: groups with members, deleted users, roles, SKUs,
and the per-user GETs Graph offers no listing for (our open extension, authentication
methods). Each is a `Read` (live/reads.py) areas name in their `reads` hook."""

from __future__ import annotations

from typing import Any

from reconciler.graph import requests as api
from reconciler.graph.client import GraphClient, WriteResult
from reconciler.graph.properties import group_kind
from reconciler.live.cache import fold_group
from reconciler.live.reads import Asked, Read, ReadContext, UserGet, result_body
from reconciler.live.state import LiveGroup, LiveSku, LiveState, LiveUser, RoleAssignment

STATE_EXTENSION = "io.reconciler.state"


def _group(item: dict[str, Any], members: set[str]) -> LiveGroup:
    return LiveGroup(item["id"], item.get("displayName") or "", item.get("mail"),
                     group_kind(item), bool(item.get("onPremisesSyncEnabled")), members,
                     bool(item.get("isAssignableToRole")))


def read_groups(ctx: ReadContext, _asked: Asked) -> None:
    """Every group with its members: one groups/delta round (resumed from the delta cache
    when the run has one)."""
    state = ctx.state
    if ctx.cache is not None:
        objects = ctx.cache.read(ctx.graph, "groups", api.groups_delta().path, fold_group)
        for item in objects.values():
            state.groups[item["id"]] = _group(item, item["members"])  # the cache's set
    else:
        _read_groups(ctx.graph, state)
    memberships = sum(len(g.members) for g in state.groups.values())
    ctx.say(f"read: groups={len(state.groups)} memberships={memberships}")


def _read_groups(graph: GraphClient, state: LiveState) -> None:
    items, _ = graph.delta(api.groups_delta().path)
    for item in items:
        if "@removed" in item:
            state.groups.pop(item["id"], None)
            continue
        group = state.groups.get(item["id"])
        if group is None or "displayName" in item:
            group = _group(item, group.members if group else set())
            state.groups[item["id"]] = group
        for ref in item.get("members@delta", []):
            if "@removed" in ref:
                group.members.discard(ref["id"])
            else:
                group.members.add(ref["id"])


def read_deleted(ctx: ReadContext, _asked: Asked) -> None:
    for item in ctx.graph.list(api.deleted_users().path):
        ctx.state.deleted_users[item["userPrincipalName"].lower()] = item["id"]


def read_roles(ctx: ReadContext, _asked: Asked) -> None:
    state = ctx.state
    for role in ctx.graph.list(api.list_role_definitions().path):
        state.roles[role["id"]] = role["displayName"]
    for item in ctx.graph.list(api.list_role_assignments().path):
        state.assignments.append(RoleAssignment(item["id"], item["roleDefinitionId"],
                                                item["principalId"],
                                                item.get("directoryScopeId") or "/"))
    ctx.say(f"read: roleDefinitions={len(state.roles)} roleAssignments="
            f"{len(state.assignments)}")


def read_skus(ctx: ReadContext, _asked: Asked) -> None:
    for sku in ctx.graph.list(api.list_skus().path):
        ctx.state.skus[sku["skuId"]] = LiveSku(
            sku["skuId"], sku["skuPartNumber"],
            int((sku.get("prepaidUnits") or {}).get("enabled") or 0),
            int(sku.get("consumedUnits") or 0),
            {p["servicePlanName"]: p["servicePlanId"] for p in sku.get("servicePlans", [])})
    ctx.say(f"read: subscribedSkus={len(ctx.state.skus)}")


def _store_extension(user: LiveUser, result: WriteResult) -> None:
    user.extension = result.body if result.ok else None


def _store_methods(user: LiveUser, result: WriteResult) -> None:
    if not result.ok:
        return
    methods = result_body(result).get("value", [])
    user.phones = {m["phoneType"]: m for m in methods if m.get("phoneType")}
    kinds = {str(m.get("@odata.type", "")).rsplit(".", 1)[-1]: m for m in methods}
    user.email_method = kinds.get("emailAuthenticationMethod")
    user.authenticators = [m for m in methods if str(m.get("@odata.type", "")).endswith(
        "microsoftAuthenticatorAuthenticationMethod")]
    user.methods = sum(1 for m in methods if not m.get("phoneType") and "password"
                       not in str(m.get("@odata.type", "")))


GROUPS = Read("groups", read_groups)  # every group with its members
DELETED = Read("deleted", read_deleted)  # deleted users (restorable), by UPN
ROLES = Read("roles", read_roles)  # role definitions and assignments
SKUS = Read("skus", read_skus)  # subscribed SKUs and their plans
# Our open extension io.reconciler.state (photo hash, actions run): None when absent.
EXTENSION = UserGet("extension", path=lambda u: api.get_extension(u.id, STATE_EXTENSION).path,
                    store=_store_extension)
# Authentication methods: phones, the SSPR email, Authenticator apps, how many others.
PHONES = UserGet("phones", path=lambda u: api.list_auth_methods(u.id).path,
                 store=_store_methods)
