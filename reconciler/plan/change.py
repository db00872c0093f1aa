"""`Change` and `Plan`: the values every stage after the planner works on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.desired.problems import Problem

KINDS = ("user", "profile", "manager", "photo", "extensionAttribute", "group", "directoryRole",
         "license", "mailboxPermission", "forwarding", "automaticReplies", "mailboxType",
         "calendarPermission", "phoneMethod", "signIn", "action")
OPS = ("add", "change", "remove", "invoke")
SENSITIVE = "(sensitive value)"


@dataclass(frozen=True)
class Change:
    """One thing apply will do. `apply` holds the ids the write needs (JSON-safe)."""

    user: str
    kind: str
    op: str
    target: str | None
    before: Any = None
    after: Any = None
    apply: dict[str, Any] = field(default_factory=dict)
    facts: tuple[str, ...] = ()
    note: str | None = None  # e.g. "until 2026-12-31", shown beside the change

    @property
    def due(self) -> bool:
        """Made by a schedule (from, until, signIn.blockAt) whose time has come."""
        return bool(self.apply.get("due"))

    @property
    def privileged(self) -> bool:
        """Shown first to reviewers: roles, disabling, deletion, license removal."""
        if self.kind == "directoryRole":
            return True
        if self.kind == "user" and self.op == "remove":
            return True
        if self.kind == "license" and self.op == "remove":
            return True
        return self.kind == "profile" and self.target == "accountEnabled" and self.after is False

    def sort_key(self) -> tuple:
        return (self.user.lower(), KINDS.index(self.kind), _order(self), str(self.target))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"user": self.user, "kind": self.kind, "op": self.op,
                               "target": self.target, "before": self.before,
                               "after": self.after}
        if self.note:
            out["note"] = self.note
        if self.apply:
            out["apply"] = self.apply
        if self.facts:
            out["facts"] = list(self.facts)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Change:
        return cls(data["user"], data["kind"], data["op"], data.get("target"),
                   data.get("before"), data.get("after"), dict(data.get("apply") or {}),
                   tuple(data.get("facts") or ()), data.get("note"))


def _order(change: Change) -> int:
    if change.kind == "action":
        return int(change.apply.get("order", 0))  # file order
    if change.kind == "phoneMethod":
        return ("mobile", "alternateMobile", "office").index(change.target) \
            if change.target in ("mobile", "alternateMobile", "office") else 3
    if change.kind == "profile":
        from reconciler.graph.properties import PROFILE_ORDER

        return PROFILE_ORDER.index(change.target) if change.target in PROFILE_ORDER else 99
    return 0


@dataclass
class Note:
    """Something the reviewer should know that is not a change (not manageable, skipped)."""

    user: str
    kind: str
    target: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"user": self.user, "kind": self.kind, "target": self.target,
                "message": self.message}


@dataclass
class Scheduled:
    user: str
    kind: str
    op: str
    target: str | None
    due: str

    def to_json(self) -> dict[str, Any]:
        return {"user": self.user, "kind": self.kind, "op": self.op, "target": self.target,
                "due": self.due}


@dataclass
class Plan:
    tenant: str
    created_at: str
    changes: list[Change] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    scheduled: list[Scheduled] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)  # user -> managed fields unchanged
    users: list[str] = field(default_factory=list)  # users the plan looked at
    refusals: list[str] = field(default_factory=list)
    attribution: list[dict[str, Any]] = field(default_factory=list)  # drift: who, when

    def sort(self) -> None:
        self.changes.sort(key=Change.sort_key)
        self.errors.sort()
        self.notes.sort(key=lambda n: (n.user.lower(), KINDS.index(n.kind), n.target))
        self.scheduled.sort(key=lambda s: (s.due, s.user.lower(), s.kind, str(s.target)))
        self.warnings.sort()

    @property
    def summary(self) -> dict[str, int]:
        counts = {"add": 0, "change": 0, "remove": 0}
        for change in self.changes:
            counts["change" if change.op == "invoke" else change.op] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)
