"""The plan as a pull-request comment: privileged changes first, errors before anything."""

from __future__ import annotations

from reconciler.areas.registry import privileged as is_privileged
from reconciler.plan.change import Plan
from reconciler.render.lines import by_user, change_lines, collapsed_notes, summary_line, verb


def render_markdown(plan: Plan) -> str:
    out = [f"### reconciler plan for `{plan.tenant}`", "", f"**{summary_line(plan)}**", ""]
    if plan.errors:
        out += ["#### :x: Errors: nothing will be applied", ""]
        out += [f"- `{e}`" for e in plan.errors]
        out.append("")
    if plan.refusals:
        out += ["#### :no_entry: Refused", ""]
        out += [f"- {r}" for r in plan.refusals]
        out.append("")
    privileged = [c for c in plan.changes if is_privileged(c)]
    if privileged:
        out += ["#### :warning: Privileged changes", "", "| user | change |", "| --- | --- |"]
        for change in privileged:
            for line in change_lines(change):
                out.append(f"| `{change.user}` | `{line}` |")
        out.append("")
    if plan.changes:
        out += ["#### Changes", ""]
        for user, changes in by_user(plan):
            out += [f"<details open><summary><code>{user}</code> will be {verb(changes)} "
                    f"({len(changes)})</summary>", "", "```diff"]
            for change in changes:
                out.extend(change_lines(change))
            hidden = plan.unchanged.get(user, 0)
            if hidden:
                out.append(f"# ({hidden} unchanged field{'s' if hidden != 1 else ''} hidden)")
            out += ["```", "", "</details>", ""]
    if plan.attribution:
        out += ["#### Changed outside git", "", "| user | what | activity | by | at |",
                "| --- | --- | --- | --- | --- |"]
        out += [f"| `{a['user']}` | {a['kind']} {a['target']} | {a['activity']} | {a['by']} | "
                f"{a['at']} |" for a in plan.attribution]
        out.append("")
    if plan.scheduled:
        out += ["#### Scheduled", "", "| due | user | change |", "| --- | --- | --- |"]
        for item in plan.scheduled:
            target = f" {item.target}" if item.target else ""
            out.append(f"| {item.due} | `{item.user}` | {item.op} {item.kind}{target} |")
        out.append("")
    if plan.notes:
        out += ["#### Not manageable", ""]
        out += [f"- {line}" for line in collapsed_notes(plan)]
        out.append("")
    if plan.warnings:
        out += ["#### Warnings", ""]
        out += [f"- {w}" for w in plan.warnings]
        out.append("")
    return "\n".join(out).rstrip() + "\n"
