"""Where generated secrets go: each one written to its destination and flushed before the
request that sets it is sent (a Temporary Access Pass, which the service generates, as soon
as its reply arrives), so a run killed at any point never leaves a secret set in the
directory and delivered nowhere.

Destinations, one per run:
- with `credentials.recipients` in tenant.yaml: one age file encrypted to those recipients
  (`--password-out FILE` + `.age`, or `<tenant>/.reconciler/credentials/<run-id>.age`),
  rewritten atomically with every secret so far before each request: the file a CI run
  keeps as an artifact; no plaintext anywhere;
- otherwise a 0600 file (`--password-out`, appended to), or the terminal (shown once).
A file is confined to the tenant folder, the working directory or $RUNNER_TEMP, never
reached through a symlink, created exclusively or appended only when it is ours. With no
destination an action that would generate a secret stops before it starts, and a new
user's initial password is generated, set and known to nobody. A destination that cannot
be written stops the apply before anything is sent. Secrets never reach plans, logs or the
audit trail. Each line is `user<TAB>what<TAB>secret`; a secret found not to be in force
(its user already existed) is retracted with a `(not set: ...)` line.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from secrets import token_hex

from reconciler.apply.private_file import (
    UnsafePath,
    confine,
    open_private,
    replace_private,
    sync_folder,
    write_all,
)
from reconciler.desired.age import parse_recipient

CREDENTIALS_FOLDER = Path(".reconciler") / "credentials"


class SecretDestinationError(RuntimeError):
    """Generated secrets have nowhere safe to go; nothing that would make one is sent."""


def run_id() -> str:
    """A name for this run's credentials file: UTC time and a random part (two runs in one
    second, or in one process, never share a file)."""
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{token_hex(4)}"


def makes_secret(change: object) -> bool:
    """Whether carrying out `change` generates a secret (a new user's initial password, a
    generated password reset, a Temporary Access Pass)."""
    kind, op = getattr(change, "kind", ""), getattr(change, "op", "")
    detail = getattr(change, "apply", None) or {}
    if kind == "user" and op == "add":
        return "body" in detail
    return kind == "action" and (detail.get("do") == "issueTemporaryAccessPass" or (
        detail.get("do") == "resetPassword" and not detail.get("passwordFrom")))


class Secrets:
    """The destination of this run's generated secrets."""

    def __init__(self, path: Path | None = None, show: Callable[[str], None] | None = None,
                 *, roots: Iterable[Path] | None = None) -> None:
        self.path, self.show = path, show
        # where a secrets file may be: the caller's folders (the CLI passes the tenant
        # folder, the working directory and $RUNNER_TEMP); by default the file's own folder
        self.roots = tuple(roots) if roots is not None else \
            ((path.parent,) if path is not None else ())
        self.sealed: Path | None = None  # the age file, with credentials.recipients
        self._recipients: list[object] = []
        self.delivered: list[tuple[str, str]] = []  # (user, what): never the secret
        self.unseen = 0  # initial passwords set with no destination: known to nobody
        self._lines: dict[int, str] = {}  # token -> line (the age file is rewritten whole)
        self._fd: int | None = None  # the plaintext file, appended to
        self._made = False  # the age file exists (made by this run)
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return self.sealed is not None or self.path is not None or self.show is not None

    @property
    def where(self) -> str:
        if self.sealed is not None:
            return f"{self.sealed} (age-encrypted to credentials.recipients)"
        return f"{self.path} (mode 0600)" if self.path is not None else "the terminal"

    def encrypt_to(self, recipients: Sequence[str], folder: Path) -> None:
        """With `credentials.recipients`: every secret goes, encrypted, to one age file."""
        if not recipients or self.sealed is not None:
            return
        self._recipients = [parse_recipient(r) for r in recipients]
        if self.path is not None:
            name = self.path.name if self.path.suffix == ".age" else self.path.name + ".age"
            self.sealed = self.path.with_name(name)
        else:
            self.sealed = folder / CREDENTIALS_FOLDER / f"{run_id()}.age"
            self.roots = (*self.roots, folder)
        self.show = None  # "instead": never on a terminal

    def check(self) -> None:
        """Refuse now a destination that could not be made (the age file is made only when
        a change needs it, so a run that generates nothing leaves no file)."""
        if self.sealed is None:
            if not self._age_without_recipients():
                self.open()
            return
        try:
            target = confine(self.sealed, self.roots)
            if target.exists() or target.is_symlink():
                raise UnsafePath("exists already (a kept credentials file is never "
                                 "overwritten)")
            if self.path is not None and not target.parent.is_dir():
                raise UnsafePath(f"the folder {target.parent} does not exist")
        except UnsafePath as exc:
            raise SecretDestinationError(f"{self._option(self.sealed)}: {exc}; nothing was "
                                         "sent") from exc

    def open(self) -> None:
        """Make the destination now (before anything is sent); raise when it cannot be."""
        if self._fd is not None or self._made or (self.path is None and self.sealed is None):
            return
        target = self.sealed or self.path
        assert target is not None
        if self._age_without_recipients():
            raise SecretDestinationError(
                f"--password-out {target} names an age file, but tenant.yaml has no "
                "credentials.recipients to encrypt to; nothing was sent")
        try:
            target = confine(target, self.roots)
            if self.sealed is not None:
                self.sealed = target
                self._create_sealed(target)
                return
            if not target.parent.is_dir():
                raise UnsafePath(f"the folder {target.parent} does not exist")
            self._fd = open_private(target, append=True)
        except UnsafePath as exc:
            raise SecretDestinationError(f"{self._option(target)}: {exc}; nothing was "
                                         "sent") from exc
        except OSError as exc:
            raise SecretDestinationError(f"{self._option(target)}: cannot be written "
                                         f"({exc.strerror}); nothing was sent") from exc

    def _age_without_recipients(self) -> bool:
        """`--password-out X.age` promises encryption (CI keeps that file): never plaintext."""
        return self.sealed is None and self.path is not None and self.path.suffix == ".age"

    def _option(self, target: Path) -> str:
        return f"--password-out {target}" if self.path is not None else f"credentials file " \
            f"{target}"

    def _create_sealed(self, target: Path) -> None:
        if self.path is None:  # the default folder: made private, below the tenant folder
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            confine(target, self.roots)  # re-checked: nothing below the root is a symlink
        elif not target.parent.is_dir():
            raise UnsafePath(f"the folder {target.parent} does not exist")
        fd = open_private(target, append=False)  # exclusive: an earlier run's is kept
        try:
            write_all(fd, self._encrypt(""))
            os.fsync(fd)
        finally:
            os.close(fd)
        sync_folder(target.parent)
        self._made = True  # rewritten whole by each delivery

    def _encrypt(self, text: str) -> bytes:
        import pyrage

        return pyrage.encrypt(text.encode(), self._recipients)

    def deliver(self, user: str, what: str, secret: str) -> int:
        """Write one secret and flush it to disk; raise if it cannot be delivered.
        The token names this delivery for `retract`."""
        with self._lock:
            self.open()
            token = len(self.delivered)
            self._put(token, f"{user}\t{what}\t{secret}\n")
            if self.sealed is None and self.path is None and self.show is not None:
                self.show(f"{what} for {user} (shown once): {secret}")
            self.delivered.append((user, what))
            return token

    def retract(self, token: int, reason: str) -> None:
        """A delivered secret turned out not to be in force: say so where it went."""
        with self._lock:
            user, what = self.delivered[token]
            if self.sealed is None and self.path is None and self.show is not None:
                self.show(f"{what} for {user} shown above was not set: {reason}")
                return
            self._put(token if self.sealed is not None else -1,
                      f"{user}\t{what}\t(not set: {reason})\n")

    def _put(self, token: int, line: str) -> None:
        if self.sealed is not None:
            self._lines[token] = line
            replace_private(self.sealed, self._encrypt("".join(self._lines.values())))
        elif self.path is not None:
            assert self._fd is not None
            write_all(self._fd, line.encode())
            os.fsync(self._fd)
        elif self.show is None:
            what = line.split("\t")[1]
            raise SecretDestinationError(
                f"{what} for {line.split(chr(9))[0]} not generated: no destination for it "
                "(stdout is not a terminal); pass --password-out FILE or set "
                "credentials.recipients")

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
