"""`reconciler show`: one user's card in text or Markdown (JSON is the card itself).

Sections: what git says beside what the tenant has, then authentication methods, devices,
applications, risk, recent sign-ins, directory audit entries and license changes, built as
the plan's `sections.Section`s (title, columns, each row as cells and as one line). Live
values are shown as data, never as markup: Markdown cells are escaped and text is made
printable.
"""

from __future__ import annotations

from typing import Any

from reconciler.render.escape import md_text, text_line
from reconciler.render.sections import Column, Row, Section


def _joined(value: Any) -> str:
    if value in (None, "", []):
        return "—"
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _plain(value: Any) -> str:
    return text_line(_joined(value))


def _cell(value: Any) -> str:
    return md_text(_joined(value))


def _rows(card: dict[str, Any], desired: dict[str, Any] | None) -> list[tuple[str, Any, Any]]:
    user = card["user"]
    git = desired or {}
    profile = git.get("profile") or {}
    rows = [(name, profile.get(name) if name in profile else None, user.get(name))
            for name in ("displayName", "jobTitle", "department", "usageLocation",
                         "accountEnabled")]
    for key in ("manager", "groups", "directoryRoles", "licenses"):
        rows.append((key, git.get(key), card[key]))
    return rows


def _section(key: str, title: str, headers: tuple[str, ...], rows: list[list[Any]]
             ) -> Section:
    """A card section in the plan's section model: each row as cells and as one line."""
    shown = [tuple(_joined(value) for value in row) for row in rows]
    return Section(key, title, title, columns=tuple(Column(h) for h in headers),
                   rows=tuple(Row(" · ".join(cells), cells) for cells in shown))


def _sections(card: dict[str, Any]) -> list[Section]:
    risk = card["risk"]
    return [
        _section("methods", "Authentication methods", ("type", "detail", "registered"),
                 [[m["type"], m["detail"], m["registered"]]
                  for m in card["authenticationMethods"]]),
        _section("devices", "Devices", ("device", "OS", "compliance", "last sync"),
                 [[d["deviceName"], d["operatingSystem"], d["complianceState"],
                   d["lastSyncDateTime"]] for d in card["devices"]]),
        _section("applications", "Applications", ("app", "assigned to"),
                 [[a["app"], "this user" if a["through"] == "User" else
                   f"group {a['principal']}"] for a in card["applications"]]),
        _section("risk", "Risk", ("level", "state", "updated"),
                 [[risk["riskLevel"], risk["riskState"], risk["updated"]]] if risk else []),
        _section("signIns", "Recent sign-ins", ("when", "app", "IP", "result"),
                 [[s["when"], s["app"], s["ip"], "success" if s["result"] == 0 else s["result"]]
                  for s in card["signIns"]]),
        _section("audits", "Directory audit", ("when", "activity", "by", "changed"),
                 [[a["when"], a["activity"], a["by"], a["changed"]] for a in card["audits"]]),
        _section("licenseChanges", "License changes", ("when", "activity", "by"),
                 [[a["when"], a["activity"], a["by"]] for a in card["licenseChanges"]]),
    ]


def _git_label(desired: dict[str, Any] | None) -> str:
    return "git" if desired is not None else "git (no file)"


def render_text(card: dict[str, Any], desired: dict[str, Any] | None, file: str | None) -> str:
    user = card["user"]
    lines = [f"{_plain(user.get('displayName'))} <{_plain(user.get('userPrincipalName'))}>",
             f"  id {user.get('id')} · file {_plain(file) if file else 'none (not managed)'}", ""]
    lines.append(f"  {'':18} {_git_label(desired):30} tenant")
    for name, git, live in _rows(card, desired):
        mark = " " if desired is None or git is None or _same(git, live) else "~"
        lines.append(f"{mark} {name:18} {_plain(git)[:30]:30} {_plain(live)}")
    for section in _sections(card):
        lines += ["", f"{section.lead}:" + ("" if section.rows else " none")]
        lines += ["  " + " · ".join(text_line(cell) for cell in row.cells)
                  for row in section.rows]
    for name, why in card["unavailable"].items():
        lines.append(f"(not shown: {name}: {_plain(why)})")
    return "\n".join(lines) + "\n"


def render_markdown(card: dict[str, Any], desired: dict[str, Any] | None,
                    file: str | None) -> str:
    user = card["user"]
    out = [f"### {_cell(user.get('displayName'))} ({_cell(user.get('userPrincipalName'))})", "",
           f"File: {_cell(file) if file else 'none (not managed)'}", "",
           f"| | {_git_label(desired)} | tenant |", "| --- | --- | --- |"]
    for name, git, live in _rows(card, desired):
        out.append(f"| {name} | {_cell(git)} | {_cell(live)} |")
    for section in _sections(card):
        out += ["", f"#### {section.title}", ""]
        if not section.rows:
            out.append("None.")
            continue
        out += ["| " + " | ".join(c.header for c in section.columns) + " |",
                "|" + " --- |" * len(section.columns)]
        out += ["| " + " | ".join(md_text(cell) for cell in row.cells) + " |"
                for row in section.rows]
    for name, why in card["unavailable"].items():
        out += ["", f"_Not shown: {name}: {_cell(why)}_"]
    return "\n".join(out) + "\n"


def _same(git: Any, live: Any) -> bool:
    if isinstance(git, list) and isinstance(live, list):
        return sorted(map(str, git)) == sorted(map(str, live))
    return str(git).lower() == str(live).lower()
