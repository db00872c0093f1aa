"""`policy.unmanagedUsers: report`: who holds access that no file accounts for.

Listed, never changed: users without a file (privileged first: a directory role, or
membership of a role-assignable group), and role assignments to any other principal no
file describes (a group, a service principal). Only a whole plan lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.desired.model import DesiredTenant
from reconciler.live.directory import GROUPS, ROLES
from reconciler.live.reads import Reads
from reconciler.live.state import LiveState


def wanted(desired: DesiredTenant) -> bool:
    return desired.config.policy.unmanaged_users == "report"


def add_reads(reads: Reads) -> Reads:
    """What the section needs beyond the users: roles, groups with members."""
    return reads.update({ROLES, GROUPS})


def unmanaged(desired: DesiredTenant, live: LiveState) -> list[dict[str, Any]]:
    """Entries `{principal, id, type, privileged, roles, roleAssignableGroups}`,
    privileged first, then by name."""
    managed = set()
    for user in desired.users:
        found = live.user_by_upn(user.upn)
        if found is not None:
            managed.add(found.id)
    roles_of: dict[str, list[str]] = {}
    for assignment in live.assignments:
        name = live.roles.get(assignment.role_id, assignment.role_id)
        scope = "" if assignment.scope in ("/", "") else f" (scope {assignment.scope})"
        roles_of.setdefault(assignment.principal_id, []).append(name + scope)
    assignable = [g for g in live.groups.values() if g.role_assignable]
    entries: list[dict[str, Any]] = []
    for user in live.users.values():
        if user.id in managed:
            continue
        groups = sorted(g.display_name for g in assignable if user.id in g.members)
        roles = sorted(roles_of.get(user.id, []))
        entries.append({"principal": user.upn, "id": user.id, "type": "user",
                        "privileged": bool(roles or groups), "roles": roles,
                        "roleAssignableGroups": groups,
                        "enabled": user.props.get("accountEnabled", True),
                        "created": user.props.get("createdDateTime")})
    for principal_id, roles in roles_of.items():
        if principal_id in live.users:
            continue
        group = live.groups.get(principal_id)
        entries.append({"principal": group.display_name if group else principal_id,
                        "id": principal_id, "type": "group" if group else "servicePrincipal",
                        "privileged": True, "roles": sorted(roles),
                        "roleAssignableGroups": [], "enabled": None, "created": None})
    entries.sort(key=lambda e: (not e["privileged"], e["type"] != "user",
                                str(e["principal"]).lower()))
    return entries


def alarming(entry: dict[str, Any]) -> bool:
    """What makes drift exit 2: a privileged user without a file, or a role assignment to
    another principal that the audit log shows appearing (within its lookback); an old
    assignment to a group or service principal is listed, not alarmed on every run."""
    return entry["privileged"] and (entry["type"] == "user" or bool(entry.get("appeared")))


def describe(entry: dict[str, Any]) -> str:
    """`bob@contoso.com: directory roles: Global Administrator (privileged)`."""
    parts = []
    if entry["type"] != "user":
        parts.append(entry["type"] if entry["type"] == "group" else
                     "not a user or group (a service principal or another object)")
    if entry["roles"]:
        parts.append("directory roles: " + ", ".join(entry["roles"]))
    if entry["roleAssignableGroups"]:
        parts.append("role-assignable groups: " + ", ".join(entry["roleAssignableGroups"]))
    if entry.get("enabled") is False:
        parts.append("sign-in blocked")
    shown = f"{entry['principal']}: " + ("; ".join(parts) if parts else "no file")
    return shown + (" (privileged)" if entry["privileged"] else "")


# Directory audit activities that make a principal privileged, or bring a new one in.
_ACTIVITIES = ("Add member to role", "Add eligible member to role", "Add member to group",
               "Add user", "Add service principal", "Add group")


def attribute(entries: list[dict[str, Any]], records: list[dict[str, Any]],
              who: Callable[[dict[str, Any]], str]) -> list[dict[str, Any]]:
    """For each privileged entry, the newest audit records that granted it a role, added it
    to a (role-assignable) group or created it: who and when."""
    found = []
    for entry in entries:
        for record in records:  # newest first
            activity = record.get("activityDisplayName")
            if activity not in _ACTIVITIES:
                continue
            targets = record.get("targetResources") or []
            if not any(t.get("id") == entry["id"] for t in targets):
                continue
            entry.setdefault("appeared", record.get("activityDateTime"))
            found.append({"user": entry["principal"], "kind": "unmanaged",
                          "target": entry["type"], "by": who(record),
                          "at": record.get("activityDateTime"), "activity": activity})
    return found
