"""The plan as Markdown (a pull-request comment, a drift issue, `plan --format markdown`).

The sections, their order and their words come from `sections.py`; this module lays each
out as a Markdown block (a table, a list, or one folded `<details>` per user) and escapes
every value through `escape.py`. `gitops.py` shortens a comment block by block."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.plan.change import Plan
from reconciler.render.escape import md_code, md_fence, md_html, md_text, printable
from reconciler.render.lines import summary_line
from reconciler.render.sections import Row, Section, UserChanges, sections


@dataclass
class Block:
    """One section in Markdown: `frame` is shown whenever the block is (its heading, a
    table's header), `items` are the entries a shortened comment may leave out, in order.
    The first block of a plan (its title and headline) has no `section`."""

    frame: list[str]
    items: list[list[str]] = field(default_factory=list)
    section: Section | None = None

    def lines(self, kept: int | None = None, folded: bool = False) -> list[str]:
        """The block with its first `kept` items (all when None), then a blank line;
        `folded`: per-user `<details>` closed. Per-user items are apart by a blank line."""
        out = list(self.frame)
        for item in self.items[:kept]:
            out += [_folded(line) for line in item] if folded else item
            if self.section is not None and self.section.users:
                out.append("")
        if self.section is not None and out[-1] != "":
            out.append("")
        return out


def render_markdown(plan: Plan) -> str:
    return "\n".join(line for block in blocks(plan) for line in block.lines()).rstrip() + "\n"


def blocks(plan: Plan, title: bool = True) -> list[Block]:
    """The plan's blocks: its title (without it when `title` is false: a drift issue has
    its own) and headline, then one block per section."""
    head = ([f"### reconciler plan for {md_code(plan.tenant)}", ""] if title else []) + \
        [f"**{md_text(summary_line(plan))}**", ""]
    return [Block(head)] + [_block(section) for section in sections(plan)]


def _block(section: Section) -> Block:
    heading = f"#### {section.icon} {section.title}" if section.icon else \
        f"#### {section.title}"
    if section.users:
        return Block([heading, ""], [_user(user) for user in section.users], section)
    if section.columns:
        names = [column.name for column in section.columns]
        return Block([heading, "", "| " + " | ".join(c.header for c in section.columns) + " |",
                      "|" + " --- |" * len(section.columns)],
                     [[_cells(row, names)] for row in section.rows], section)
    return Block([heading, ""], [[_bullet(row, section.verbatim)] for row in section.rows],
                 section)


def _cells(row: Row, names: list[bool]) -> str:
    return "| " + " | ".join(md_code(cell) if name else md_text(cell)
                             for cell, name in zip(row.cells, names, strict=True)) + " |"


def _bullet(row: Row, verbatim: bool) -> str:
    shown = md_code(row.cells[0]) if verbatim else md_text(row.cells[0])
    return f"- {':warning: ' if row.flagged else ''}{shown}"


def _user(user: UserChanges) -> list[str]:
    block = [printable(line) for _heading, line in user.lines]
    fence = md_fence(block)
    out = [f"<details open><summary><code>{md_html(user.user)}</code> {user.fate} "
           f"({user.count})</summary>", "", f"{fence}diff", *block]
    if user.hidden:
        out.append(f"# {user.hidden}")
    return out + [fence, "", "</details>"]


def _folded(line: str) -> str:
    return line.replace("<details open>", "<details>", 1) if line.startswith("<details") \
        else line
