"""Paths a tenant folder names stay inside it: no `..`, no absolute path, no symlink out.

Shared by the loader (user files), the tenant checks (`audit.file`) and the writers that
open such a path (`open_confined`: O_NOFOLLOW, so a symlink planted at the last step is
refused rather than followed).
"""

from __future__ import annotations

import os
from pathlib import Path


def inside(folder: Path, path: Path) -> bool:
    """Whether `path`, with every symlink on the way resolved, lies inside `folder`."""
    root = folder.resolve()
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


class Confinement:
    """`inside(folder, path)` for many paths at once: the folder and each directory on the
    way are resolved once, not once per file (a file that is itself a symlink is resolved
    in full, as `inside` does)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.root = str(folder.resolve())
        self._directories: dict[str, str] = {}

    def __call__(self, path: Path) -> bool:
        text = str(path)
        if os.path.islink(text):
            return inside(self.folder, path)
        head, name = os.path.split(text)
        real = self._directories.get(head)
        if real is None:
            real = self._directories[head] = os.path.realpath(head)
        resolved = os.path.join(real, name)
        prefix = self.root if self.root.endswith(os.sep) else self.root + os.sep
        return resolved == self.root or resolved.startswith(prefix)


def open_confined(path: Path, flags: int, mode: int = 0o600) -> int:
    """os.open that never follows a symlink at the last step (O_NOFOLLOW)."""
    return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0), mode)
