"""The saved plan (JSON, `format: 1`): what `plan --out` writes and `apply --plan` reads.

Every plan file carries a `seal`: the SHA-256 of its content (canonical JSON of every other
key). A file whose seal does not match was edited after `reconciler plan` wrote it and is
refused as foreign. The seal is an integrity check, not a signature: whoever can write the
file can recompute it, which is why `apply --plan` also re-judges every saved plan against a
fresh one (reconcile.apply_saved).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from reconciler.desired.problems import Problem
from reconciler.plan.change import Change, Note, Plan, Scheduled
from reconciler.render.lines import NOT_APPLICABLE, summary_line

FORMAT = 1


class PlanFileError(ValueError):
    """A plan file that cannot be used (unreadable, wrong format, another tenant)."""


def _change_json(change: Change) -> dict[str, Any]:
    """A change, marked `privileged: true` when reviewers must see it first."""
    from reconciler.areas.registry import privileged

    data = change.to_json()
    if privileged(change):
        data["privileged"] = True
    return data


def plan_to_json(plan: Plan) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "tenant": plan.tenant,
        "createdAt": plan.created_at,
        "headline": summary_line(plan),
        "summary": NOT_APPLICABLE if plan.errors else plan.summary,
        "changes": [_change_json(c) for c in plan.changes],
        "scheduled": [s.to_json() for s in plan.scheduled],
        "notes": [n.to_json() for n in plan.notes],
        "errors": [{"file": e.file, "line": e.line, "col": e.col, "path": e.path,
                    "message": e.message, "text": str(e)} for e in plan.errors],
        "warnings": list(plan.warnings),
        "refusals": list(plan.refusals),
        "attribution": list(plan.attribution),
        "unmanaged": list(plan.unmanaged),
        "waiting": list(plan.waiting),
        "users": list(plan.users),
        "facts": dict(sorted(plan.facts.items())),
    }


def seal(data: dict[str, Any]) -> str:
    """The content hash of a plan document (every key but `seal`, canonical JSON)."""
    body = {k: v for k, v in data.items() if k != "seal"}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def dumps(plan: Plan) -> str:
    data = plan_to_json(plan)
    data["seal"] = seal(data)
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def save(plan: Plan, path: Path) -> None:
    path.write_text(dumps(plan), encoding="utf-8")


def load(path: Path) -> Plan:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PlanFileError(f"{path}: cannot read the plan ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PlanFileError(f"{path}: not a reconciler plan (format {FORMAT} expected)")
    if "seal" not in data:
        raise PlanFileError(f"{path}: not a reconciler plan (it has no seal; plans written "
                            "before plan files were sealed must be made again)")
    if data.get("seal") != seal(data):
        raise PlanFileError(f"{path}: refused as foreign: its content does not match its seal "
                            "(the file was edited after `reconciler plan` wrote it, or was not "
                            "written by it)")
    try:
        return _plan_of(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanFileError(f"{path}: not a reconciler plan (malformed field: {exc})") \
            from exc


def _plan_of(data: dict[str, Any]) -> Plan:
    plan = Plan(tenant=data["tenant"], created_at=data["createdAt"])
    plan.changes = [Change.from_json(c) for c in data.get("changes", [])]
    plan.scheduled = [Scheduled(**s) for s in data.get("scheduled", [])]
    plan.notes = [Note(**n) for n in data.get("notes", [])]
    plan.errors = [Problem(e["file"], e["line"], e["col"], e["path"], e["message"])
                   for e in data.get("errors", [])]
    plan.warnings = list(data.get("warnings", []))
    plan.refusals = list(data.get("refusals", []))
    plan.attribution = list(data.get("attribution", []))
    plan.users = list(data.get("users", []))
    plan.facts = dict(data.get("facts", {}))
    return plan
