"""`reconciler show`: one user's card in text or Markdown (JSON is the card itself).

Sections: what git says beside what the tenant has, authentication methods, devices,
applications, risk, recent sign-ins, directory audit entries, license changes. Live values
are shown as data, never as markup: Markdown cells are escaped and text is made printable.
"""

from __future__ import annotations

from typing import Any

from reconciler.render.escape import md_text, text_line


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


def _sections(card: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    risk = card["risk"]
    return [
        ("Authentication methods", ["type", "detail", "registered"],
         [[m["type"], m["detail"], m["registered"]] for m in card["authenticationMethods"]]),
        ("Devices", ["device", "OS", "compliance", "last sync"],
         [[d["deviceName"], d["operatingSystem"], d["complianceState"], d["lastSyncDateTime"]]
          for d in card["devices"]]),
        ("Applications", ["app", "assigned to"],
         [[a["app"], "this user" if a["through"] == "User" else f"group {a['principal']}"]
          for a in card["applications"]]),
        ("Risk", ["level", "state", "updated"],
         [[risk["riskLevel"], risk["riskState"], risk["updated"]]] if risk else []),
        ("Recent sign-ins", ["when", "app", "IP", "result"],
         [[s["when"], s["app"], s["ip"], "success" if s["result"] == 0 else s["result"]]
          for s in card["signIns"]]),
        ("Directory audit", ["when", "activity", "by", "changed"],
         [[a["when"], a["activity"], a["by"], a["changed"]] for a in card["audits"]]),
        ("License changes", ["when", "activity", "by"],
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
    for title, _headers, rows in _sections(card):
        lines += ["", f"{title}:" + ("" if rows else " none")]
        lines += ["  " + " · ".join(_plain(v) for v in row) for row in rows]
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
    for title, headers, rows in _sections(card):
        out += ["", f"#### {title}", ""]
        if not rows:
            out.append("None.")
            continue
        out += ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
        out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    for name, why in card["unavailable"].items():
        out += ["", f"_Not shown: {name}: {_cell(why)}_"]
    return "\n".join(out) + "\n"


def _same(git: Any, live: Any) -> bool:
    if isinstance(git, list) and isinstance(live, list):
        return sorted(map(str, git)) == sorted(map(str, live))
    return str(git).lower() == str(live).lower()
