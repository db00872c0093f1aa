"""SharePoint site groups: a site's visitors, members and owners (graph-contract §23).

Sites are read only when a file names them (four SharePoint REST calls each). For a site
connected to a Microsoft 365 group, members and owners are the group's members and owners and
are written through Graph (the plan says so): SharePoint's own Members and Owners groups hold
the group's claims and nothing flows back from them. Visitors are always SharePoint's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from reconciler.apply.context import ALREADY, APPLIED, FAILED, UNKNOWN, Write
from reconciler.areas import Area, Kind, Nothing, Step
from reconciler.graph import requests as api
from reconciler.graph import workplace_requests as owners
from reconciler.graph.errors import GraphError, UnreachableError
from reconciler.graph.sharepoint import GROUPS, login_name, site_root
from reconciler.live import directory
from reconciler.live.workplace import SITES
from reconciler.plan.context import window_note
from reconciler.plan.facts import FactKind

if TYPE_CHECKING:
    from reconciler.apply.context import ApplyContext
    from reconciler.desired.model import DesiredUser
    from reconciler.live.reads import Ask, Read
    from reconciler.live.state import LiveSite, LiveState, LiveUser
    from reconciler.plan.change import Change
    from reconciler.plan.context import PlanContext


def reads(user: DesiredUser) -> set[Read]:
    if not user.manages("sharePoint"):
        return set()
    return {directory.GROUPS, *(SITES.about(site_root(e.ref)) for e in user.share_point)}


def import_hints(documents: list[Any]) -> set[Ask]:
    """The sites the folder's files already name: no API lists a user's site groups across
    sites, so an import reads the sites a file brought into view."""
    found: set[Ask] = set()
    for data in documents:
        entries = data.get("sharePoint") if isinstance(data, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("site"), str):
                found.add(SITES.about(site_root(entry["site"])))
    return found


def _target(site: str, group: str) -> str:
    parts = urlsplit(site)
    return f"{parts.netloc}{parts.path} {group}"


def _show(value: dict[str, Any]) -> str:
    return _target(value["site"], value["group"])


def _fact_key(site: str, group: str) -> str:
    parts = urlsplit(site)
    return f"spgroup:{parts.netloc}{parts.path}|{group}"


def _holds(ctx_live: LiveState, site: LiveSite, group: str, live: LiveUser) -> bool:
    """Whether the user is in the group, in the place that is authoritative for it."""
    if site.group_id and group == "members":
        connected = ctx_live.groups.get(site.group_id)
        return connected is not None and live.id in connected.members
    if site.group_id and group == "owners":
        return live.id in site.group_owners
    return login_name(live.upn) in site.members.get(group, set())


def diff(ctx: PlanContext, user: DesiredUser, live: LiveUser | None) -> None:
    if not user.manages("sharePoint"):
        return
    wanted: set[tuple[str, str]] = set()
    for entry in user.share_point:
        url, group = site_root(entry.ref), str(entry.extra["group"])
        site = ctx.live.sites.get(url)
        if site is None or site.error:
            ctx.error(user, entry.path, f"SharePoint site {url} cannot be read: "
                      f"{site.error if site else 'not read'}")
            continue
        target = _target(url, group)
        if not ctx.in_force(user, "sharePoint", target, entry.window):
            continue
        wanted.add((url, group))
        if _deferred(user, site, group):
            ctx.note(user, "sharePoint", target, _DEFERRED)
            continue
        if live is not None and _holds(ctx.live, site, group, live):
            ctx.unchanged(user)
            continue
        _plan(ctx, user, site, group, "add", target, window_note(entry.window))
    if live is None or not ctx.authoritative:
        return
    for url, site in sorted(ctx.live.sites.items()):
        if site.error:
            continue
        for group in GROUPS:
            target = _target(url, group)
            if (url, group) not in wanted and not _deferred(user, site, group) and \
                    _holds(ctx.live, site, group, live):
                _plan(ctx, user, site, group, "remove", target, None)


_DEFERRED = ("the members of a group-connected site are its Microsoft 365 group's members, "
             "which this file manages under groups")


def _deferred(user: DesiredUser, site: LiveSite, group: str) -> bool:
    """A connected site's members are the group's: `groups` manages them when present."""
    return bool(site.group_id) and group == "members" and user.manages("groups")


def _plan(ctx: PlanContext, user: DesiredUser, site: LiveSite, group: str, op: str,
          target: str, note: str | None) -> None:
    through = site.group_id if group in ("members", "owners") else None
    if through:
        name = ctx.live.groups[through].display_name if through in ctx.live.groups else through
        note = ", ".join(filter(None, [note, f"through the Microsoft 365 group {name}"]))
    value = {"site": site.url, "group": group}
    ctx.add(user, "sharePoint", op, target, None if op == "add" else value,
            value if op == "add" else None,
            apply={"site": site.url, "group": group, "m365": through},
            facts=[_fact_key(site.url, group)], note=note)


def apply_site_groups(ctx: ApplyContext, changes: list[Change]) -> None:
    for change in ctx.runnable(changes):
        user_id = ctx.user_id(change.user)
        assert user_id is not None
        site, group, m365 = change.apply["site"], change.apply["group"], change.apply["m365"]
        if m365:
            ctx.send(Write([change], _graph_request(change.op, group, m365, user_id),
                           already=_already_graph(change.op)))
            continue
        _send_sharepoint(ctx, change, site, group)


def _graph_request(op: str, group: str, m365: str, user_id: str) -> api.ApiRequest:
    if group == "owners":
        return owners.add_group_owner(m365, user_id) if op == "add" else \
            owners.remove_group_owner(m365, user_id)
    return api.add_members(m365, [user_id]) if op == "add" else \
        api.remove_member(m365, user_id)


def _already_graph(op: str) -> Any:
    if op == "add":
        return lambda e: e.says("already exist")
    return lambda e: e.status == 404


def _send_sharepoint(ctx: ApplyContext, change: Change, site: str, group: str) -> None:
    """SharePoint REST writes are idempotent by login name: a lost reply is re-read."""
    if ctx.sharepoint is None:
        ctx.record(change, FAILED, "no SharePoint client")
        return
    try:
        if change.op == "add":
            ctx.sharepoint.add(site, group, change.user)
        else:
            ctx.sharepoint.remove(site, group, login_name(change.user))
        ctx.record(change, APPLIED)
    except GraphError as error:
        if change.op == "remove" and error.status == 404:
            ctx.record(change, ALREADY)
        else:
            ctx.record(change, FAILED, str(error))
    except UnreachableError as error:  # the next plan re-reads the group and shows it again
        ctx.record(change, UNKNOWN, str(error))


def _fact(live: LiveState, rest: str) -> Any:
    where, _, group = rest.rpartition("|")
    site = live.sites.get(f"https://{where}")
    if site is None:
        return None
    if site.group_id and group == "members":
        connected = live.groups.get(site.group_id)
        return sorted(connected.members) if connected else None
    if site.group_id and group == "owners":
        return sorted(site.group_owners)
    return sorted(site.members.get(group, set()))


def relations(user: DesiredUser, current: LiveUser, live: LiveState) -> int:
    if not user.manages("sharePoint"):
        return 0
    return sum(1 for site in live.sites.values() if not site.error for group in GROUPS
               if _holds(live, site, group, current))


def import_user(user: LiveUser, state: LiveState) -> dict[str, Any]:
    entries = [{"site": url, "group": group} for url, site in sorted(state.sites.items())
               if not site.error for group in GROUPS if _holds(state, site, group, user)]
    return {"sharePoint": entries} if entries else {}


AREA = Area(
    name="sharePoint",
    keys=("sharePoint",),
    kinds=(Kind("sharePoint", 67, label="sharePoint", heading="SharePoint site groups",
                relation=True, privileged=lambda c: c.apply.get("group") == "owners",
                show=_show),),
    facts={"spgroup": FactKind(_fact, lambda rest, _subject: f"SharePoint {rest}")},
    reads=reads,
    diff=diff,
    steps=(Step("workplace adds", ("sharePoint",), ("add",), apply_site_groups),
           Step("workplace removals", ("sharePoint",), ("remove",), apply_site_groups)),
    relations=relations,
    import_user=import_user,
    import_reads=(directory.GROUPS,),
    import_hints=import_hints,
    audit=Nothing("SharePoint group changes are in the unified audit log, which needs the "
                  "Office 365 Management API rather than Graph"),
)
