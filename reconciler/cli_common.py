"""What every command module shares: exit codes, common options, the error guard.

Its own module so `cli.py` can register the commands of `cli_tools.py` without the two
importing each other."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import click

from reconciler.render.escape import TextLogFormatter, printable, text_lines

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


def say(message: str, *, err: bool = True) -> None:
    """A message for a person on stderr (or stdout): every line printable and never a
    GitHub workflow command. Put a live value (a UPN, a display name, a Graph error
    message) in as `printable(value)` so its newlines cannot forge a line of their own."""
    click.echo(text_lines(message), err=err)


def report_progress(message: str) -> None:
    say(printable(message))


def runtime_error(summary: str, advice: str) -> int:
    from reconciler.failures import error_line

    say(error_line(summary, advice))
    return EXIT_ERROR


class _StderrHandler(logging.Handler):
    """Log records to the stderr of the moment (click's, so a test runner's too)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


def escaped_logging() -> None:
    """Warnings go to stderr, one escaped line each (the lock's, the cache's)."""
    root = logging.getLogger()
    if not any(isinstance(h, _StderrHandler) for h in root.handlers):
        handler = _StderrHandler(logging.WARNING)
        handler.setFormatter(TextLogFormatter("%(levelname)s: %(message)s"))
        root.addHandler(handler)


def guarded(work: Callable[[], int]) -> int:
    """Run a command body; input, sign-in and service errors become exit 1 with advice."""
    from reconciler.apply.lock import LockLostError, TenantLockedError
    from reconciler.apply.secrets import SecretDestinationError
    from reconciler.desired.problems import InputError
    from reconciler.graph.errors import AuthError, GraphError, ReadOnlyError, UnreachableError
    from reconciler.plan.planfile import PlanFileError
    from reconciler.reconcile import StalePlanError

    fixes: tuple[tuple[type[BaseException], str], ...] = (  # the first that matches
        (AuthError, "check auth in tenant.yaml and the credential in the environment "
                    "(README: Use it in GitHub)"),
        (UnreachableError, "check the network and graph.url in tenant.yaml (or "
                           "RECONCILER_GRAPH_URL), then run again"),
        (GraphError, "nothing more was sent; the request-id identifies the failure to "
                     "Microsoft support"),
        (SecretDestinationError, "pass --password-out with a writable file in an existing "
                                 "folder"),
        (TenantLockedError, "nothing was sent; run again when it has finished (a lock whose "
                            "holder died is taken over once its lease expires)"),
        (LockLostError, "run again: the next apply finishes what this one left"),
        (StalePlanError, "make a new plan (reconciler plan --out) and review it again"),
        (PlanFileError, "pass a file written by `reconciler plan --out`"),
        (ReadOnlyError, "please report this"),  # a bug if it happens: plan must never write
    )
    try:
        return work()
    except InputError as exc:
        for problem in exc.problems:
            say(printable(problem))
        count = len(exc.problems)
        say(f"{count} problem{'s' if count != 1 else ''} found; nothing was sent.")
        return EXIT_ERROR
    except tuple(kind for kind, _fix in fixes) as exc:
        fix = next(fix for kind, fix in fixes if isinstance(exc, kind))
        refused = "refused: " if isinstance(exc, StalePlanError) else ""
        return runtime_error(f"{refused}{exc}", fix)
