"""`reconciler ci ...`: the steps the GitHub workflows run, as commands tested locally."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from reconciler import gitops
from reconciler.plan.planfile import load


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
@click.option("--base", required=True, help="The commit the change starts from.")
@click.option("--head", default="HEAD", show_default=True, help="The commit it ends at.")
@click.option("--root", default="tenants", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="A JSON array (for a job matrix).")
def changed_tenants_command(base: str, head: str, root: str, as_json: bool) -> None:
    """List the tenant folders whose files changed between BASE and HEAD."""
    paths = gitops.changed_paths(base, head, Path.cwd())
    found = gitops.changed_tenants(paths, root, gitops.tenants(Path(root)))
    click.echo(json.dumps(found) if as_json else "\n".join(found))


@ci.command("comment-body")
@click.argument("plan_json", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def comment_body_command(plan_json: Path) -> None:
    """The pull-request comment for a plan written by `reconciler plan --format json`."""
    click.echo(gitops.comment_body(load(plan_json)), nl=False)


@ci.command("issue-body")
@click.argument("drift_json", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--title", is_flag=True, help="Print the issue title instead.")
def issue_body_command(drift_json: Path, title: bool) -> None:
    """The drift issue for a report written by `reconciler drift --format json`."""
    plan = load(drift_json)
    if title:
        click.echo(gitops.issue_title(plan))
        return
    server, repo, run = (os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY",
                                                      "GITHUB_RUN_ID"))
    url = f"{server}/{repo}/actions/runs/{run}" if server and repo and run else None
    click.echo(gitops.issue_body(plan, url), nl=False)


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
