"""`reconciler import` and `reconciler emulator serve`: bringing a tenant in, standing one in."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.cli_common import (
    EXIT_ERROR,
    EXIT_OK,
    FORMAT_OPTION,
    USER_OPTION,
    guarded,
    report_progress,
    say,
)
from reconciler.render.escape import printable


@click.command("import")
@click.option("--tenant", "tenant_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="The tenant folder (its tenant.yaml says where the tenant is).")
@USER_OPTION
def import_command(tenant_dir: Path, users: tuple[str, ...]) -> int:
    """Write a YAML file under TENANT_DIR/users/ for each live user (or each --user).

    Files hold only what differs from a new user's defaults, with references by name, so
    `reconciler plan` right after shows no changes. Users that already have a file are
    left alone. Sends no change.

    \b
    Example:
      reconciler import --tenant tenants/contoso
      reconciler import --tenant tenants/contoso --user alain.charon@contoso.com
    """
    from reconciler.importer import import_users

    def work() -> int:
        written, skipped = import_users(tenant_dir, users, progress=report_progress)
        for path in written:
            say(printable(path), err=False)
        if skipped:
            say(f"{len(skipped)} user(s) already have a file and were left alone.")
        missing = sorted({u.lower() for u in users} - {p.lower() for p in skipped} -
                         {_upn_of(p) for p in written})
        for upn in missing:
            say(f"error: --user {printable(upn)}: no such user in the tenant")
        say(f"Imported {len(written)} user(s) into {printable(tenant_dir / 'users')}.")
        return EXIT_ERROR if missing else EXIT_OK

    return guarded(work)


def _upn_of(path: Path) -> str:
    import yaml

    return str(yaml.safe_load(path.read_text(encoding="utf-8"))["userPrincipalName"]).lower()


@click.group()
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
@click.option("--limits", default=None, metavar="SPEC",
              help="Change Graph's cost model (on by default), e.g. 'latency=0,lag=0,"
                   "tenantsize=large,pagemax=999,throttling=off'; default from "
                   "RECONCILER_EMULATOR_LIMITS. See the README's emulator section.")
def emulator_serve(database: Path, seed: Path | None, host: str, port: int, anonymous: bool,
                   faults: str, limits: str | None) -> int:
    """Serve an emulated tenant on HTTP until interrupted.

    Point a tenant at it with `graph: {url: http://127.0.0.1:PORT}`; sign in with any client
    id and secret unless the seed lists `applications`.

    \b
    Example:
      reconciler emulator serve --db /tmp/t.db --port 8400 --faults 'throttle=0.1'
    """
    from reconciler.emulator.app import Emulator
    from reconciler.emulator.faults import Faults, FaultSpecError
    from reconciler.emulator.limits import Limits, LimitSpecError
    from reconciler.emulator.server import make_server

    try:
        parsed = Faults.parse(faults)
    except FaultSpecError as exc:
        raise click.UsageError(f"--faults: {exc}") from exc
    try:
        model = Limits.parse(limits) if limits is not None else Limits.from_environment()
    except LimitSpecError as exc:
        raise click.UsageError(f"--limits: {exc}") from exc
    instance = Emulator(database, seed=seed, anonymous=anonymous, faults=parsed, limits=model)
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


@click.command("show")
@click.argument("tenant_dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("upn", metavar="USER")
@FORMAT_OPTION
def show_command(tenant_dir: Path, upn: str, fmt: str) -> int:
    """Print one user's card: what git says beside what the tenant has.

    Also the user's authentication methods, Intune devices, application assignments, risk
    state, recent sign-ins, directory audit entries and license changes, each read with one
    call or one listing (audit and sign-in reports are throttled hard). A source the tenant
    cannot serve (no Intune or P2 licence, no permission) is named with the reason. Sends no
    change.

    \b
    Example:
      reconciler show tenants/contoso alain.charon@contoso.com --format markdown
    """
    import json

    from reconciler.desired.loader import load_tenant_or_raise
    from reconciler.graph.connect import connect
    from reconciler.graph.errors import GraphError
    from reconciler.live.card import read_card
    from reconciler.render.card import render_markdown, render_text

    def work() -> int:
        desired_tenant = load_tenant_or_raise(tenant_dir)
        desired = next((u for u in desired_tenant.users if u.upn.lower() == upn.lower()), None)
        connection = connect(desired_tenant.config, read_only=True)
        try:
            card = read_card(connection.graph, upn)
        except GraphError as error:
            if error.status != 404:
                raise
            say(f"Error: no user {printable(upn)} in the tenant (check the userPrincipalName; "
                "a deleted user is in the recycle bin for 30 days)")
            return EXIT_ERROR
        finally:
            connection.close()
        git = _git_side(desired) if desired is not None else None
        file = str(desired.file) if desired is not None else None
        if fmt == "json":
            click.echo(json.dumps({"file": file, "git": git, **card}, indent=2, default=str))
        elif fmt == "markdown":
            click.echo(render_markdown(card, git, file), nl=False)
        else:
            click.echo(render_text(card, git, file), nl=False)
        return EXIT_OK

    return guarded(work)


def _git_side(user: object) -> dict[str, object]:
    """What the user's file manages, in the card's terms (references as written)."""
    from reconciler.desired.model import DesiredUser

    assert isinstance(user, DesiredUser)
    side: dict[str, object] = {"profile": dict(user.profile)}
    if user.manages("manager"):
        side["manager"] = user.manager
    if user.manages("groups"):
        side["groups"] = [e.ref for e in user.groups]
    if user.manages("directoryRoles"):
        side["directoryRoles"] = [e.ref for e in user.directory_roles]
    if user.manages("licenses"):
        side["licenses"] = [license_.sku for license_ in user.licenses]
    return side
