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


def open_confined(path: Path, flags: int, mode: int = 0o600) -> int:
    """os.open that never follows a symlink at the last step (O_NOFOLLOW)."""
    return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0), mode)
