"""Is a saved plan still true, and still one a fresh plan would make?

A saved plan is applied only when every fact it depends on still holds, when a fresh plan
made now (same users, same checks: errors, limits, refusals, protected users) is not
refused, and when every saved change is one that fresh plan makes too.
"""

from __future__ import annotations

import json

from reconciler.areas.registry import fact_kinds
from reconciler.live.state import LiveState
from reconciler.plan.change import Change, Plan
from reconciler.plan.facts import describe, fact_value, fingerprint

SHOWN = 5  # changes named in a refusal; the rest are counted


def moved_facts(plan: Plan, live: LiveState) -> list[str]:
    """What moved since the plan was made, as a reviewer reads it."""
    names = {u.id: u.upn for u in live.users.values()}
    kinds = fact_kinds()
    moved = []
    for key, recorded in sorted(plan.facts.items()):
        try:
            value = fact_value(live, key, kinds)
        except (KeyError, ValueError, IndexError):
            moved.append(f"an unknown fact {key!r}")
            continue
        if fingerprint(value) != recorded:
            moved.append(describe(key, names, kinds))
    return moved


def describe_change(change: Change) -> str:
    return f"{change.user} {change.kind} {change.op} {change.target}"


def _identity(change: Change) -> str:
    return json.dumps(change.to_json(), sort_keys=True, default=str)


def unplanned_changes(saved: Plan, fresh: Plan) -> list[Change]:
    """Saved changes a fresh plan does not make (edited in, or no longer wanted)."""
    wanted: dict[str, int] = {}
    for change in fresh.changes:
        wanted[_identity(change)] = wanted.get(_identity(change), 0) + 1
    extra = []
    for change in saved.changes:
        key = _identity(change)
        if wanted.get(key, 0) > 0:
            wanted[key] -= 1
        else:
            extra.append(change)
    return extra


def touches_protected(change: Change) -> bool:
    """Deleting, blocking, disabling or stripping roles: what a protected user never gets."""
    if change.kind in ("user", "directoryRole") and change.op == "remove":
        return True
    if change.kind == "signIn":
        return True
    return change.kind == "profile" and change.target == "accountEnabled" \
        and change.after is False


def protected_changes(plan: Plan, protected: tuple[str, ...]) -> list[Change]:
    guarded = {upn.lower() for upn in protected}
    return [c for c in plan.changes if c.user.lower() in guarded and touches_protected(c)]


def listing(changes: list[Change]) -> str:
    named = "; ".join(describe_change(c) for c in changes[:SHOWN])
    more = len(changes) - SHOWN
    return named + (f"; and {more} more" if more > 0 else "")
