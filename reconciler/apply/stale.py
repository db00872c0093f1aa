"""Is a saved plan still true? Each fact it depends on is re-read and compared."""

from __future__ import annotations

from reconciler.areas.registry import fact_kinds
from reconciler.live.state import LiveState
from reconciler.plan.change import Plan
from reconciler.plan.facts import describe, fact_value, fingerprint


def moved_facts(plan: Plan, live: LiveState) -> list[str]:
    """What moved since the plan was made, as a reviewer reads it."""
    names = {u.id: u.upn for u in live.users.values()}
    kinds = fact_kinds()
    moved = []
    for key, recorded in sorted(plan.facts.items()):
        if fingerprint(fact_value(live, key, kinds)) != recorded:
            moved.append(describe(key, names, kinds))
    return moved
