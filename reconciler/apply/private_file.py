"""Files that hold secrets: confined to a trusted folder, never reached through a symlink,
created 0600 and exclusively, or appended to only when they are ours.

A secret file is named on the command line, but the folders on its way may come from a
cloned repository (a tenant folder holding a planted `.reconciler -> /tmp` symlink): every
component below the trusted root is checked, and the last one is opened with O_NOFOLLOW.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class UnsafePath(Exception):
    """The path cannot hold a secret safely; the message says why, without the secret."""


def confine(path: Path, roots: Iterable[Path]) -> Path:
    """`path` made absolute, if it lies under one of `roots` with no symlink below that root.

    The roots are the operator's own folders (resolved: a symlinked home is fine); what lies
    below them is checked component by component."""
    absolute = Path(os.path.abspath(path))
    for root in roots:
        base = Path(os.path.abspath(root))
        for candidate in (base, base.resolve()):
            try:
                rest = absolute.relative_to(candidate)
            except ValueError:
                continue
            _no_symlinks(candidate, rest.parts)
            return absolute
    raise UnsafePath("is outside the folders a secret may be written to")


def _no_symlinks(base: Path, parts: tuple[str, ...]) -> None:
    here = base
    for part in parts:
        here = here / part
        if here.is_symlink():
            raise UnsafePath(f"{here} is a symlink (a secret is never written through one)")


def open_private(path: Path, *, append: bool) -> int:
    """A descriptor on `path`: a new 0600 file (O_EXCL), or, when `append`, an existing
    regular file owned by this user. Never through a symlink at the last step."""
    if append:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | NOFOLLOW)
        except FileNotFoundError:
            pass
        else:
            _ours(fd, path)
            return fd
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | (os.O_APPEND if append else 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError as exc:
        raise UnsafePath("exists already (a kept credentials file is never overwritten)") \
            from exc
    os.fchmod(fd, 0o600)
    return fd


def _ours(fd: int, path: Path) -> None:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
        os.close(fd)
        raise UnsafePath("exists and is not a regular file owned by this user")
    if info.st_nlink != 1:  # a second name for it could be published (an artifact, a share)
        os.close(fd)
        raise UnsafePath("exists with another hard link to it (a secret file has one name)")
    if info.st_mode & 0o077:
        os.fchmod(fd, 0o600)  # ours: tighten it rather than append secrets to a readable file


def replace_private(path: Path, content: bytes) -> None:
    """Write `content` to `path` atomically (a 0600 sibling renamed over it), on disk before
    this returns: a run killed at any point leaves the old or the new content, never half."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, 0o600)
    try:
        write_all(fd, content)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)
    sync_folder(path.parent)


def write_all(fd: int, content: bytes) -> None:
    view = memoryview(content)
    while view:
        view = view[os.write(fd, view):]


def sync_folder(folder: Path) -> None:
    """fsync a folder so a created or renamed entry in it survives a crash."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
