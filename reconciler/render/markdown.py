"""The plan as a pull-request comment: privileged changes first, errors before anything."""

from __future__ import annotations

from reconciler.areas.registry import privileged as is_privileged
from reconciler.plan.change import Plan
from reconciler.plan.unmanaged import describe
from reconciler.render.escape import md_code, md_fence, md_html, md_text, printable
from reconciler.render.lines import by_user, change_lines, collapsed_notes, summary_line, verb


def render_markdown(plan: Plan) -> str:
    out = [f"### reconciler plan for {md_code(plan.tenant)}", "",
           f"**{md_text(summary_line(plan))}**", ""]
    if plan.errors:
        out += ["#### :x: Errors: nothing will be applied", ""]
        out += [f"- {md_code(e)}" for e in plan.errors]
        out.append("")
    if plan.refusals:
        out += ["#### :no_entry: Refused", ""]
        out += [f"- {md_text(r)}" for r in plan.refusals]
        out.append("")
    privileged = [c for c in plan.changes if is_privileged(c)]
    if privileged:
        out += ["#### :warning: Privileged changes", "", "| user | change |", "| --- | --- |"]
        for change in privileged:
            for line in change_lines(change):
                out.append(f"| {md_code(change.user)} | {md_code(line)} |")
        out.append("")
    if plan.changes:
        out += ["#### Changes", ""]
        for user, changes in by_user(plan):
            block = [printable(line) for change in changes for line in change_lines(change)]
            fence = md_fence(block)
            out += [f"<details open><summary><code>{md_html(user)}</code> will be "
                    f"{verb(changes)} ({len(changes)})</summary>", "", f"{fence}diff"]
            out.extend(block)
            hidden = plan.unchanged.get(user, 0)
            if hidden:
                out.append(f"# ({hidden} unchanged field{'s' if hidden != 1 else ''} hidden)")
            out += [fence, "", "</details>", ""]
    out += _waiting(plan)
    if plan.attribution:
        out += ["#### Changed outside git", "", "| user | what | activity | by | at |",
                "| --- | --- | --- | --- | --- |"]
        out += [f"| {md_code(a['user'])} | {md_text(a['kind'])} {md_text(a['target'])} | "
                f"{md_text(a['activity'])} | {md_text(a['by'])} | {md_text(a['at'])} |"
                for a in plan.attribution]
        out.append("")
    out += _unmanaged(plan)
    if plan.scheduled:
        out += ["#### Scheduled", "", "| due | user | change |", "| --- | --- | --- |"]
        for item in plan.scheduled:
            target = f" {item.target}" if item.target else ""
            out.append(f"| {md_text(item.due)} | {md_code(item.user)} | "
                       f"{md_text(f'{item.op} {item.kind}{target}')} |")
        out.append("")
    if plan.notes:
        out += ["#### Not manageable", ""]
        out += [f"- {md_text(line)}" for line in collapsed_notes(plan)]
        out.append("")
    if plan.warnings:
        out += ["#### Warnings", ""]
        out += [f"- {md_text(w)}" for w in plan.warnings]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _waiting(plan: Plan) -> list[str]:
    if not plan.waiting:
        return []
    return ["#### :hourglass: Waiting for apply (git changed; the tenant is as the last "
            "apply left it)", "", "| user | what | applied | commit |", "| --- | --- | --- | --- |",
            *(f"| {md_code(w['user'])} | {md_text(w['kind'])} {md_text(w['target'])} | "
              f"{md_text(w['appliedAt'])} | {md_text(str(w.get('commit') or '')[:12])} |"
              for w in plan.waiting), ""]


def _unmanaged(plan: Plan) -> list[str]:
    if not plan.unmanaged:
        return []
    return ["#### :bust_in_silhouette: Without a file (listed, never changed)", "",
            *(f"- {':warning: ' if e['privileged'] else ''}{md_code(describe(e))}"
              for e in plan.unmanaged), ""]
