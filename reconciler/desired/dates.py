"""Dates and instants as written in user files: strict parsing, one meaning for each form."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INSTANT = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?([Zz]|[+-]\d{2}:\d{2})$"
)


def parse_date(text: str) -> date | None:
    """`2026-12-31` -> date, or None when it is not a real calendar date."""
    if not isinstance(text, str) or not _DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_instant(text: str) -> datetime | None:
    """An ISO 8601 instant with a time zone -> aware datetime in UTC, or None."""
    if not isinstance(text, str) or not _INSTANT.match(text):
        return None
    fixed = text.upper().replace("Z", "+00:00")
    if "." in fixed:  # Python accepts at most 6 fractional digits; Graph sends 7.
        head, _, rest = fixed.partition(".")
        digits = re.match(r"\d+", rest)
        assert digits is not None
        fixed = head + "." + digits.group()[:6].ljust(6, "0") + rest[digits.end():]
    try:
        return datetime.fromisoformat(fixed).astimezone(UTC)
    except ValueError:
        return None


def window_start(text: str) -> datetime | None:
    """`from`: a date means midnight UTC at the start of that day."""
    day = parse_date(text)
    if day is not None:
        return datetime.combine(day, time.min, tzinfo=UTC)
    return parse_instant(text)


def window_end(text: str) -> datetime | None:
    """`until`: a date means the end of that day (midnight UTC of the next one)."""
    day = parse_date(text)
    if day is not None:
        return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
    return parse_instant(text)


def format_instant(moment: datetime) -> str:
    """UTC, second precision, `Z` suffix: the one form plans print."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
