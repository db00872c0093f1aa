"""What the GitHub workflows need, as plain functions: which tenants a change touches, and
the bodies of the pull-request comment and the drift issue."""

from __future__ import annotations

import subprocess
from pathlib import Path

from reconciler.plan.change import Plan
from reconciler.render.markdown import render_markdown

# Files outside tenants/ whose change can alter every tenant's plan.
AFFECTS_ALL = ("schemas/", "reconciler/", "pyproject.toml")


def tenants(root: Path) -> list[str]:
    """Every tenant folder under `root` (one holding tenant.yaml), sorted."""
    return sorted(str(p.parent) for p in root.glob("*/tenant.yaml"))


def changed_paths(base: str, head: str, cwd: Path) -> list[str]:
    done = subprocess.run(["git", "diff", "--name-only", f"{base}...{head}"], cwd=cwd,
                          capture_output=True, text=True, check=True)
    return [line for line in done.stdout.splitlines() if line]


def changed_tenants(paths: list[str], root: str, existing: list[str]) -> list[str]:
    """Tenants whose files changed (all of them when shared code or schemas changed);
    a deleted tenant folder is not listed."""
    prefix = root.rstrip("/") + "/"
    if any(p.startswith(AFFECTS_ALL) for p in paths):
        return list(existing)
    touched = {prefix + p[len(prefix):].split("/")[0] for p in paths if p.startswith(prefix)}
    return sorted(t for t in existing if t in touched)


def marker(kind: str, tenant: str) -> str:
    return f"<!-- reconciler:{kind}:{tenant} -->"


def comment_body(plan: Plan) -> str:
    """The pull-request comment: a marker to find and update it, then the plan."""
    return marker("plan", plan.tenant) + "\n" + render_markdown(plan)


def issue_title(plan: Plan) -> str:
    return f"Drift in {plan.tenant}"


def issue_body(plan: Plan, run_url: str | None = None) -> str:
    """The drift issue: what differs, who changed it, and how to resolve it."""
    lines = [marker("drift", plan.tenant), f"## Drift in `{plan.tenant}`", ""]
    counts = plan.summary
    lines.append(f"The live tenant differs from git: {counts['add']} to add, "
                 f"{counts['change']} to change, {counts['remove']} to remove (as `reconciler "
                 "apply` would do it).")
    lines.append("")
    lines.append("Resolve it by changing the YAML to match (a pull request), or by applying "
                 "git again; the issue closes itself when a scheduled run finds no drift.")
    if run_url:
        lines += ["", f"Found by {run_url}."]
    lines += ["", ""]
    body = render_markdown(plan).split("\n", 2)[2]  # without its heading line
    return "\n".join(lines) + body
