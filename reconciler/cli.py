"""The command line: flags in, exit codes out (shared/spec/cli.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from reconciler.desired.loader import load_tenant

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2


class ReconcilerGroup(click.Group):
    """A click group whose usage errors exit 1, as every other error does (click uses 2)."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except click.ClickException as exc:
            exc.show()
            code = EXIT_ERROR
        except click.Abort:
            click.echo("Aborted.", err=True)
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
            click.echo(str(problem), err=True)
        count = len(result.problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''} found; nothing was sent.", err=True)
        return EXIT_ERROR
    users = len(result.tenant.users) if result.tenant else 0
    click.echo(f"{tenant_dir}: valid ({users} users).")
    click.echo(
        "note: reference checks (groups, directory roles, SKUs, managers, trustees) skipped: "
        "validate reads no tenant; `reconciler plan` checks them.",
        err=True,
    )
    return EXIT_OK


def main() -> None:
    """Console-script entry point."""
    cli()
