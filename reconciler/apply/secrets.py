"""Where generated secrets go: each one written to its destination and flushed before the
request that sets it is sent, so a run killed at any point never leaves a secret set in the
directory and delivered nowhere.

Destinations: a file (`--password-out`, mode 0600, appended to, never through a symlink),
or the terminal (shown once). With neither, an action that would generate a secret stops
before it starts. A destination that cannot be written stops the apply before anything is
sent. Secrets never reach plans, logs or the audit trail.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path


class SecretDestinationError(RuntimeError):
    """Generated secrets have nowhere safe to go; nothing that would make one is sent."""


class Secrets:
    """The destination of this apply's generated secrets."""

    def __init__(self, path: Path | None = None,
                 show: Callable[[str], None] | None = None) -> None:
        self.path, self.show = path, show
        self.delivered: list[tuple[str, str]] = []  # (user, what): never the secret
        self._fd: int | None = None
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return self.path is not None or self.show is not None

    def open(self) -> None:
        """Open the file now (before anything is sent); raise when it cannot be written."""
        if self.path is None or self._fd is not None:
            return
        folder = self.path.parent
        if not folder.is_dir():
            raise SecretDestinationError(f"--password-out {self.path}: the folder {folder} "
                                         "does not exist; nothing was sent")
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
        try:
            self._fd = os.open(self.path, flags, 0o600)
            os.fchmod(self._fd, 0o600)
        except OSError as exc:
            raise SecretDestinationError(f"--password-out {self.path}: cannot be written "
                                         f"({exc.strerror}); nothing was sent") from exc

    def deliver(self, user: str, what: str, secret: str) -> None:
        """Write one secret and flush it to disk; raise if it cannot be delivered."""
        with self._lock:
            if self.path is not None:
                self.open()
                assert self._fd is not None
                os.write(self._fd, f"{user}\t{what}\t{secret}\n".encode())
                os.fsync(self._fd)
            elif self.show is not None:
                self.show(f"{what} for {user} (shown once): {secret}")
            else:
                raise SecretDestinationError(
                    f"{what} for {user} not generated: no destination for it (stdout is not "
                    "a terminal); pass --password-out FILE")
            self.delivered.append((user, what))

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
