"""Drift that is git moving, not the tenant: "waiting for apply".

A drifted change whose live value is what the last apply wrote for the same user, kind
and target (the apply audit trail, tenant.yaml's `audit.file`) means the YAML changed
after that apply and nobody has applied it yet: the tenant is as git last left it. Such
changes are listed as waiting for apply, never attributed to anyone as changed outside git.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reconciler.plan.change import Change, Plan

DONE = ("applied", "already")
Key = tuple[str, str, str]


def key_of(user: str, kind: str, target: Any) -> Key:
    return (user.lower(), kind, str(target))


def last_applied(trail: Path) -> dict[Key, dict[str, Any]]:
    """The newest settled record per (user, kind, target) in the audit trail."""
    found: dict[Key, dict[str, Any]] = {}
    try:
        lines = trail.read_text(encoding="utf-8").splitlines()
    except OSError:
        return found
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a torn last line of a killed run
        if not isinstance(record, dict) or record.get("outcome") not in DONE:
            continue
        found[key_of(str(record.get("user")), str(record.get("kind")),
                     record.get("target"))] = record
    return found


def left_by_apply(change: Change, record: dict[str, Any]) -> bool:
    """Whether the live side of `change` is exactly what `record`'s apply left."""
    if change.op == "change":
        return record.get("op") in ("add", "change") and record.get("after") == change.before
    if change.op == "remove":  # live has it: the last apply put it there
        return record.get("op") in ("add", "change")
    if change.op == "add":  # live lacks it: the last apply took it away
        return record.get("op") == "remove"
    return False


def waiting_for_apply(plan: Plan, trail: Path) -> list[dict[str, Any]]:
    """The plan's changes that only wait for git to be applied, with the apply they follow."""
    applied = last_applied(trail)
    waiting = []
    for change in plan.changes:
        record = applied.get(key_of(change.user, change.kind, change.target))
        if record is not None and left_by_apply(change, record):
            waiting.append({"user": change.user, "kind": change.kind, "target": change.target,
                            "appliedAt": record.get("time"), "commit": record.get("commit")})
    return waiting
