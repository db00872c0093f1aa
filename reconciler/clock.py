"""The run's one clock: RECONCILER_NOW replaces it, so schedules can be rehearsed and tested."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from reconciler.desired.dates import parse_instant

NOW_VARIABLE = "RECONCILER_NOW"


class ClockError(ValueError):
    """RECONCILER_NOW is set to something that is not an instant."""


def now() -> datetime:
    """The current instant in UTC, or RECONCILER_NOW when it is set."""
    text = os.environ.get(NOW_VARIABLE)
    if not text:
        return datetime.now(UTC)
    moment = parse_instant(text)
    if moment is None:
        raise ClockError(
            f"{NOW_VARIABLE}={text!r} is not an instant (use e.g. 2027-03-31T17:00:00Z)"
        )
    return moment
