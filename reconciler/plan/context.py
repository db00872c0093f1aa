"""What every area's diff sees: desired and live state, the clock, and the plan it adds to."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconciler.desired.dates import format_instant
from reconciler.desired.model import DesiredTenant, DesiredUser, Window
from reconciler.live.state import LiveState, LiveUser
from reconciler.plan.change import TENANT, Change, Note, Plan, Scheduled
from reconciler.plan.facts import FactKind, fact_value, fingerprint
from reconciler.plan.resolve import Resolver


@dataclass
class PlanContext:
    desired: DesiredTenant
    live: LiveState
    now: datetime
    plan: Plan
    fact_kinds: Mapping[str, FactKind] = field(default_factory=dict)  # from the registry
    resolver: Resolver = field(init=False)
    creating: dict[str, DesiredUser] = field(default_factory=dict)  # upn (lower) -> user
    # Created users whose profile is written after creation (restored, invited): field ->
    # fields the creation itself already sets.
    patch_after_create: dict[str, frozenset[str]] = field(default_factory=dict)
    seats: dict[str, list[tuple[DesiredUser, tuple]]] = field(default_factory=dict)
    # Entries whose from/until boundary has passed: (upn, kind, target) -> (op, note)
    passed: dict[tuple[str, str, str], tuple[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.resolver = Resolver(self.live)

    @property
    def authoritative(self) -> bool:
        return self.desired.config.policy.memberships == "authoritative"

    def expired(self, user: DesiredUser, kind: str, target: str) -> bool:
        """Whether the file listed this entry with an `until` that has passed: it goes,
        whatever the memberships policy."""
        return self.passed.get((user.upn.lower(), kind, target), ("", ""))[0] == "remove"

    def block_due(self, user: DesiredUser) -> bool:
        """Whether the user's scheduled sign-in block has fallen due."""
        return user.sign_in is not None and user.sign_in.block_at <= self.now

    def stripped(self, user: DesiredUser, what: str) -> bool:
        """Whether a due block empties this area (`groups`, `roles`, `licenses`)."""
        if not self.block_due(user):
            return False
        sign_in = user.sign_in
        assert sign_in is not None
        return {"groups": sign_in.remove_groups, "roles": sign_in.remove_directory_roles,
                "licenses": sign_in.remove_licenses}[what]

    def live_user(self, user: DesiredUser) -> LiveUser | None:
        return self.live.user_by_upn(user.upn)

    def add(self, user: DesiredUser, kind: str, op: str, target: str | None, before: Any = None,
            after: Any = None, *, apply: dict[str, Any] | None = None,
            facts: Iterable[str] = (), note: str | None = None) -> Change:
        keys = tuple(sorted(set(facts)))
        for key in keys:
            self.plan.facts[key] = fingerprint(fact_value(self.live, key, self.fact_kinds))
        detail = dict(apply or {})
        boundary = self.passed.get((user.upn.lower(), kind, str(target)))
        if boundary and boundary[0] == op:
            detail["due"] = True  # a scheduled change that has fallen due
            note = boundary[1] if op == "remove" else note
        if note and note.startswith("signIn."):
            detail["due"] = True
        if user.upn.lower() in self.desired.config.policy.protected_users:
            detail["protected"] = True  # anything touching a protected user is privileged
        change = Change(user.upn, kind, op, target, before, after, detail, keys, note)
        self.plan.changes.append(change)
        return change

    def add_tenant(self, kind: str, op: str, target: str, before: Any, after: Any, *,
                   apply: dict[str, Any], facts: Iterable[str]) -> Change:
        """A change to the tenant's own settings (subject TENANT, listed before the users)."""
        keys = tuple(sorted(set(facts)))
        for key in keys:
            self.plan.facts[key] = fingerprint(fact_value(self.live, key, self.fact_kinds))
        change = Change(TENANT, kind, op, target, before, after, dict(apply), keys)
        self.plan.changes.append(change)
        return change

    def tenant_error(self, path: tuple, message: str) -> None:
        self.plan.errors.append(self.desired.config.source.problem(path, message))

    def error(self, user: DesiredUser, path: tuple, message: str) -> None:
        problem = user.source.problem(path, message)
        if problem not in self.plan.errors:  # a bad default is one error, not one per user
            self.plan.errors.append(problem)

    def note(self, user: DesiredUser, kind: str, target: str, message: str) -> None:
        self.plan.notes.append(Note(user.upn, kind, target, message))

    def unchanged(self, user: DesiredUser, count: int = 1) -> None:
        self.plan.unchanged[user.upn] = self.plan.unchanged.get(user.upn, 0) + count

    def in_force(self, user: DesiredUser, kind: str, target: str, window: Window) -> bool:
        """Whether an entry applies now; its coming boundaries go to the Scheduled section."""
        if window.start and window.start > self.now:
            self.plan.scheduled.append(Scheduled(user.upn, kind, "add", target,
                                                 format_instant(window.start)))
        if window.end and window.end > self.now:
            self.plan.scheduled.append(Scheduled(user.upn, kind, "remove", target,
                                                 format_instant(window.end)))
        key = (user.upn.lower(), kind, target)
        if window.end and window.end <= self.now:
            self.passed[key] = ("remove", f"until {window.end_text} passed")
        elif window.start and window.start <= self.now:
            self.passed[key] = ("add", f"from {window.start_text}")
        return window.active(self.now)


def window_note(window: Window) -> str | None:
    parts = []
    if window.start_text:
        parts.append(f"from {window.start_text}")
    if window.end_text:
        parts.append(f"until {window.end_text}")
    return ", ".join(parts) or None
