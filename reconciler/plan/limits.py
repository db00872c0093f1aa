"""Safety limits: a plan over them is shown, then refused, with the numbers and their source.

Removals are judged kind by kind, each as a share of the relations of that kind the plan's
users hold: users deleted of the users that exist, memberships removed of the memberships
managed, and so on (as Lifecycle Workflows' quarantine and octoDNS's update and delete
thresholds do). A deleted user counts once, under `usersDeleted`; its memberships, roles and
licenses sit in no other kind's denominator, so deletions cannot dilute another kind's share.
Each kind has its own threshold and floor (`policy.limits.kinds`), else the tenant-wide
`maxRemovalsPercent` and `removalsFloor`.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.areas import Area, registry
from reconciler.areas.registry import kind
from reconciler.desired.model import DesiredTenant, KindLimit, Limits
from reconciler.live.state import LiveState
from reconciler.plan.change import Change, Plan


@dataclass(frozen=True)
class KindWords:
    key: str  # the name under policy.limits.kinds
    removed: str  # "users deleted"
    held: str  # "users"


# How each relation kind's limit is named in tenant.yaml and said in a refusal. A relation
# kind not listed here is judged under its own kind name with the tenant-wide thresholds.
WORDS = {
    "user": KindWords("usersDeleted", "users deleted", "managed users"),
    "group": KindWords("memberships", "memberships removed", "managed group memberships"),
    "directoryRole": KindWords("roles", "role assignments removed",
                               "managed role assignments"),
    "license": KindWords("licenses", "licenses removed", "managed licenses"),
    "mailboxPermission": KindWords("mailboxPermissions", "mailbox permissions removed",
                                   "managed mailbox permissions"),
    "calendarPermission": KindWords("calendarPermissions", "calendar permissions removed",
                                    "managed calendar permissions"),
    "phoneMethod": KindWords("phoneMethods", "phone methods removed",
                             "managed phone methods"),
}


def words(name: str) -> KindWords:
    return WORDS.get(name) or KindWords(name, f"{name} removals", f"managed {name} relations")


def _relation_kind(area: Area) -> str | None:
    return next((k.name for k in area.kinds if k.relation), None)


def _is_relation_removal(change: Change) -> bool:
    """A removal of a relation (or a user): cleared profile fields do not count."""
    return change.op == "remove" and kind(change.kind).relation


def deleted_users(plan: Plan) -> set[str]:
    """UPNs (lower case) the plan deletes: the removals of the kind that holds users."""
    user_kinds = {_relation_kind(a) for a in registry.AREAS if a.name == "user"}
    return {c.user.lower() for c in plan.changes if c.op == "remove" and c.kind in user_kinds}


def managed_by_kind(plan: Plan, desired: DesiredTenant, live: LiveState) -> dict[str, int]:
    """Relations the plan's users hold, per relation kind, as each area counts them
    (`Area.relations`); a user the plan deletes counts only as a user."""
    deleted = deleted_users(plan)
    totals: dict[str, int] = {}
    for upn in plan.users:
        user = desired.user(upn)
        current = live.user_by_upn(upn)
        if user is None or current is None:
            continue
        for area in registry.AREAS:
            name = _relation_kind(area)
            if name is None or (upn.lower() in deleted and area.name != "user"):
                continue
            totals[name] = totals.get(name, 0) + area.relations(user, current, live)
    return totals


def managed_relations(plan: Plan, desired: DesiredTenant, live: LiveState) -> int:
    """Every relation the plan's users hold (all kinds together)."""
    return sum(managed_by_kind(plan, desired, live).values())


def check_limits(plan: Plan, desired: DesiredTenant, live: LiveState) -> list[str]:
    """Refusals, each naming the numbers, the limit, and where it is set."""
    limits = desired.config.policy.limits
    where = desired.config.source.file
    refusals = []
    count = len(plan.changes)
    if count > limits.max_changes:
        refusals.append(f"refused: {count} changes, over the limit of {limits.max_changes} "
                        f"(policy.limits.maxChanges in {where})")
    removed: dict[str, int] = {}
    for change in plan.changes:
        if _is_relation_removal(change):
            removed[change.kind] = removed.get(change.kind, 0) + 1
    if not removed:
        return refusals
    managed = managed_by_kind(plan, desired, live)
    for name in sorted(removed, key=lambda n: kind(n).rank):
        refusal = _judge_kind(name, removed[name], managed.get(name, 0), limits, where)
        if refusal:
            refusals.append(refusal)
    return refusals


def _judge_kind(name: str, removals: int, held: int, limits: Limits,
                where: object) -> str | None:
    said = words(name)
    percent_limit, floor = limits.of_kind(said.key)
    if removals <= floor:
        return None
    total = max(held, removals)  # a removal the read did not count is still one held
    percent = 100.0 * removals / total
    if percent <= percent_limit:
        return None
    own = dict(limits.kinds).get(said.key, KindLimit())
    kind_key = f"policy.limits.kinds.{said.key}"
    percent_key = kind_key if own.max_removals_percent is not None else "policy.limits"
    floor_key = kind_key if own.removals_floor is not None else "policy.limits"
    return (f"refused: {removals} {said.removed} is {percent:.1f}% of {total} {said.held}, "
            f"over the {percent_limit:g}% limit ({percent_key}.maxRemovalsPercent in {where}; "
            f"up to {floor} are always allowed, {floor_key}.removalsFloor)")
