"""`Change` and `Plan`: the values every stage after the planner works on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler.desired.problems import Problem

OPS = ("add", "change", "remove", "invoke")
SENSITIVE = "(sensitive value)"
TENANT = "tenant settings"  # the subject of changes to tenant.yaml's own sections


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
    # policy.unmanagedUsers: report: principals no file accounts for (plan/unmanaged.py)
    unmanaged: list[dict[str, Any]] = field(default_factory=list)
    # drift: changes whose live value is what the last apply wrote (git moved since)
    waiting: list[dict[str, Any]] = field(default_factory=list)

    def sort(self, change_key: Callable[[Change], Any], note_key: Callable[[Note], Any]
             ) -> None:
        """Changes and notes in the order the registry gives; the rest by value."""
        self.changes.sort(key=change_key)
        self.errors.sort()
        self.notes.sort(key=note_key)
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
