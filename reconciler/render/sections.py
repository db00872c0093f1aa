"""The plan as one ordered list of sections: what a person reads, decided once.

`sections(plan)` is the single section model: which sections a plan has, in which order,
their titles, and every row's words. The text plan (`text.py`), the Markdown plan
(`markdown.py`) and the GitHub comment and drift issue (`gitops.py`, through the Markdown
blocks) all lay out this list; none of them adds, drops, reorders or words a section of its
own. What a medium decides is layout only: lines or tables, symbols' colour, escaping (in
`escape.py`), folding and shortening. The words of one change line, of a user's verb and
of the headline are in `lines.py`, which reads each kind's label and heading from the
registry (an unknown kind fails there, naming it).
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.areas.registry import privileged as is_privileged
from reconciler.plan.change import Plan
from reconciler.plan.unmanaged import describe
from reconciler.render.lines import (
    LEGEND,
    SYMBOLS,
    attribution_lines,
    by_user,
    category,
    change_lines,
    collapsed_notes,
    kind_label,
    verb,
)


@dataclass(frozen=True)
class Column:
    """A column of a section shown as a table. `name`: it holds a name or an identifier
    (a UPN, a change line) that a medium with markup shows verbatim (code)."""

    header: str
    name: bool = False


@dataclass(frozen=True)
class Row:
    """One entry of a section: `line` is the entry said on one line (a text plan), `cells`
    the same entry split by the section's columns (one cell when the section is a list).
    `flagged`: it needs a reviewer's attention first (a privileged principal)."""

    line: str
    cells: tuple[str, ...]
    flagged: bool = False


@dataclass(frozen=True)
class UserChanges:
    """One user's changes: `fate` follows the user's name ("will be created"); `lines` are
    the change lines, each with the heading it is listed under (None: no heading)."""

    user: str
    fate: str
    count: int
    lines: tuple[tuple[str | None, str], ...]
    hidden: str | None  # "(1 unchanged field hidden)", or None when nothing is hidden


@dataclass(frozen=True)
class Section:
    """One section of a plan.

    `key` names it for code (`"privileged"`); `title` is its short heading (Markdown, the
    note saying what a shortened comment left out); `lead` is the sentence a text plan
    introduces it with, or None when the text plan leaves it to stderr (errors and
    refusals, which `plan` prints there); `icon` is a Markdown emoji shortcode or "".
    `columns` set: the rows are a table; otherwise a list, its one cell shown verbatim
    when `verbatim`. `keep`: how a shortened GitHub comment treats it: 0, 1, 2 are kept
    in full in that order before anything else, 3 are the per-user sections (folded
    first), 4 the rest."""

    key: str
    title: str
    lead: str | None
    icon: str = ""
    columns: tuple[Column, ...] = ()
    verbatim: bool = False
    rows: tuple[Row, ...] = ()
    users: tuple[UserChanges, ...] = ()
    keep: int = 4


def sections(plan: Plan) -> list[Section]:
    """Every section the plan has something for, in the order every medium shows them."""
    built = [_errors(plan), _refusals(plan), _privileged(plan), _changes(plan),
             _waiting(plan), _attribution(plan), _unmanaged(plan), _scheduled(plan),
             _notes(plan), _warnings(plan)]
    return [section for section in built if section.rows or section.users]


def _errors(plan: Plan) -> Section:
    return Section("errors", "Errors: nothing will be applied", None, icon=":x:",
                   verbatim=True, keep=0,
                   rows=tuple(Row(str(e), (str(e),)) for e in plan.errors))


def _refusals(plan: Plan) -> Section:
    return Section("refusals", "Refused", None, icon=":no_entry:", keep=1,
                   rows=tuple(Row(r, (r,)) for r in plan.refusals))


def _privileged(plan: Plan) -> Section:
    rows = tuple(Row(f"{change.user}: {line}", (change.user, line))
                 for change in plan.changes if is_privileged(change)
                 for line in change_lines(change))
    return Section("privileged", "Privileged changes", "Privileged changes (review these "
                   "first)", icon=":warning:", keep=2, rows=rows,
                   columns=(Column("user", name=True), Column("change", name=True)))


def _changes(plan: Plan) -> Section:
    used = sorted({c.op for c in plan.changes}, key=list(LEGEND).index)
    users = []
    for user, changes in by_user(plan):
        hidden = plan.unchanged.get(user, 0)
        users.append(UserChanges(
            user, f"will be {verb(changes)}", len(changes),
            tuple((category(change), line) for change in changes
                  for line in change_lines(change)),
            f"({hidden} unchanged field{'s' if hidden != 1 else ''} hidden)" if hidden
            else None))
    return Section("changes", "Changes", "reconciler will perform the following actions "
                   f"({', '.join(LEGEND[op] for op in used)})", keep=3, users=tuple(users))


def _waiting(plan: Plan) -> Section:
    """Drift that is git moving: the tenant is as the last apply left it."""
    rows = []
    for w in plan.waiting:
        commit = str(w.get("commit") or "")[:12]
        what = f"{kind_label(w['kind'])} {w['target']}"
        rows.append(Row(f"{w['user']} {what}: applied {w['appliedAt']}"
                        + (f" (commit {commit})" if commit else ""),
                        (w["user"], what, w["appliedAt"], commit)))
    return Section("waiting", "Waiting for apply (git changed; the tenant is as the last "
                   "apply left it)", "Waiting for apply (git changed after the last apply; "
                   "the tenant is as that apply left it)", icon=":hourglass:", rows=tuple(rows),
                   columns=(Column("user", name=True), Column("what"), Column("applied"),
                            Column("commit")))


def _attribution(plan: Plan) -> Section:
    rows = tuple(Row(line, (a["user"], f"{kind_label(a['kind'])} {a['target']}",
                            a["activity"], a["by"], a["at"]))
                 for a, line in zip(plan.attribution, attribution_lines(plan), strict=True))
    return Section("attribution", "Changed outside git", "Changed outside git (directory "
                   "audit log)", rows=rows,
                   columns=(Column("user", name=True), Column("what"), Column("activity"),
                            Column("by"), Column("at")))


def _unmanaged(plan: Plan) -> Section:
    """Principals no file accounts for (policy.unmanagedUsers: report)."""
    rows = tuple(Row(f"{'!' if e['privileged'] else '-'} {describe(e)}", (describe(e),),
                     flagged=bool(e["privileged"])) for e in plan.unmanaged)
    return Section("unmanaged", "Without a file (listed, never changed)", "Without a file "
                   "(listed, never changed; privileged first)", icon=":bust_in_silhouette:",
                   verbatim=True, rows=rows)


def _scheduled(plan: Plan) -> Section:
    rows = []
    for item in plan.scheduled:
        label = kind_label(item.kind)
        symbol = SYMBOLS.get(item.op, "~")
        target = f": {item.target}" if item.target else ""
        rows.append(Row(f"{item.due}  {item.user}  {symbol} {label}{target}",
                        (item.due, item.user,
                         f"{item.op} {label}" + (f" {item.target}" if item.target else ""))))
    return Section("scheduled", "Scheduled", "Scheduled", rows=tuple(rows),
                   columns=(Column("due"), Column("user", name=True), Column("change")))


def _notes(plan: Plan) -> Section:
    return Section("notes", "Not manageable", "Not manageable (left as they are)",
                   rows=tuple(Row(line, (line,)) for line in collapsed_notes(plan)))


def _warnings(plan: Plan) -> Section:
    return Section("warnings", "Warnings", "Warnings",
                   rows=tuple(Row(f"! {w}", (w,)) for w in plan.warnings))
