"""Who changed it: drifted fields and memberships matched with the directory's audit log.

One listing of recent audit records (the reports API allows 5 requests per 10 s, so it
is read once, newest first), matched locally to each change of a drift report."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from reconciler.desired.dates import format_instant
from reconciler.graph import requests as api
from reconciler.graph.client import GraphClient
from reconciler.live.state import LiveState
from reconciler.plan.change import Change, Plan

LOOKBACK_DAYS = 30  # Entra keeps 30 days of directory audits with P1/P2 (7 without)
# The activity that would have caused each kind of drift, by the op the plan would do.
ACTIVITIES = {
    ("group", "add"): "remove member from group", ("group", "remove"): "add member to group",
    ("directoryRole", "add"): "remove member from role",
    ("directoryRole", "remove"): "add member to role",
    ("license", "add"): "change user license", ("license", "remove"): "change user license",
    ("license", "change"): "change user license",
}


def read_audits(graph: GraphClient, now: datetime) -> list[dict[str, Any]]:
    since = format_instant(now - timedelta(days=LOOKBACK_DAYS))
    return graph.list(api.list_audits(since).path)


def _who(record: dict[str, Any]) -> str:
    initiated = record.get("initiatedBy") or {}
    user = initiated.get("user") or {}
    app = initiated.get("app") or {}
    return user.get("userPrincipalName") or user.get("displayName") or \
        app.get("displayName") or app.get("appId") or "unknown"


def _matches(record: dict[str, Any], change: Change, user_id: str, live: LiveState) -> bool:
    targets = record.get("targetResources") or []
    activity = str(record.get("activityDisplayName") or "").lower()
    if change.kind in ("profile", "extensionAttribute", "manager"):
        wanted = "set manager" if change.kind == "manager" else "update user"
        if activity not in (wanted, "remove manager") or not any(
                t.get("id") == user_id for t in targets):
            return False
        if change.kind == "manager":
            return True
        names = {str(p.get("displayName") or "").lower() for t in targets
                 for p in t.get("modifiedProperties") or []}
        field = str(change.target).lower()
        return field in names or (change.kind == "extensionAttribute" and
                                  "onpremisesextensionattributes" in names)
    expected = ACTIVITIES.get((change.kind, change.op))
    if expected is None or activity != expected:
        return False
    if change.kind == "group":
        group_id = change.apply.get("group")
        member = {_loaded(p.get(side)) for t in targets for p in
                  t.get("modifiedProperties") or [] if p.get("displayName") == "Member.ObjectID"
                  for side in ("oldValue", "newValue")}
        return any(t.get("id") == group_id for t in targets) and user_id in member
    return any(t.get("id") == user_id for t in targets)


def _loaded(text: Any) -> Any:
    """Audit values are JSON-encoded strings ("\\"id\\"", "null"), or plain text."""
    try:
        return json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return text


# Exchange cmdlets that explain a mailbox drift, by the op the plan would do about it.
EXCHANGE_CMDLETS = {
    ("fullAccess", "add"): "Remove-MailboxPermission",
    ("fullAccess", "remove"): "Add-MailboxPermission",
    ("sendAs", "add"): "Remove-RecipientPermission",
    ("sendAs", "remove"): "Add-RecipientPermission",
}
MAILBOX_KINDS = ("mailboxPermission", "forwarding", "mailboxType")


def read_exchange_audits(exchange: Any, now: datetime) -> list[dict[str, Any]]:
    """Exchange's admin audit (mailbox permissions, forwarding, type), read once."""
    return exchange.invoke("Search-AdminAuditLog", {
        "StartDate": format_instant(now - timedelta(days=LOOKBACK_DAYS)),
        "EndDate": format_instant(now),
        "Cmdlets": sorted({*EXCHANGE_CMDLETS.values(), "Set-Mailbox"})})


def _exchange_cmdlet(change: Change) -> str:
    if change.kind == "mailboxPermission":
        right = str(change.target).split(":")[0]
        return EXCHANGE_CMDLETS.get((right, change.op), "Set-Mailbox")
    return "Set-Mailbox"


def attribute_mailboxes(plan: Plan, entries: list[dict[str, Any]]) -> list[dict]:
    found = []
    for change in plan.changes:
        if change.kind not in MAILBOX_KINDS:
            continue
        cmdlet = _exchange_cmdlet(change).lower()
        entry = next((e for e in entries if str(e.get("CmdletName")).lower() == cmdlet and
                      str(e.get("ObjectModified") or "").lower() == change.user.lower()), None)
        if entry is not None:
            found.append({"user": change.user, "kind": change.kind, "target": change.target,
                          "by": entry.get("Caller") or "unknown", "at": entry.get("RunDate"),
                          "activity": entry.get("CmdletName")})
    return found


def attribute(plan: Plan, live: LiveState, audits: list[dict[str, Any]]) -> list[dict]:
    """For each drifted change, the latest audit record that explains it (if any)."""
    found = []
    ordered = sorted(audits, key=lambda r: str(r.get("activityDateTime")), reverse=True)
    for change in plan.changes:
        user = live.user_by_upn(change.user)
        if user is None:
            continue
        record = next((r for r in ordered if _matches(r, change, user.id, live)), None)
        if record is not None:
            found.append({"user": change.user, "kind": change.kind, "target": change.target,
                          "by": _who(record), "at": record.get("activityDateTime"),
                          "activity": record.get("activityDisplayName")})
    return found
