"""The audit trail: one JSON line per change an apply attempted, appended to a file named in
tenant.yaml (audit.file, default .reconciler/audit.jsonl) as each outcome is known, and
flushed to the operating system at once, so a run killed at any point (SIGKILL included)
leaves a line for every write it had settled. Never a secret: changes carry none
(generated passwords are `(sensitive value)`)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path
from typing import IO, Any

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


def trail_line(outcome: Outcome, tenant: str, when: str, commit: str | None,
               actor: str | None) -> str:
    change = outcome.change
    record: dict[str, Any] = {
        "time": when, "tenant": tenant, "user": change.user, "kind": change.kind,
        "op": change.op, "target": change.target, "before": change.before,
        "after": change.after, "outcome": outcome.status, "commit": commit, "actor": actor}
    if outcome.message:
        record["message"] = outcome.message
    return json.dumps(record, ensure_ascii=False, sort_keys=False)


class Trail:
    """The trail of one apply: each outcome appended and flushed as it is recorded.

    Each line is one write() of the whole line on a file opened for appending, so a kill
    never leaves half a line behind a complete one. Lines are flushed to the operating
    system per outcome (what survives SIGKILL) and fsync'ed once at the end (power loss).
    Thread-safe: apply steps record outcomes from several threads.
    """

    def __init__(self, path: Path, tenant: str, folder: Path, now: Any) -> None:
        self.path, self.tenant, self.now = path, tenant, now
        self.commit, self.actor = commit_of(folder), actor_of()
        self._lock = threading.Lock()
        self._handle: IO[str] | None = None

    def write(self, outcome: Outcome) -> None:
        line = trail_line(outcome, self.tenant, format_instant(self.now()), self.commit,
                          self.actor) + "\n"
        with self._lock:
            if self._handle is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._handle = self.path.open("a", encoding="utf-8")
            self._handle.write(line)
            self._handle.flush()

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                os.fsync(self._handle.fileno())
                self._handle.close()
                self._handle = None
