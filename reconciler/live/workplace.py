"""Reading enterprise applications, Intune devices and SharePoint site groups.

Costs: service principals are one listing; app role assignments are one batched GET per user
whose file manages `applications` (20 per $batch); devices are one listing of the tenant's
managed devices plus one batched read of the primary user (the `users` navigation, which is
the reliable record: the flat `userId` is the enrolling user) for each device a file names or
a managed user enrolled; each SharePoint site a file names costs four REST calls (the site's
group, then each default group's users) and, when connected to a Microsoft 365 group, one
Graph listing of the group's owners.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.graph import workplace_requests as api
from reconciler.graph.batch import BatchItem, run_batch
from reconciler.graph.client import GraphClient, WriteResult
from reconciler.graph.errors import GraphError
from reconciler.graph.sharepoint import GROUPS, SharePointClient, SharePointConfigError
from reconciler.live.reads import USERS, Asked, Read, ReadContext, UserGet, result_body
from reconciler.live.state import LiveDevice, LiveSite, LiveState, LiveUser


def read_risky_users(graph: GraphClient, state: LiveState) -> None:
    """Users Identity Protection holds at risk (one listing). Without Entra ID P2 or the
    permission (403) the reason is kept: planning says privileged grants went unchecked."""
    try:
        for item in graph.list(api.list_risky_users().path):
            state.risky[item["id"]] = item
    except GraphError as error:
        if error.status not in (401, 403):
            raise
        state.risky_error = f"{error.status} {error.code}: {error.message}"


def read_service_principals(graph: GraphClient, state: LiveState) -> None:
    for item in graph.list(api.list_service_principals().path):
        state.service_principals[item["id"]] = item


def read_devices(graph: GraphClient, state: LiveState, named: Iterable[str],
                 owners: Iterable[LiveUser]) -> None:
    """Every managed device, then the primary user of those that matter here. A tenant
    without Intune (403) leaves `devices_error` set: planning turns it into errors for the
    files that manage devices."""
    try:
        listed = graph.list(api.list_managed_devices().path)
    except GraphError as error:
        if error.status not in (401, 403):
            raise
        state.devices_error = error.message
        return
    for item in listed:
        state.devices[item["id"]] = LiveDevice(item["id"], item.get("deviceName") or "",
                                               item.get("userId"),
                                               item.get("operatingSystem"))
    wanted_names = {n.lower() for n in named}
    owner_ids = {u.id for u in owners}
    chosen = [d for d in state.devices.values()
              if d.id in wanted_names or d.name.lower() in wanted_names
              or d.enrolled_by in owner_ids]
    items = [BatchItem(d.id, "GET", api.device_primary_user(d.id).path) for d in chosen]
    if not items:
        return
    for device_id, result in run_batch(graph, items).items():
        device = state.devices[device_id]
        if result.ok:
            users = (result.body or {}).get("value", [])
            device.primary = users[0]["id"] if users else None
            device.primary_read = True
        elif result.error and result.error.status != 404:  # 404: retired meanwhile
            raise result.error


def read_sites(sharepoint: SharePointClient | None, graph: GraphClient, state: LiveState,
               urls: Iterable[str]) -> None:
    """Each named site's groups. A site that cannot be read is recorded with the reason
    (planning reports it as an error for the files naming it), never guessed."""
    for url in sorted(set(urls)):
        if sharepoint is None:
            state.sites[url] = LiveSite(url, None, error="no SharePoint client")
            continue
        try:
            group_id = sharepoint.group_id_of_site(url)
            site = LiveSite(url, group_id)
            for group in GROUPS:
                site.members[group] = {str(m.get("LoginName") or "").lower()
                                       for m in sharepoint.members(url, group)}
            if group_id:
                site.group_owners = {o["id"] for o in graph.list(
                    api.list_group_owners(group_id).path)}
        except SharePointConfigError as error:
            site = LiveSite(url, None, error=str(error))
        except GraphError as error:
            site = LiveSite(url, None, error=f"{error.status} {error.code}: {error.message}")
        state.sites[url] = site


def _store_app_roles(user: LiveUser, result: WriteResult) -> None:
    if result.ok:
        user.app_roles = result_body(result).get("value", [])


def _read_risky(ctx: ReadContext, _asked: Asked) -> None:
    read_risky_users(ctx.graph, ctx.state)


def _read_service_principals(ctx: ReadContext, _asked: Asked) -> None:
    read_service_principals(ctx.graph, ctx.state)


def _read_devices(ctx: ReadContext, asked: Asked) -> None:
    read_devices(ctx.graph, ctx.state, asked.refs, asked.users)


def _read_sites(ctx: ReadContext, asked: Asked) -> None:
    if asked.refs:
        read_sites(ctx.sharepoint, ctx.graph, ctx.state, asked.refs)


RISKY_USERS = Read("riskyUsers", _read_risky)  # Identity Protection: users at risk
SERVICE_PRINCIPALS = Read("servicePrincipals", _read_service_principals)  # enterprise apps
# appRoleAssignments of each user (direct, and through direct groups); 404: none.
APP_ROLES = UserGet("appRoles", path=lambda u: api.list_app_role_assignments(u.id).path,
                    store=_store_app_roles)
# Every managed device, and the primary user of those named (`DEVICES.about(name or id)`)
# or enrolled by the users asked for.
DEVICES = Read("devices", _read_devices, needs=(USERS,), per_user=True)
# Each named SharePoint site's default groups (`SITES.about(site_root(url))`).
SITES = Read("sites", _read_sites)
