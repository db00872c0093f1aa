"""The plan for a terminal, in the Terraform style. Colour only on a TTY."""

from __future__ import annotations

import click

from reconciler.areas.registry import privileged as is_privileged
from reconciler.plan.change import Plan
from reconciler.plan.unmanaged import describe
from reconciler.render.escape import printable, text_block
from reconciler.render.lines import (
    LEGEND,
    attribution_lines,
    by_user,
    category,
    change_lines,
    collapsed_notes,
    summary_line,
    verb,
)

COLOURS = {"+": "green", "-": "red", "~": "yellow", "!": "cyan"}


def render_text(plan: Plan, colour: bool = False) -> str:
    """Users sorted by UPN, kinds in spec order, unchanged fields counted, not shown."""

    def paint(line: str) -> str:
        stripped = line.lstrip()
        if colour and stripped[:1] in COLOURS:
            return click.style(line, fg=COLOURS[stripped[0]])
        return line

    out: list[str] = []
    if plan.errors:  # said first as well as last: the counts below do not apply
        out += [summary_line(plan), ""]
    privileged = [c for c in plan.changes if is_privileged(c)]
    if privileged:
        out.append("Privileged changes (review these first):")
        out.extend(paint(f"  {change.user}: {line}") for change in privileged
                   for line in change_lines(change))
        out.append("")
    if plan.changes:
        used = sorted({c.op for c in plan.changes}, key=list(LEGEND).index)
        out.append("reconciler will perform the following actions "
                   f"({', '.join(LEGEND[op] for op in used)}):")
        out.append("")
        for user, changes in by_user(plan):
            out.append(f"  # {printable(user)} will be {verb(changes)}")
            current = None
            for change in changes:
                heading = category(change)
                if heading and heading != current:
                    out.append(f"    # {printable(heading)}")
                current = heading or current
                out.extend(paint(f"  {printable(line)}") for line in change_lines(change))
            hidden = plan.unchanged.get(user, 0)
            if hidden:
                out.append(f"    # ({hidden} unchanged field{'s' if hidden != 1 else ''} "
                           "hidden)")
            out.append("")
    out += _waiting(plan)
    if plan.attribution:
        out.append("Changed outside git (directory audit log):")
        out.extend(f"  {printable(line)}" for line in attribution_lines(plan))
        out.append("")
    out += _unmanaged(plan)
    if plan.notes:
        out.append("Not manageable (left as they are):")
        out.extend(f"  {printable(line)}" for line in collapsed_notes(plan))
        out.append("")
    if plan.scheduled:
        out.append("Scheduled:")
        for item in plan.scheduled:
            symbol = "+" if item.op == "add" else "-" if item.op == "remove" else "~"
            target = f": {item.target}" if item.target else ""
            out.append(printable(f"  {item.due}  {item.user}  {symbol} {item.kind}{target}"))
        out.append("")
    if plan.warnings:
        out.append("Warnings:")
        out.extend(f"  ! {printable(w)}" for w in plan.warnings)
        out.append("")
    out.append(printable(summary_line(plan)))
    return text_block("\n".join(out)) + "\n"


def _waiting(plan: Plan) -> list[str]:
    """Drift that is git moving: the tenant is as the last apply left it."""
    if not plan.waiting:
        return []
    return ["Waiting for apply (git changed after the last apply; the tenant is as that "
            "apply left it):",
            *(printable(f"  {w['user']} {w['kind']} {w['target']}: applied {w['appliedAt']}"
                        + (f" (commit {str(w['commit'])[:12]})" if w.get("commit") else ""))
              for w in plan.waiting), ""]


def _unmanaged(plan: Plan) -> list[str]:
    """Principals no file accounts for (policy.unmanagedUsers: report)."""
    if not plan.unmanaged:
        return []
    return ["Without a file (listed, never changed; privileged first):",
            *(f"  {'!' if e['privileged'] else '-'} {printable(describe(e))}"
              for e in plan.unmanaged), ""]
