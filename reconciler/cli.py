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


@cli.group()
def emulator() -> None:
    """A local stand-in tenant: Microsoft Graph, the Exchange admin API and sign-in.

    \b
    Example:
      reconciler emulator serve --db tenant.db --seed tenants/demo/emulator-seed.json
    """


@emulator.command("serve")
@click.option("--db", "database", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="SQLite file holding the tenant's state (created when missing).")
@click.option("--seed", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON document of Graph collections loaded into a new database.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8400, show_default=True, type=int, help="Port (0 picks one).")
@click.option("--anonymous", is_flag=True, help="Accept requests without a bearer token.")
@click.option("--faults", default="", metavar="SPEC",
              help="Injected faults, e.g. 'throttle=0.1,error5xx=0.02,latency=30ms,lag=2s' "
                   "(also drop, commitfail, retryafter, budget, writebudget, tokenttl, seed).")
def emulator_serve(database: Path, seed: Path | None, host: str, port: int, anonymous: bool,
                   faults: str) -> int:
    """Serve an emulated tenant on HTTP until interrupted.

    Point a tenant at it with `graph: {url: http://127.0.0.1:PORT}`; sign in with any client
    id and secret unless the seed lists `applications`.

    \b
    Example:
      reconciler emulator serve --db /tmp/t.db --port 8400 --faults 'throttle=0.1'
    """
    from reconciler.emulator.app import Emulator
    from reconciler.emulator.faults import Faults, FaultSpecError
    from reconciler.emulator.server import make_server

    try:
        parsed = Faults.parse(faults)
    except FaultSpecError as exc:
        raise click.UsageError(f"--faults: {exc}") from exc
    instance = Emulator(database, seed=seed, anonymous=anonymous, faults=parsed)
    server = make_server(instance, host, port)
    address = f"http://{host}:{server.server_address[1]}"
    click.echo(f"emulator: serving tenant {instance.tenant_id} on {address} "
               f"({'anonymous' if anonymous else 'bearer tokens required'})", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("emulator: stopped", err=True)
    finally:
        server.server_close()
    return EXIT_OK


def main() -> None:
    """Console-script entry point."""
    cli()
