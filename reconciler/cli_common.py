"""What every command module shares: exit codes, common options, the error guard.

Its own module so `cli.py` can register the commands of `cli_tools.py` without the two
importing each other."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
DEBUG_VARIABLE = "RECONCILER_DEBUG"  # set it to see the traceback of an unexpected failure

TENANT_ARG = click.argument("tenant_dir", type=click.Path(file_okay=False, path_type=Path))
USER_OPTION = click.option("--user", "users", multiple=True, metavar="UPN",
                           help="Plan only this user (repeatable).")
FORMAT_OPTION = click.option("--format", "fmt", default="text", show_default=True,
                             type=click.Choice(["text", "markdown", "json"]),
                             help="text for a terminal, markdown for a PR comment, json.")


def report_progress(message: str) -> None:
    click.echo(message, err=True)


def runtime_error(summary: str, advice: str) -> int:
    from reconciler.failures import error_line

    click.echo(error_line(summary, advice), err=True)
    return EXIT_ERROR


def guarded(work: Callable[[], int]) -> int:
    """Run a command body; input, sign-in and service errors become exit 1 with advice."""
    from reconciler.apply.lock import LockLostError, TenantLockedError
    from reconciler.apply.secrets import SecretDestinationError
    from reconciler.desired.problems import InputError
    from reconciler.graph.errors import AuthError, GraphError, ReadOnlyError, UnreachableError
    from reconciler.plan.planfile import PlanFileError
    from reconciler.reconcile import StalePlanError

    try:
        return work()
    except InputError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        count = len(exc.problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''} found; nothing was sent.",
                   err=True)
        return EXIT_ERROR
    except AuthError as exc:
        return runtime_error(str(exc), "check auth in tenant.yaml and the credential in the "
                              "environment (README: Use it in GitHub)")
    except UnreachableError as exc:
        return runtime_error(str(exc), "check the network and graph.url in tenant.yaml (or "
                              "RECONCILER_GRAPH_URL), then run again")
    except GraphError as exc:
        return runtime_error(str(exc), "nothing more was sent; the request-id identifies "
                              "the failure to Microsoft support")
    except SecretDestinationError as exc:
        return runtime_error(str(exc), "pass --password-out with a writable file in an "
                              "existing folder")
    except TenantLockedError as exc:
        return runtime_error(str(exc), "nothing was sent; run again when it has finished (a "
                              "lock whose holder died is taken over once its lease expires)")
    except LockLostError as exc:
        return runtime_error(str(exc), "run again: the next apply finishes what this one "
                              "left")
    except StalePlanError as exc:
        return runtime_error(f"refused: {exc}", "make a new plan (reconciler plan --out) "
                              "and review it again")
    except PlanFileError as exc:
        return runtime_error(str(exc), "pass a file written by `reconciler plan --out`")
    except ReadOnlyError as exc:  # a bug if it happens: plan must never write
        return runtime_error(str(exc), "please report this")
