"""Safety limits: a plan over them is shown, then refused, with the numbers and their source."""

from __future__ import annotations

from reconciler.areas.registry import AREAS, kind
from reconciler.desired.model import DesiredTenant
from reconciler.live.state import LiveState
from reconciler.plan.change import Change, Plan


def managed_relations(plan: Plan, desired: DesiredTenant, live: LiveState) -> int:
    """Relations the plan's users have in the areas their files manage (and the users),
    as each area counts them (`Area.relations`)."""
    total = 0
    for upn in plan.users:
        user = desired.user(upn)
        current = live.user_by_upn(upn)
        if user is None or current is None:
            continue
        total += sum(area.relations(user, current, live) for area in AREAS)
    return total


def _is_relation_removal(change: Change) -> bool:
    """A removal of a relation (or a user): cleared profile fields do not count."""
    return change.op == "remove" and kind(change.kind).relation


def check_limits(plan: Plan, desired: DesiredTenant, live: LiveState) -> list[str]:
    """Refusals, each naming the numbers, the limit, and where it is set."""
    limits = desired.config.policy.limits
    where = desired.config.source.file
    refusals = []
    count = len(plan.changes)
    if count > limits.max_changes:
        refusals.append(f"refused: {count} changes, over the limit of {limits.max_changes} "
                        f"(policy.limits.maxChanges in {where})")
    removals = sum(1 for c in plan.changes if _is_relation_removal(c))
    managed = managed_relations(plan, desired, live)
    if removals > limits.removals_floor and managed:
        percent = 100.0 * removals / managed
        if percent > limits.max_removals_percent:
            refusals.append(
                f"refused: {removals} removals is {percent:.1f}% of {managed} managed "
                f"relations, over the {limits.max_removals_percent:g}% limit "
                f"(policy.limits.maxRemovalsPercent in {where}; up to "
                f"{limits.removals_floor} removals are always allowed, "
                "policy.limits.removalsFloor)")
    return refusals
