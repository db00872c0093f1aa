"""The words of a change line, a user's verb, a note and the headline.

Every kind a line names is looked up in the registry (`registry.kind`): its label and
heading are the area's words, and a kind no area declares fails loudly, naming it, rather
than being printed raw. `sections.py` puts these lines into sections."""

from __future__ import annotations

from typing import Any

from reconciler.areas.registry import kind
from reconciler.plan.change import SENSITIVE, TENANT, Change, Plan

SYMBOLS = {"add": "+", "remove": "-", "change": "~", "invoke": "!"}
LEGEND = {"add": "+ add", "remove": "- remove", "change": "~ change", "invoke": "! invoke"}


def value(text: Any) -> str:
    if text is None:
        return "null"
    if text == SENSITIVE:
        return SENSITIVE
    if isinstance(text, bool):
        return "true" if text else "false"
    if isinstance(text, list):
        return "[" + ", ".join(value(v) for v in text) + "]"
    if isinstance(text, dict):
        return "{" + ", ".join(f"{k}: {value(v)}" for k, v in text.items()) + "}"
    if isinstance(text, int | float):
        return str(text)
    return "'" + str(text) + "'"


def verb(changes: list[Change]) -> str:
    first = changes[0]
    if first.kind == "user" and first.op == "add":
        return "restored" if "restore" in first.apply else (
            "invited" if "invite" in first.apply else "created")
    if any(c.kind == "user" and c.op == "remove" for c in changes):
        return "deleted"
    if first.kind == "user" and first.target == "userPrincipalName":
        return "renamed"
    return "updated"


# What a plan's attribution and notes may name besides a change kind: a principal no file
# accounts for (plan/unmanaged.py).
SUBJECTS = {"unmanaged": "unmanaged"}


def kind_label(name: str) -> str:
    """The word for a change kind (the area's label) in a note, an attribution or a
    scheduled entry; a name that is neither a declared kind nor in `SUBJECTS` raises
    KeyError naming it."""
    return SUBJECTS[name] if name in SUBJECTS else kind(name).label


def label(change: Change) -> str:
    declared = kind(change.kind)
    return f"{declared.label}.{change.target}" if declared.label_target else declared.label


def change_lines(change: Change) -> list[str]:
    """`+ group: Oncall (until 2026-12-31)`, `~ profile.jobTitle: 'a' -> 'b'`; a created
    user expands into one line per field it is created with."""
    symbol = SYMBOLS[change.op]
    declared = kind(change.kind)
    fields = declared.fields(change)
    if fields is not None:
        return [f"{symbol} {declared.label}: {change.user}"] + [
            f"{symbol} {name}: {value(shown)}" for name, shown in fields]
    note = f" ({change.note})" if change.note else ""
    if change.kind == "user" and change.target == "userPrincipalName":
        return [f"~ userPrincipalName: {value(change.before)} -> {value(change.after)}{note}"]
    if change.kind == "user":
        return [f"{symbol} user: {change.user}{note}"]
    if change.kind == "action":
        secret = f", new password: {SENSITIVE}" if change.apply.get("do") == "resetPassword" \
            else ""
        return [f"! action: {change.target}{secret}{note}"]
    if declared.show is None and isinstance(change.after, dict) and \
            isinstance(change.before, dict | None):
        before = change.before or {}  # settings changed together: one line per setting
        return [f"{symbol} {label(change)}.{key}: {value(before.get(key))} -> "
                f"{value(change.after[key])}{note}" for key in change.after]

    def show(shown: Any) -> str:  # a plain name (older plan files) is shown as it is
        text = declared.show(shown) if declared.show and isinstance(shown, dict) else shown
        return value(text) if declared.quoted else str(text)

    if change.op == "change":
        return [f"~ {label(change)}: {show(change.before)} -> {show(change.after)}{note}"]
    shown = change.after if change.op != "remove" else change.before
    return [f"{symbol} {label(change)}: {show(shown)}{note}"]


def category(change: Change) -> str | None:
    """The heading a change is listed under (the area's heading for its kind)."""
    declared = kind(change.kind)
    if declared.heading_of is not None:
        return declared.heading_of(change.target or "")
    return declared.heading


def by_user(plan: Plan) -> list[tuple[str, list[Change]]]:
    grouped: dict[str, list[Change]] = {}
    for change in plan.changes:
        grouped.setdefault(change.user, []).append(change)
    return sorted(grouped.items(), key=lambda item: (item[0] != TENANT, item[0].lower()))


def collapsed_notes(plan: Plan, shown: int = 3) -> list[str]:
    """Notes with the same kind, target and reason on one line, naming a few users."""
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for note in plan.notes:
        grouped.setdefault((note.kind, note.target, note.message), []).append(note.user)
    lines = []
    for (what, target, message), users in sorted(grouped.items()):
        who = ", ".join(users[:shown]) + (f" and {len(users) - shown} more"
                                          if len(users) > shown else "")
        lines.append(f"{kind_label(what)} {target}: {message} ({who})")
    return lines


def attribution_lines(plan: Plan) -> list[str]:
    return [f"{a['user']} {kind_label(a['kind'])} {a['target']}: {a['activity']} by {a['by']} "
            f"at {a['at']}"
            for a in plan.attribution]


NOT_APPLICABLE = "not applicable until the errors are fixed"


def errors_headline(plan: Plan) -> str:
    count = len(plan.errors)
    return (f"{count} error{'s' if count != 1 else ''} in the desired state: nothing will be "
            f"applied. Changes: {NOT_APPLICABLE}.")


def summary_line(plan: Plan) -> str:
    """The plan's headline; with errors it says so, and never "No changes"."""
    if plan.errors:
        return errors_headline(plan)
    if not plan.changes:
        return "No changes. The tenant matches the desired state."
    return f"Plan: {counts(plan)}."


def counts(plan: Plan) -> str:
    """`5 to add, 4 to change, 5 to remove` (an invoked action counts as a change)."""
    summary = plan.summary
    return (f"{summary['add']} to add, {summary['change']} to change, "
            f"{summary['remove']} to remove")
