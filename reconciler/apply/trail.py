"""The audit trail: one JSON line per change an apply attempted, appended to a file named in
tenant.yaml (audit.file, default .reconciler/audit.jsonl). Never a secret: changes carry
none (generated passwords are `(sensitive value)`)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from reconciler.apply.context import Outcome
from reconciler.desired.dates import format_instant


def commit_of(folder: Path, environ: dict[str, str] | None = None) -> str | None:
    env = environ if environ is not None else os.environ
    if env.get("GITHUB_SHA"):
        return env["GITHUB_SHA"]
    try:
        done = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"],
                              capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def actor_of(environ: dict[str, str] | None = None) -> str | None:
    env = environ if environ is not None else os.environ
    return env.get("GITHUB_ACTOR") or env.get("USER") or None


def trail_lines(outcomes: list[Outcome], tenant: str, when: str, commit: str | None,
                actor: str | None) -> list[str]:
    lines = []
    for outcome in outcomes:
        change = outcome.change
        record: dict[str, Any] = {
            "time": when, "tenant": tenant, "user": change.user, "kind": change.kind,
            "op": change.op, "target": change.target, "before": change.before,
            "after": change.after, "outcome": outcome.status, "commit": commit,
            "actor": actor}
        if outcome.message:
            record["message"] = outcome.message
        lines.append(json.dumps(record, ensure_ascii=False, sort_keys=False))
    return lines


def append_trail(path: Path, outcomes: list[Outcome], tenant: str, now: Any,
                 folder: Path) -> None:
    """Append one line per outcome; the folder is created when missing."""
    if not outcomes:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = trail_lines(outcomes, tenant, format_instant(now), commit_of(folder), actor_of())
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
