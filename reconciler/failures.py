"""Every failure a user can meet, as one `Error:` line that says what happened and the fix.

The command handlers turn the errors they expect into such a line; `explain` is the last line
of defence in the command-line entry point, for whatever escaped them (a traceback is never
the answer a user gets; RECONCILER_DEBUG=1 shows it to whoever debugs the tool).
"""

from __future__ import annotations

import subprocess

import httpx

from reconciler.render.escape import text_line


def error_line(summary: str, fix: str) -> str:
    """`Error: SUMMARY. Fix: FIX` on one line: newlines in either are folded, and any
    other control character (a live value's ANSI escape) is shown visibly."""
    summary = " ".join(str(summary).split()).rstrip(".")
    fix = " ".join(str(fix).split())
    return text_line(f"Error: {summary}. Fix: {fix}." if fix else f"Error: {summary}.")


def origin(url: httpx.URL | str) -> str:
    """scheme://host[:port] of a URL: where the tool tried to go, without path or query."""
    parsed = httpx.URL(str(url))
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}"


def explain(exc: BaseException) -> str:
    """The one-line `Error:` for an exception no command handler expected."""
    if isinstance(exc, httpx.TransportError):
        where = _request_url(exc)
        return error_line(f"cannot reach {where} ({type(exc).__name__}: {exc})",
                          "check the network and graph.url in tenant.yaml (or "
                          "RECONCILER_GRAPH_URL), then run again")
    if isinstance(exc, subprocess.CalledProcessError):
        command = " ".join(str(a) for a in exc.cmd) if isinstance(exc.cmd, list) else exc.cmd
        detail = (exc.stderr or "").strip().splitlines() if isinstance(exc.stderr, str) else []
        return error_line(f"`{command}` failed with exit {exc.returncode}"
                          + (f": {detail[0]}" if detail else ""),
                          "run it in a git clone that has the commits (checkout with "
                          "fetch-depth: 0)")
    if isinstance(exc, FileNotFoundError):
        return error_line(f"{exc.filename or exc}: no such file", "check the path")
    if isinstance(exc, OSError):
        return error_line(f"{exc.filename or ''} {exc.strerror or exc}".strip(),
                          "check the path and its permissions")
    return error_line(f"unexpected {type(exc).__name__}: {exc}",
                      "this is a bug in reconciler; run again with RECONCILER_DEBUG=1 and "
                      "report the traceback it prints")


def _request_url(exc: httpx.TransportError) -> str:
    try:
        return origin(exc.request.url)
    except RuntimeError:  # an httpx error raised without a request
        return "the service"
