"""`reconciler ci ...`: the steps the GitHub workflows run, as commands tested locally."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from reconciler import gitops
from reconciler.plan.change import Plan
from reconciler.plan.planfile import PlanFileError, load
from reconciler.render.escape import printable, text_line


@click.group()
def ci() -> None:
    """Helpers for the GitHub workflows (plan comments, drift issues, changed tenants).

    \b
    Example:
      reconciler ci changed-tenants --base origin/main --head HEAD --json
    """


@ci.command("tenants")
@click.option("--root", default="tenants", show_default=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="A JSON array (for a job matrix).")
def tenants_command(root: Path, as_json: bool) -> None:
    """List every tenant folder under ROOT."""
    found = gitops.tenants(root)
    _output(tenants=json.dumps(found))
    click.echo(json.dumps(found) if as_json else "\n".join(text_line(f) for f in found))


@ci.command("due-tenants")
@click.argument("reports", type=click.Path(file_okay=False, path_type=Path))
@click.option("--allowed", required=True,
              help="The run's tenant list as a JSON array (the tenants job's output).")
@click.option("--json", "as_json", is_flag=True, help="A JSON array (for a job matrix).")
def due_tenants_command(reports: Path, allowed: str, as_json: bool) -> None:
    """List the tenants whose drift report in REPORTS has changes that have fallen due.

    REPORTS holds the drift jobs' artifacts, one folder per tenant (`tenant`, `exit-code`,
    `drift.json`). The job that carries out due changes runs once per tenant listed here.
    """
    try:
        names = json.loads(allowed)
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError
    except ValueError as exc:
        raise click.UsageError("--allowed must be a JSON array of tenant folders, such as "
                               '["tenants/contoso"]') from exc
    found = gitops.due_tenants(reports, names)
    _output(tenants=json.dumps(found))
    click.echo(json.dumps(found) if as_json else "\n".join(text_line(f) for f in found))


@ci.command("changed-tenants")
@click.option("--base", required=True,
              help="The commit the change starts from; forty zeros (GitHub's `before` on a "
                   "new branch) means: compare with the default branch.")
@click.option("--head", default="HEAD", show_default=True, help="The commit it ends at.")
@click.option("--default-branch", default=None,
              help="The default branch's name (origin/HEAD, then main, when not given).")
@click.option("--root", default="tenants", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="A JSON array (for a job matrix).")
def changed_tenants_command(base: str, head: str, default_branch: str | None, root: str,
                            as_json: bool) -> None:
    """List the tenant folders whose files changed between BASE and HEAD.

    \b
    Example:
      reconciler ci changed-tenants --base "$BEFORE" --head HEAD --json
    """
    try:
        paths = gitops.changed_paths(base, head, Path.cwd(), default_branch)
    except gitops.GitError as exc:
        raise click.ClickException(f"{exc}. Fix: check out the full history (actions/checkout "
                                   "with fetch-depth: 0) and pass commits of this "
                                   "repository") from exc
    if paths is None:
        click.echo(f"note: no earlier commit to compare {printable(head)} with: every tenant "
                   "counts as changed.", err=True)
    found = gitops.changed_tenants(paths, root, gitops.tenants(Path(root)))
    _output(tenants=json.dumps(found))
    click.echo(json.dumps(found) if as_json else "\n".join(text_line(f) for f in found))


def _cut(artifact: str | None) -> gitops.Cut:
    server, repo, run = (os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY",
                                                      "GITHUB_RUN_ID"))
    url = f"{server}/{repo}/actions/runs/{run}" if server and repo and run else None
    return gitops.Cut(artifact, url)


@ci.command("comment-body")
@click.argument("plan_json", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--log", "log_file", type=click.Path(dir_okay=False, path_type=Path),
              help="What the plan step printed on stderr: when PLAN_JSON is missing or empty "
                   "(validation, sign-in or the network failed), the comment says why.")
@click.option("--tenant-dir", default=None,
              help="The tenant folder: the comment's key (one comment per folder).")
@click.option("--artifact", default=None, help="The artifact that holds the full plan.")
def comment_body_command(plan_json: Path, log_file: Path | None, tenant_dir: str | None,
                         artifact: str | None) -> None:
    """The pull-request comment for a plan written by `reconciler plan --format json`.

    Under GitHub's 65,536-character limit whatever the plan's size: privileged changes in
    full, per-user sections folded, and a note pointing at the full plan artifact.

    \b
    Example:
      reconciler ci comment-body plan.json --log plan.err --tenant-dir tenants/contoso
    """
    usable = plan_json.is_file() and plan_json.stat().st_size > 0
    if not usable and log_file is not None:
        log = log_file.read_text(encoding="utf-8", errors="replace") if log_file.is_file() \
            else ""
        name = tenant_dir or "the tenant"
        click.echo(gitops.failure_comment(tenant_dir or name, name, log, _cut(artifact)),
                   nl=False)
        return
    plan = read_plan(plan_json)
    click.echo(gitops.comment_body(plan, _cut(artifact), tenant_dir), nl=False)


def read_plan(path: Path) -> Plan:
    """A saved plan, or a one-line `Error:` (via ClickException) saying what the file is."""
    try:
        if path.is_file() and path.stat().st_size == 0:
            raise PlanFileError(f"{path} is empty: the command that should have written the "
                                "plan failed before writing it")
        return load(path)
    except PlanFileError as exc:
        raise click.ClickException(f"{exc}. Fix: pass the JSON of `reconciler plan --format "
                                   "json` or `--out`") from exc
    except (KeyError, TypeError, AttributeError) as exc:
        raise click.ClickException(f"{path}: not a reconciler plan (missing or malformed "
                                   f"{exc}). Fix: pass the JSON of `reconciler plan "
                                   "--format json` or `--out`") from exc


@ci.command("issue-body")
@click.argument("drift_json", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--title", is_flag=True, help="Print the issue title instead.")
@click.option("--artifact", default="drift", show_default=True,
              help="The artifact that holds the full drift report.")
def issue_body_command(drift_json: Path, title: bool, artifact: str) -> None:
    """The drift issue for a report written by `reconciler drift --format json`."""
    plan = read_plan(drift_json)
    if title:
        click.echo(gitops.issue_title(plan))
        return
    cut = _cut(artifact)
    click.echo(gitops.issue_body(plan, cut.run_url, cut), nl=False)


@ci.command("validate-changed")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
def validate_changed_command(files: tuple[Path, ...]) -> None:
    """Validate the tenant folders that hold FILES (the pre-commit hook).

    \b
    Example:
      reconciler ci validate-changed tenants/contoso/users/alain.yaml
    """
    from reconciler.desired.loader import TENANT_FILE, load_tenant

    folders = set()
    for file in files:
        for parent in file.resolve().parents:
            if (parent / TENANT_FILE).is_file():
                folders.add(parent)
                break
    problems = []
    for folder in sorted(folders):
        problems += load_tenant(folder).problems
    for problem in problems:
        click.echo(text_line(str(problem)), err=True)
    if problems:
        raise click.exceptions.Exit(1)
    click.echo(f"{len(folders)} tenant folder(s) valid.")


def _handoff(work: Callable[[], Any]) -> Any:
    from reconciler.handoff import HandoffError

    try:
        return work()
    except (HandoffError, gitops.GitError) as exc:
        raise click.ClickException(text_line(str(exc))) from exc


def _repo(repo: str | None) -> str:
    value = repo or os.environ.get("GITHUB_REPOSITORY")
    if not value:
        raise click.UsageError("--repo OWNER/NAME is needed outside GitHub Actions "
                               "(GITHUB_REPOSITORY is not set)")
    return value


def _output(**values: object) -> None:
    """Step outputs for the workflow ($GITHUB_OUTPUT), when there is one."""
    target = os.environ.get("GITHUB_OUTPUT")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.writelines(f"{key}={value}\n" for key, value in values.items())


@ci.command("save-plan")
@click.argument("tenant_dir")
@click.option("--plan", "plan_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The plan JSON the pull request was reviewed with.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The folder to upload as the artifact.")
@click.option("--pr", type=int, default=None, help="The pull request's number.")
@click.option("--head-sha", default=None, help="The pull request's head commit.")
def save_plan_command(tenant_dir: str, plan_file: Path, out: Path, pr: int | None,
                      head_sha: str | None) -> None:
    """Keep the reviewed plan with the git tree of TENANT_DIR it was made from (the PR job).

    Prints the artifact name to upload OUT under (also as step output `name`).

    \b
    Example:
      reconciler ci save-plan tenants/contoso --plan plan.json --out artifact --pr 7
    """
    from reconciler import handoff

    read_plan(plan_file)  # a plan, not an empty or foreign file
    review = _handoff(lambda: handoff.save(tenant_dir, plan_file, out, pr=pr,
                                           head_sha=head_sha))
    name = handoff.artifact_name(tenant_dir)
    _output(name=name, tree=review["tree"])
    click.echo(text_line(name))


@ci.command("fetch-plan")
@click.argument("tenant_dir")
@click.option("--commit", required=True, help="The merged commit (github.sha).")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--repo", default=None, help="OWNER/NAME (default: GITHUB_REPOSITORY).")
@click.option("--workflow", default="plan.yml", show_default=True,
              help="The workflow that plans pull requests.")
def fetch_plan_command(tenant_dir: str, commit: str, out: Path, repo: str | None,
                       workflow: str) -> None:
    """Download the plan the merged pull request was reviewed with (the apply job).

    Refuses when COMMIT did not come from a pull request or its plan run left no plan for
    TENANT_DIR. Step outputs: `pr`, `head-sha`, `run-id`.

    \b
    Example:
      reconciler ci fetch-plan tenants/contoso --commit "$GITHUB_SHA" --out reviewed
    """
    from reconciler import handoff

    found = _handoff(lambda: handoff.fetch(tenant_dir, commit, out, _repo(repo), workflow))
    _output(pr=found.pr, **{"head-sha": found.head_sha, "run-id": found.run_id})
    click.echo(f"Fetched the plan of pull request #{found.pr} (run {found.run_id}).",
               err=True)


@ci.command("check-plan")
@click.argument("tenant_dir")
@click.option("--artifact", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--summary", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Append the plan as Markdown here (the job summary approvers read).")
def check_plan_command(tenant_dir: str, artifact: Path, summary: Path | None) -> None:
    """Refuse unless the artifact's plan was made from TENANT_DIR exactly as merged.

    \b
    Example:
      reconciler ci check-plan tenants/contoso --artifact reviewed --summary summary.md
    """
    from reconciler import handoff

    review = _handoff(lambda: handoff.check(tenant_dir, artifact))
    plan = read_plan(artifact / handoff.PLAN_FILE)
    if summary is not None:
        body = gitops.comment_body(plan, _cut(handoff.artifact_name(tenant_dir)), tenant_dir)
        with summary.open("a", encoding="utf-8") as handle:
            handle.write(f"Plan reviewed on pull request #{review.get('pullRequest')}, made "
                         f"from tree `{review['tree'][:12]}` of `{tenant_dir}`: approve to "
                         "apply exactly this.\n\n" + body.split("\n", 1)[1] + "\n")
    click.echo(f"{printable(tenant_dir)}: the merged folder is the one planned (tree "
               f"{review['tree'][:12]}).")


@ci.command("comment")
@click.argument("body_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--pr", type=int, required=True, help="The pull request's number.")
@click.option("--repo", default=None, help="OWNER/NAME (default: GITHUB_REPOSITORY).")
def comment_command(body_file: Path, pr: int, repo: str | None) -> None:
    """Post BODY_FILE on the pull request, updating the comment with the same marker line.

    \b
    Example:
      reconciler ci comment comment.md --pr 7
    """
    from reconciler import handoff

    done = _handoff(lambda: handoff.post_comment(_repo(repo), pr, body_file))
    click.echo(f"Comment {done} on pull request #{pr}.")


@ci.command("report")
@click.argument("tenant_dir")
@click.option("--exit-code", "code", type=int, required=True,
              help="The exit code of `reconciler apply` (or of the step that refused).")
@click.option("--log", "log_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="What apply printed (stdout and stderr).")
@click.option("--artifact", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The plan artifact (its review.json names the pull request).")
@click.option("--pr", type=int, default=None, help="The pull request to report to.")
@click.option("--commit", default=None, help="The commit to report to.")
@click.option("--repo", default=None, help="OWNER/NAME (default: GITHUB_REPOSITORY).")
def report_command(tenant_dir: str, code: int, log_file: Path | None, artifact: Path | None,
                   pr: int | None, commit: str | None, repo: str | None) -> None:
    """Post the apply's result (applied, failed, refused, with counts) to the pull request
    and the commit.

    \b
    Example:
      reconciler ci report tenants/contoso --exit-code 0 --log apply.log --pr 7
    """
    from reconciler import handoff

    review = None
    if artifact is not None and (artifact / handoff.REVIEW_FILE).is_file():
        review = json.loads((artifact / handoff.REVIEW_FILE).read_text(encoding="utf-8"))
    log = log_file.read_text(encoding="utf-8", errors="replace") \
        if log_file is not None and log_file.is_file() else ""
    body = handoff.report_body(tenant_dir, code, log, review)
    target = Path(os.environ.get("RUNNER_TEMP", ".")) / "reconciler-report.md"
    target.write_text(body, encoding="utf-8")
    number = pr or (review or {}).get("pullRequest")
    if number:
        _handoff(lambda: handoff.post_comment(_repo(repo), int(number), target))
    if commit:
        _handoff(lambda: handoff.post_commit_comment(_repo(repo), commit, target))
    click.echo(body, nl=False)
