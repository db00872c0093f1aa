"""`reconciler ci ...`: the steps the GitHub workflows run, as commands tested locally."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from reconciler import gitops
from reconciler.plan.change import Plan
from reconciler.plan.planfile import PlanFileError, load


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
    click.echo(json.dumps(found) if as_json else "\n".join(found))


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
        click.echo(f"note: no earlier commit to compare {head} with: every tenant counts as "
                   "changed.", err=True)
    found = gitops.changed_tenants(paths, root, gitops.tenants(Path(root)))
    click.echo(json.dumps(found) if as_json else "\n".join(found))


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
        click.echo(str(problem), err=True)
    if problems:
        raise click.exceptions.Exit(1)
    click.echo(f"{len(folders)} tenant folder(s) valid.")
