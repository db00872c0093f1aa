"""The command line: flags in, exit codes out (shared/spec/cli.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconciler.cli_common import (  # noqa: F401 - shared with cli_tools, re-exported
    DEBUG_VARIABLE,
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    FORMAT_OPTION,
    TENANT_ARG,
    USER_OPTION,
    escaped_logging,
    guarded,
    report_progress,
    runtime_error,
    say,
)
from reconciler.desired.loader import load_tenant
from reconciler.render.escape import printable

if TYPE_CHECKING:
    from reconciler.plan.change import Plan


class ReconcilerGroup(click.Group):
    """A click group whose usage errors exit 1, as every other error does (click uses 2)."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            escaped_logging()
            code = super().main(*args, standalone_mode=False, **kwargs)
        except click.ClickException as exc:
            exc.show()
            code = EXIT_ERROR
        except click.Abort:
            click.echo("Aborted.", err=True)
            code = EXIT_ERROR
        except Exception as exc:  # noqa: BLE001 - the last line of defence: never a traceback
            from reconciler.failures import explain

            if os.environ.get(DEBUG_VARIABLE):
                raise
            say(explain(exc))
            code = EXIT_ERROR
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else EXIT_OK)


@click.group(cls=ReconcilerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="reconciler")
def cli() -> None:
    """Manage Microsoft Entra ID / Microsoft 365 users as code.

    Each user's desired state lives in YAML under TENANT_DIR/users/; tenant.yaml says
    where the tenant is and which policy guards changes.

    \b
    Example:
      reconciler validate tenants/contoso
    """


@cli.command()
@click.argument("tenant_dir", type=click.Path(file_okay=False, path_type=Path))
def validate(tenant_dir: Path) -> int:
    """Check TENANT_DIR offline: schema, duplicates, manager cycles, photos, dates, secrets.

    Every problem is printed as FILE:LINE:COL: KEY.PATH: PROBLEM (WHAT IS VALID), sorted,
    all at once. Nothing is sent to the tenant. References to groups, roles, SKUs and
    users need the tenant and are checked by `reconciler plan`.

    Exit status: 0 valid, 1 problems found.

    \b
    Example:
      reconciler validate tenants/contoso
    """
    if not tenant_dir.is_dir():
        raise click.UsageError(f"{tenant_dir}: no such folder (TENANT_DIR holds tenant.yaml)")
    result = load_tenant(tenant_dir)
    if result.problems:
        for problem in result.problems:
            say(printable(problem))
        count = len(result.problems)
        say(f"{count} problem{'s' if count != 1 else ''} found; nothing was sent.")
        return EXIT_ERROR
    users = len(result.tenant.users) if result.tenant else 0
    say(f"{printable(tenant_dir)}: valid ({users} users).", err=False)
    say("note: reference checks (groups, directory roles, SKUs, managers, trustees) skipped: "
        "validate reads no tenant; `reconciler plan` checks them.")
    return EXIT_OK


def _render(plan: Plan, fmt: str) -> str:
    from reconciler.plan.planfile import dumps
    from reconciler.render.markdown import render_markdown
    from reconciler.render.text import render_text

    if fmt == "json":
        return dumps(plan)
    if fmt == "markdown":
        return render_markdown(plan)
    return render_text(plan, colour=sys.stdout.isatty())


def _report_blockers(plan: Plan, fmt: str) -> bool:
    """Errors and refusals on stderr (markdown and JSON carry them too); True if any."""
    for problem in plan.errors:
        say(f"error: {printable(problem)}")
    for refusal in plan.refusals:
        say(printable(refusal))
    if plan.errors:
        say(f"{len(plan.errors)} error{'s' if len(plan.errors) != 1 else ''}: "
            "nothing will be applied.")
    return bool(plan.errors or plan.refusals)


@cli.command()
@TENANT_ARG
@USER_OPTION
@FORMAT_OPTION
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Save the plan (JSON) for `reconciler apply --plan`.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 2 when there are changes, 0 when there are none.")
def plan(tenant_dir: Path, users: tuple[str, ...], fmt: str, out: Path | None,
         detailed_exitcode: bool) -> int:
    """Read the live tenant, compare it with TENANT_DIR, and print the plan. Sends no change.

    Exit status: 0 planned (no changes with --detailed-exitcode), 1 errors or a refused
    plan, 2 changes present (with --detailed-exitcode).

    \b
    Example:
      reconciler plan tenants/contoso --out plan.json
      reconciler plan tenants/contoso --user alain@contoso.com --format markdown
    """
    from reconciler.plan.planfile import save
    from reconciler.reconcile import run_plan

    def work() -> int:
        run = run_plan(tenant_dir, users, progress=report_progress)
        run.connection.close()
        click.echo(_render(run.plan, fmt), nl=False)
        blocked = _report_blockers(run.plan, fmt)
        if out is not None:
            if blocked:
                say(f"{printable(out)} not written: the plan cannot be applied.")
            else:
                save(run.plan, out)
                say(f"Saved the plan to {printable(out)}; apply it with: reconciler apply "
                    f"{printable(tenant_dir)} --plan {printable(out)}")
        if blocked:
            return EXIT_ERROR
        if detailed_exitcode and run.plan.has_changes:
            return EXIT_CHANGES
        return EXIT_OK

    return guarded(work)


@cli.command()
@TENANT_ARG
@click.option("--plan", "plan_file", type=click.Path(exists=True, dir_okay=False,
                                                     path_type=Path),
              help="Apply this saved plan; refused if the tenant moved since it was made.")
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--password-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Where generated secrets go (new users' initial passwords, resets, "
                   "Temporary Access Passes): FILE (0600, appended) instead of once on the "
                   "terminal; with credentials.recipients, FILE.age encrypted to them (X.age "
                   "requires recipients). In the tenant folder, the folder holding it, the "
                   "working directory or $RUNNER_TEMP; never through a symlink.")
def apply(tenant_dir: Path, plan_file: Path | None, auto_approve: bool,
          password_out: Path | None) -> int:
    """Carry out the plan for TENANT_DIR: a saved one, or a fresh one after confirmation.

    Twice is the same as once; an apply stopped halfway is finished by the next one.
    Exit status: 0 applied, 1 errors, refused, or any change failed.

    \b
    Example:
      reconciler apply tenants/contoso --plan plan.json
      reconciler apply tenants/contoso --auto-approve
    """
    from reconciler.plan.planfile import load
    from reconciler.reconcile import apply_saved, run_apply, run_plan

    def work() -> int:
        secrets = _secret_destination(password_out, tenant_dir)  # unusable: stops all
        if plan_file is not None:
            saved = load(plan_file)
            click.echo(_render(saved, "text"), nl=False)
            run, ctx = apply_saved(tenant_dir, saved, progress=report_progress,
                                   secrets=secrets)
            run.connection.close()
            _report_secrets(secrets)
            return _report_outcomes(ctx.outcomes)
        run = run_plan(tenant_dir, writable=True, progress=report_progress)
        try:
            click.echo(_render(run.plan, "text"), nl=False)
            if _report_blockers(run.plan, "text"):
                return EXIT_ERROR
            if not run.plan.has_changes:
                return EXIT_OK
            if not auto_approve and not _confirmed():
                say("Apply cancelled; nothing was sent.")
                return EXIT_ERROR
            ctx = run_apply(run, progress=report_progress, secrets=secrets)
            _report_secrets(secrets)
            return _report_outcomes(ctx.outcomes)
        finally:
            run.connection.close()

    return guarded(work)


def _confirmed() -> bool:
    if not sys.stdin.isatty():
        say("error: apply asks for confirmation on a terminal\n  pass --auto-approve, "
            "or apply a reviewed plan with --plan")
        return False
    answer = click.prompt("Do you want to perform these actions? Only 'yes' will be accepted",
                          default="", show_default=False, err=True)
    return answer.strip() == "yes"


def _secret_destination(out: Path | None, tenant_dir: Path) -> Any:
    """Generated secrets go to the age file (credentials.recipients), a 0600 file, or once
    to a terminal; never into a log. Checked now: an unusable one stops all."""
    import os

    from reconciler.apply.secrets import Secrets
    from reconciler.desired.loader import load_config

    show = (lambda line: say(line, err=False)) if out is None and sys.stdout.isatty() else None
    # a secrets file lies in the tenant folder, the folder holding it, the working
    # directory or $RUNNER_TEMP (GitHub's per-job temporary folder)
    runner = os.environ.get("RUNNER_TEMP")
    roots = [tenant_dir, tenant_dir.absolute().parent, Path.cwd()] + \
        ([Path(runner)] if runner else [])
    secrets = Secrets(out, show, roots=roots)
    secrets.encrypt_to(load_config(tenant_dir).recipients, tenant_dir)
    secrets.check()
    return secrets


def _report_secrets(secrets: Any) -> None:
    secrets.close()
    if secrets.delivered and (secrets.path is not None or secrets.sealed is not None):
        say(f"Wrote {len(secrets.delivered)} generated secret(s) to "
            f"{printable(secrets.where)}, each before the request that set it.")
    if secrets.unseen:
        say(f"{secrets.unseen} new user(s) got an initial password nobody has seen (no "
            "secret destination): hand over access with an issueTemporaryAccessPass or "
            "resetPassword action, or pass --password-out / set credentials.recipients next "
            "time.")


def _report_outcomes(outcomes: list) -> int:
    from reconciler.apply.applier import tally

    for outcome in outcomes:
        if outcome.status in ("failed", "unknown", "skipped"):
            change = outcome.change
            say(f"{outcome.status}: " + " ".join(printable(v) for v in (
                change.user, change.kind, change.op, change.target)) +
                f": {printable(outcome.message)}")
    counts = tally(outcomes)
    say(f"Apply complete: {counts['applied']} applied, {counts['already']} already so, "
        f"{counts['failed']} failed, {counts['unknown']} unknown, {counts['skipped']} "
        "skipped.", err=False)
    return EXIT_ERROR if counts["failed"] or counts["unknown"] or counts["skipped"] \
        else EXIT_OK


@cli.command()
@TENANT_ARG
@USER_OPTION
@FORMAT_OPTION
@click.option("--apply-due", is_flag=True,
              help="Also carry out the changes whose schedule has come (from, until, "
                   "signIn.blockAt), if policy.scheduled.applyDue allows it.")
@click.option("--password-out", type=click.Path(dir_okay=False, path_type=Path),
              help="With --apply-due: where generated secrets go, as for apply.")
def drift(tenant_dir: Path, users: tuple[str, ...], fmt: str, apply_due: bool,
          password_out: Path | None) -> int:
    """Report how the live tenant differs from TENANT_DIR (a plan that is not applied).

    Exit status: 0 no drift, 2 drift found (or, under policy.unmanagedUsers: report, a
    privileged user without a file, or a new role assignment to a group or service
    principal), 1 errors or a failed due change. Run it on a
    schedule (cron, or the drift workflow) to see changes made outside git; with
    --apply-due it also carries out what has fallen due and reports the rest.

    \b
    Example:
      reconciler drift tenants/contoso --format markdown
      0 * * * *  reconciler drift tenants/contoso --apply-due   # hourly, in cron
    """
    from reconciler import clock
    from reconciler.plan.unmanaged import alarming
    from reconciler.reconcile import attribute_drift, run_plan

    def work() -> int:
        secrets = _secret_destination(password_out, tenant_dir) if apply_due else None
        run = run_plan(tenant_dir, users, writable=apply_due, progress=report_progress)
        try:
            run.plan.attribution = attribute_drift(run, clock.now())
            click.echo(_render(run.plan, fmt), nl=False)
            if run.plan.errors:
                _report_blockers(run.plan, fmt)
                return EXIT_ERROR
            if apply_due and any(c.due for c in run.plan.changes):
                return _apply_due(run, secrets)
            flagged = any(alarming(e) for e in run.plan.unmanaged)
            return EXIT_CHANGES if run.plan.has_changes or flagged else EXIT_OK
        finally:
            run.connection.close()

    return guarded(work)


def _apply_due(run: Any, secrets: Any) -> int:
    """Carry out only the changes whose schedule has come; the rest stays drift."""
    from reconciler.reconcile import apply_due, due_run

    due = due_run(run)
    if not due.allowed:
        say(f"{len(due.changes)} due change(s) not carried out: "
            "policy.scheduled.applyDue is not true in "
            f"{printable(run.desired.config.source.file)}")
        return EXIT_CHANGES
    if due.plan.refusals:
        _report_blockers(due.plan, "text")
        return EXIT_ERROR
    say(f"Carrying out {len(due.changes)} due change(s).")
    code = _report_outcomes(apply_due(run, due, report_progress, secrets).outcomes)
    _report_secrets(secrets)
    if code == EXIT_OK and due.rest:
        say(f"{due.rest} other difference(s) remain: drift to review in git.")
    return code if code != EXIT_OK else (EXIT_CHANGES if due.rest else EXIT_OK)


def _register_more() -> None:
    from reconciler.cli_ci import ci
    from reconciler.cli_tools import emulator, import_command, show_command

    cli.add_command(import_command)
    cli.add_command(show_command)
    cli.add_command(ci)
    cli.add_command(emulator)


_register_more()


def main() -> None:
    """Console-script entry point."""
    cli()
