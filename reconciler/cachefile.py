"""The files a run keeps for the next one (the delta cache, the parsed user files): read only
when their header says they were written for this very use, replaced atomically, owner-only.

A cache is never a source of truth: a file that is missing, unreadable, of another format
or of another tenant reads as empty, and the caller reads from the source instead.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO


def read(path: Path | None, **header: Any) -> dict[str, Any] | None:
    """The JSON object in `path` when each `header` key holds the given value; else None."""
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or any(data.get(k) != v for k, v in header.items()):
        return None
    return data


def replace(path: Path, write: Callable[[TextIO], None]) -> None:
    """Write `path` through `write` into a 0600 sibling renamed over it: a crashed or
    concurrent run leaves the old file or a whole new one. OSError propagates (the temporary
    file removed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            write(out)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
