"""Image format judged by content, not by file name."""

from __future__ import annotations

_SIGNATURES = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)

CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif"}


def image_format(head: bytes) -> str | None:
    """`jpeg`, `png`, `gif`, or None for anything else."""
    return next((name for magic, name in _SIGNATURES if head.startswith(magic)), None)
