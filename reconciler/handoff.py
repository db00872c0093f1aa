"""Reviewed = applied: the pull request's plan travels to the apply job as an artifact.

The PR job saves the plan with the git tree hash of the tenant folder it was made from
(`save`); after the merge, the apply job finds the merged pull request and downloads that
artifact (`fetch`, through the `gh` command line), refuses when the merged folder is not the
planned one (`check`), applies exactly that plan (`reconciler apply --plan`, which refuses
when a live fact moved), and reports the result to the pull request and the commit
(`report_body`). Everything GitHub-specific goes through `gh` and the Actions environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler import gitops
from reconciler.render.escape import md_code, md_fence, md_text, printable

PLAN_FILE = "plan.json"
REVIEW_FILE = "review.json"
PLAN_WORKFLOW = "plan.yml"


class HandoffError(RuntimeError):
    """The reviewed plan cannot be applied; the message says why and what to do."""


def artifact_name(tenant_dir: str) -> str:
    """The artifact holding a tenant's plan (GitHub forbids / in artifact names)."""
    return "plan-" + tenant_dir.strip("/").replace("/", "-")


def tree_of(tenant_dir: str, commit: str = "HEAD", cwd: Path | None = None) -> str:
    """The git tree hash of the tenant folder at `commit`: equal trees, equal files."""
    try:
        return gitops.git(cwd or Path.cwd(), "rev-parse", f"{commit}:{tenant_dir.strip('/')}"
                          ).strip()
    except gitops.GitError as exc:
        raise HandoffError(f"{tenant_dir} is not in commit {commit} of this clone ({exc})"
                           ) from exc


def save(tenant_dir: str, plan: Path, out: Path, *, pr: int | None, head_sha: str | None
         ) -> dict[str, Any]:
    """Write the artifact folder: the plan and what it was made from."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(plan, out / PLAN_FILE)
    review = {"tenantDir": tenant_dir.strip("/"), "tree": tree_of(tenant_dir),
              "commit": gitops.git(Path.cwd(), "rev-parse", "HEAD").strip(),
              "pullRequest": pr, "headSha": head_sha}
    (out / REVIEW_FILE).write_text(json.dumps(review, indent=2) + "\n", encoding="utf-8")
    return review


def gh(*args: str) -> str:
    """Run the GitHub command line (GH_TOKEN from the workflow); its failure is ours."""
    try:
        done = subprocess.run(["gh", *args], capture_output=True, text=True, timeout=300)
    except FileNotFoundError as exc:
        raise HandoffError("the GitHub command line `gh` is not installed (it is on "
                           "GitHub-hosted runners)") from exc
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise HandoffError(f"`gh {' '.join(args[:3])}` failed: {detail}")
    return done.stdout


@dataclass
class Fetched:
    pr: int
    head_sha: str
    run_id: int


def fetch(tenant_dir: str, commit: str, out: Path, repo: str,
          workflow: str = PLAN_WORKFLOW) -> Fetched:
    """Download the plan artifact the merged pull request's last plan run left for
    `tenant_dir`; refuse when `commit` was not merged from a pull request."""
    pulls = json.loads(gh("api", f"repos/{repo}/commits/{commit}/pulls") or "[]")
    merged = [p for p in pulls if p.get("merged_at")] or pulls
    chosen = next((p for p in merged if p.get("merge_commit_sha") == commit),
                  merged[0] if merged else None)
    if chosen is None:
        raise HandoffError(f"commit {commit[:12]} did not come from a pull request, so no "
                           "reviewed plan exists for it; change tenants through pull requests "
                           "(protect the default branch)")
    number, head = int(chosen["number"]), chosen["head"]["sha"]
    runs = json.loads(gh("run", "list", "--repo", repo, "--workflow", workflow, "--commit",
                         head, "--event", "pull_request", "--json",
                         "databaseId,status,conclusion,createdAt", "--limit", "20") or "[]")
    done = sorted((r for r in runs if r.get("status") == "completed"),
                  key=lambda r: r.get("createdAt", ""), reverse=True)
    if not done:
        _who(out, tenant_dir, number, head)
        raise HandoffError(f"pull request #{number} has no finished {workflow} run for its "
                           f"head {head[:12]}; run the plan workflow on it, review, merge again")
    run_id = int(done[0]["databaseId"])
    _who(out, tenant_dir, number, head)
    try:
        gh("run", "download", str(run_id), "--repo", repo, "--name",
           artifact_name(tenant_dir), "--dir", str(out))
    except HandoffError as exc:
        raise HandoffError(f"run {run_id} of pull request #{number} left no plan for "
                           f"{tenant_dir} ({exc}); its plan failed or the tenant was not "
                           "changed there") from exc
    return Fetched(number, head, run_id)


def _who(out: Path, tenant_dir: str, number: int, head: str) -> None:
    """A fresh `out` naming the pull request, so that `ci report` can tell it when the
    fetch goes no further; it holds no tree, so `check` never lets it be applied."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / REVIEW_FILE).write_text(json.dumps({"tenantDir": tenant_dir.strip("/"),
                                               "pullRequest": number, "headSha": head}),
                                   encoding="utf-8")


def check(tenant_dir: str, artifact: Path) -> dict[str, Any]:
    """Refuse unless the artifact's plan was made from the tenant folder as merged."""
    try:
        review = json.loads((artifact / REVIEW_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise HandoffError(f"{artifact}: no {REVIEW_FILE} (not a plan artifact: {exc})"
                           ) from exc
    if not (artifact / PLAN_FILE).is_file():
        raise HandoffError(f"{artifact}: no {PLAN_FILE}")
    if review.get("tenantDir") != tenant_dir.strip("/"):
        raise HandoffError(f"the artifact is the plan of {review.get('tenantDir')}, not "
                           f"{tenant_dir}")
    merged = tree_of(tenant_dir)
    if review.get("tree") != merged:
        raise HandoffError(f"{tenant_dir} as merged (tree {merged[:12]}) is not the folder that "
                           f"was planned and reviewed (tree {str(review.get('tree'))[:12]}): "
                           "the default branch changed it meanwhile; open a pull request to "
                           "plan it again")
    return review


def run_url() -> str | None:
    server, repo, run = (os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY",
                                                      "GITHUB_RUN_ID"))
    return f"{server}/{repo}/actions/runs/{run}" if server and repo and run else None


def report_body(tenant_dir: str, code: int, log: str, review: dict[str, Any] | None) -> str:
    """The result of an apply, for the pull request and the commit."""
    lines = [line for line in log.splitlines() if line.strip()]
    complete = [line for line in lines if line.startswith("Apply complete:")]
    errors = [line for line in lines if line.startswith("Error:")]
    failed = [line for line in lines if line.startswith(("failed:", "unknown:", "skipped:"))]
    if code == 0:
        headline = ":white_check_mark: applied"
    elif complete:
        headline = ":x: applied with failures"
    else:
        headline = ":no_entry: not applied"
    out = [gitops.marker("apply", tenant_dir), f"### reconciler apply for {md_code(tenant_dir)}: "
           f"{headline}", ""]
    if review:
        out += [f"The plan reviewed on pull request #{md_text(review.get('pullRequest'))} (tree "
                f"{md_code(str(review.get('tree'))[:12])}) was the plan applied.", ""]
    out += [f"**{md_text(line)}**" for line in complete]
    out += [f"> {gitops.quote_line(line)}" for line in errors]
    if failed:
        shown = [printable(line) for line in failed[:200]]  # inert inside a longer fence
        fence = md_fence(shown)
        out += ["", "<details><summary>Changes that did not apply</summary>", "", fence + "text"]
        out += shown + [fence, "", "</details>"]
    url = run_url()
    if url:
        out += ["", f"Run: {url} (the audit trail is in its artifacts)."]
    return "\n".join(out).rstrip() + "\n"


def post_comment(repo: str, pr: int, body_file: Path) -> str:
    """Create the pull-request comment, or update the one with the same marker line."""
    marker = body_file.read_text(encoding="utf-8").split("\n", 1)[0]
    comments = json.loads(gh("api", f"repos/{repo}/issues/{pr}/comments", "--paginate",
                             "--slurp") or "[]")
    flat = [c for page in comments for c in (page if isinstance(page, list) else [page])]
    mine = [c for c in flat if str(c.get("body", "")).startswith(marker + "\n")]
    if mine and marker.startswith("<!-- reconciler:"):
        gh("api", "-X", "PATCH", f"repos/{repo}/issues/comments/{mine[0]['id']}",
           "-F", f"body=@{body_file}")
        return "updated"
    gh("api", "-X", "POST", f"repos/{repo}/issues/{pr}/comments", "-F", f"body=@{body_file}")
    return "created"


def post_commit_comment(repo: str, commit: str, body_file: Path) -> None:
    gh("api", "-X", "POST", f"repos/{repo}/commits/{commit}/comments",
       "-F", f"body=@{body_file}")
