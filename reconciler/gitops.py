"""What the GitHub workflows need, as plain functions: which tenants a change touches, and
the bodies of the pull-request comment and the drift issue."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from reconciler.plan.change import Plan
from reconciler.render.escape import md_text, printable
from reconciler.render.lines import NOT_APPLICABLE, counts
from reconciler.render.markdown import Block, blocks

# Files outside tenants/ whose change can alter every tenant's plan.
AFFECTS_ALL = ("schemas/", "reconciler/", "pyproject.toml")


def tenants(root: Path) -> list[str]:
    """Every tenant folder under `root` (one holding tenant.yaml), sorted."""
    return sorted(str(p.parent) for p in root.glob("*/tenant.yaml"))


def due_tenants(reports: Path, allowed: list[str]) -> list[str]:
    """The tenants whose drift report has changes that have fallen due, sorted.

    `reports` holds one folder per tenant, as the drift job uploads it: `tenant` (the
    folder's name), `exit-code` (drift's: 2 means drift) and `drift.json` (the plan). Only
    names in `allowed` (the run's own tenant list) are returned, so a report cannot name a
    tenant the run was not asked about. A report that is missing or unreadable is skipped:
    its drift job failed, and that failure is reported there.
    """
    found: set[str] = set()
    if not reports.is_dir():  # no drift job uploaded anything
        return []
    for folder in sorted(p for p in reports.iterdir() if p.is_dir()):
        try:
            tenant = (folder / "tenant").read_text(encoding="utf-8").strip()
            code = (folder / "exit-code").read_text(encoding="utf-8").strip()
            if tenant not in allowed or code != "2":
                continue
            document = json.loads((folder / "drift.json").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        changes = document.get("changes") if isinstance(document, dict) else None
        if any(isinstance(c, dict) and isinstance(c.get("apply"), dict)
               and c["apply"].get("due") is True for c in changes or ()):
            found.add(tenant)
    return sorted(found)


class GitError(RuntimeError):
    """A git question this clone cannot answer; the message says how to fix the checkout."""


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` and return its output; a failure is a GitError naming the command."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise GitError(f"`git {' '.join(args)}` failed: {detail}")
    return done.stdout


def is_null_sha(sha: str) -> bool:
    """GitHub's `before` on a push that creates a branch: forty zeros, no commit at all."""
    return len(sha) >= 40 and set(sha) == {"0"}


def default_branch(cwd: Path, named: str | None = None) -> str | None:
    """The ref of the default branch in this clone: `named` (the workflow passes
    github.event.repository.default_branch), origin/HEAD, or origin/main / main."""
    candidates = [f"origin/{named}", named] if named else []
    try:
        candidates.insert(0, git(cwd, "rev-parse", "--abbrev-ref", "origin/HEAD").strip())
    except GitError:
        pass
    candidates += ["origin/main", "main", "origin/master", "master"]
    for ref in candidates:
        if ref and subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
                                  cwd=cwd, capture_output=True).returncode == 0:
            return ref
    return None


def changed_paths(base: str, head: str, cwd: Path, default: str | None = None
                  ) -> list[str] | None:
    """Files changed from `base` to `head`; None means "everything is new" (a null `base`
    on the default branch itself, or no default branch to compare with).

    A null base (forty zeros) compares with the default branch: the changes a new branch
    brings are those since it left the default branch."""
    if is_null_sha(base):
        ref = default_branch(cwd, default)
        if ref is None:
            return None
        fork = git(cwd, "merge-base", ref, head).strip()
        if fork == git(cwd, "rev-parse", f"{head}^{{commit}}").strip():
            return None  # head is on the default branch: nothing to compare with
        base = fork
    for commit in (base, head):
        if subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"],
                          cwd=cwd, capture_output=True).returncode != 0:
            raise GitError(f"commit {commit} is not in this clone")
    out = git(cwd, "diff", "--name-only", f"{base}...{head}")
    return [line for line in out.splitlines() if line]


def changed_tenants(paths: list[str] | None, root: str, existing: list[str]) -> list[str]:
    """Tenants whose files changed (all of them when shared code or schemas changed, or
    when `paths` is None: everything is new); a deleted tenant folder is not listed."""
    prefix = root.rstrip("/") + "/"
    if paths is None or any(p.startswith(AFFECTS_ALL) for p in paths):
        return list(existing)
    touched = {prefix + p[len(prefix):].split("/")[0] for p in paths if p.startswith(prefix)}
    return sorted(t for t in existing if t in touched)


def marker(kind: str, tenant: str) -> str:
    return f"<!-- reconciler:{kind}:{tenant} -->"


# GitHub refuses a comment or issue body over 65,536 characters. Bodies are measured in UTF-8
# bytes (never fewer than characters, however GitHub counts them) against a smaller budget,
# so that what the workflow adds around them still fits.
GITHUB_BODY_LIMIT = 65_536
BODY_BUDGET = 60_000


def body_size(text: str) -> int:
    return len(text.encode("utf-8"))


@dataclass
class Cut:
    """Where the full text is when a body had to be shortened (the plan artifact)."""

    artifact: str | None = None  # the artifact's name
    run_url: str | None = None   # the run that holds it

    def where(self) -> str:
        name = f"the `{self.artifact}` artifact" if self.artifact else "the plan artifact"
        return f"{name} of [this run]({self.run_url})" if self.run_url else \
            f"{name} of this workflow run"


def comment_body(plan: Plan, cut: Cut | None = None, key: str | None = None) -> str:
    """The pull-request comment: a marker to find and update it, then the plan, shortened
    to fit GitHub's limit (privileged changes always in full; see `fit`)."""
    head = marker("plan", key or plan.tenant) + "\n"
    return head + fit(blocks(plan), cut or Cut(), BODY_BUDGET - body_size(head))


def issue_title(plan: Plan) -> str:
    return f"Drift in {plan.tenant}"


def issue_body(plan: Plan, run_url: str | None = None, cut: Cut | None = None) -> str:
    """The drift issue: what differs, who changed it, and how to resolve it."""
    lines = [marker("drift", plan.tenant), f"## Drift in `{plan.tenant}`", ""]
    if plan.errors:
        lines.append(f"The desired state has {len(plan.errors)} error(s): what differs is "
                     f"{NOT_APPLICABLE}.")
    else:
        lines.append(f"The live tenant differs from git: {counts(plan)} (as "
                     "`reconciler apply` would do it).")
    lines.append("")
    lines.append("Resolve it by changing the YAML to match (a pull request), or by applying "
                 "git again; the issue closes itself when a scheduled run finds no drift.")
    if run_url:
        lines += ["", f"Found by {run_url}."]
    lines += ["", ""]
    head = "\n".join(lines)
    cut = cut or Cut(artifact="drift", run_url=run_url)
    return head + fit(blocks(plan, title=False), cut, BODY_BUDGET - body_size(head))


def fit(parts: list[Block], cut: Cut, budget: int = BODY_BUDGET) -> str:
    """The Markdown blocks joined, unchanged when they fit in `budget` bytes; otherwise
    shortened: the headline, errors, refusals and privileged changes first and in full (the
    sections' `keep` order), then the per-user sections folded (`<details>`), then the other
    sections, as much of each as fits, and a note that says what was left out and where the
    whole plan is."""
    whole = "\n".join(line for part in parts for line in part.lines()).rstrip() + "\n"
    if body_size(whole) <= budget:
        return whole
    note_reserve = 600
    left = budget - note_reserve - sum(body_size("\n".join(part.lines(0))) + 1
                                       for part in parts)
    kept = {id(part): 0 for part in parts}
    for part in sorted(parts, key=lambda p: p.section.keep if p.section else -1):
        spacer = 1 if part.section is not None and part.section.users else 0
        for item in part.items:
            size = body_size("\n".join(item)) + 1 + spacer
            if size > left:
                break
            left -= size
            kept[id(part)] += 1
    dropped = {part.section.title: (len(part.items) - kept[id(part)], len(part.items))
               for part in parts if part.section and kept[id(part)] < len(part.items)}
    out: list[str] = []
    for index, part in enumerate(parts):
        out += part.lines(kept[id(part)], folded=True)
        if kept[id(part)] < len(part.items):
            out += [f"_{len(part.items) - kept[id(part)]} more not shown here._", ""]
        if index == 0:
            out += [_cut_note(dropped, cut), ""]
    return "\n".join(out).rstrip() + "\n"


def _cut_note(dropped: dict[str, tuple[int, int]], cut: Cut) -> str:
    parts = [f"{count} of {total} per-user sections" if name == "Changes" else
             f"{count} of {total} under {name}" for name, (count, total) in dropped.items()]
    return (f"> :scissors: This plan is too long for one GitHub comment ({GITHUB_BODY_LIMIT:,} "
            f"characters): per-user sections are folded and some entries are left out "
            f"({'; '.join(parts)}). Counts above are for the whole plan. The full plan is in "
            f"{cut.where()}.")


def failure_comment(key: str, tenant_dir: str, log: str, cut: Cut | None = None) -> str:
    """The comment for a plan that never came: validation failed, or sign-in or the network
    did, before a plan was made. It quotes what the tool said and how to fix it."""
    lines = [line for line in log.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    problems = [line for line in lines if _is_problem(line)]
    out = [marker("plan", key), f"### :x: reconciler could not plan `{tenant_dir}`", ""]
    if problems:
        out += [f"Validation found {len(problems)} problem{'s' if len(problems) != 1 else ''} "
                "in the YAML; nothing was sent to the tenant. Correct them and push again "
                f"(`reconciler validate {tenant_dir}` shows the same locally).", ""]
    elif errors:
        out += ["The plan stopped before it could read the tenant; nothing was sent. "
                "What went wrong and the fix:", ""]
        out += [f"> {quote_line(line)}" for line in errors]
        out.append("")
    else:
        out += ["The plan stopped without saying why; nothing was sent. Its log is below; "
                f"the whole run is at {(cut or Cut()).where()}.", ""]
    shown = problems or lines[-40:]
    if shown:
        fence = "~" * max(3, _longest_run(log, "~") + 1)
        out += ["<details open><summary>What reconciler said</summary>", "", fence + "text"]
        out += [printable(line) for line in shown[:300]]
        if len(shown) > 300:
            out.append(f"... and {len(shown) - 300} more")
        out += [fence, "", "</details>", ""]
    text = "\n".join(out)
    return text if body_size(text) <= BODY_BUDGET else \
        text.encode("utf-8")[:BODY_BUDGET - 200].decode("utf-8", "ignore") + f"\n{fence}\n"


def _is_problem(line: str) -> bool:
    """FILE:LINE:COL: KEY: PROBLEM, as `validate` prints it."""
    head = line.split(": ", 1)[0]
    parts = head.rsplit(":", 2)
    return len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit()


def quote_line(line: str) -> str:
    """A line of the tool's output quoted in Markdown: no tag, mention or link breaks out."""
    return md_text(line)


def _longest_run(text: str, char: str) -> int:
    best = run = 0
    for c in text:
        run = run + 1 if c == char else 0
        best = max(best, run)
    return best
