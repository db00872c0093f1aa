"""Safety limits: a plan over them is shown, then refused, with the numbers and their source."""

from __future__ import annotations

from reconciler.desired.model import DesiredTenant
from reconciler.live.state import LiveState
from reconciler.plan.change import Plan

# What counts as a removal for the limit: relations and users, not cleared profile fields.
RELATION_KINDS = frozenset({"user", "group", "directoryRole", "license", "mailboxPermission",
                            "calendarPermission", "phoneMethod"})


def managed_relations(plan: Plan, desired: DesiredTenant, live: LiveState) -> int:
    """Relations the plan's users have in the areas their files manage (and the users)."""
    total = 0
    for upn in plan.users:
        user = desired.user(upn)
        current = live.user_by_upn(upn)
        if user is None or current is None:
            continue
        block = user.sign_in
        total += 1  # the user object itself (deletion)
        if user.manages("groups") or (block and block.remove_groups):
            total += len(live.groups_of(current.id))
        if user.manages("directoryRoles") or (block and block.remove_directory_roles):
            total += len(live.assignments_of(current.id))
        if user.manages("licenses") or (block and block.remove_licenses):
            total += len(current.licenses)
        total += len(current.full_access or {}) + len(current.send_as or ())
        total += len((current.mailbox or {}).get("GrantSendOnBehalfTo") or [])
        total += len(current.calendar or []) + len(current.phones or {})
    return total


def check_limits(plan: Plan, desired: DesiredTenant, live: LiveState) -> list[str]:
    """Refusals, each naming the numbers, the limit, and where it is set."""
    limits = desired.config.policy.limits
    where = desired.config.source.file
    refusals = []
    count = len(plan.changes)
    if count > limits.max_changes:
        refusals.append(f"refused: {count} changes, over the limit of {limits.max_changes} "
                        f"(policy.limits.maxChanges in {where})")
    removals = sum(1 for c in plan.changes if c.op == "remove" and c.kind in RELATION_KINDS)
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
