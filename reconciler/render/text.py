"""The plan for a terminal, in the Terraform style. Colour only on a TTY.

The sections, their order and their words come from `sections.py`; this module lays them
out as indented lines (errors and refusals are printed on stderr by the command)."""

from __future__ import annotations

import click

from reconciler.plan.change import Plan
from reconciler.render.escape import printable, text_block
from reconciler.render.lines import summary_line
from reconciler.render.sections import Section, sections

COLOURS = {"+": "green", "-": "red", "~": "yellow", "!": "cyan"}


def render_text(plan: Plan, colour: bool = False) -> str:
    """Users sorted by UPN, kinds in spec order, unchanged fields counted, not shown."""
    out: list[str] = []
    if plan.errors:  # said first as well as last: the counts below do not apply
        out += [summary_line(plan), ""]
    for section in sections(plan):
        if section.lead is None:
            continue
        out.append(f"{section.lead}:")
        out += _users(section, colour) if section.users else \
            [f"  {printable(row.line)}" for row in section.rows]
        out.append("")
    out.append(printable(summary_line(plan)))
    return text_block("\n".join(out)) + "\n"


def _users(section: Section, colour: bool) -> list[str]:
    """Each user's change lines under the headings of their kinds."""
    out = [""]
    for user in section.users:
        out.append(f"  # {printable(user.user)} {user.fate}")
        current = None
        for heading, line in user.lines:
            if heading and heading != current:
                out.append(f"    # {printable(heading)}")
            current = heading or current
            out.append(_paint(f"  {printable(line)}", colour))
        if user.hidden:
            out.append(f"    # {user.hidden}")
        out.append("")
    return out[:-1]


def _paint(line: str, colour: bool) -> str:
    stripped = line.lstrip()
    if colour and stripped[:1] in COLOURS:
        return click.style(line, fg=COLOURS[stripped[0]])
    return line
