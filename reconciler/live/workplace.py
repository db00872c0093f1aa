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
from reconciler.graph.client import GraphClient
from reconciler.graph.errors import GraphError
from reconciler.graph.sharepoint import GROUPS, SharePointClient, SharePointConfigError
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


def read_app_roles(graph: GraphClient, users: list[LiveUser]) -> None:
    items = [BatchItem(u.id, "GET", api.list_app_role_assignments(u.id).path) for u in users]
    if not items:
        return
    by_id = {u.id: u for u in users}
    for user_id, result in run_batch(graph, items).items():
        if result.ok:
            by_id[user_id].app_roles = (result.body or {}).get("value", [])
        elif result.error and result.error.status != 404:
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
