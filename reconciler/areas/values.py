"""Comparing and writing profile values the way Graph stores them."""

from __future__ import annotations

from typing import Any

from reconciler.desired.dates import format_instant, parse_instant, window_start

DATE_FIELDS = frozenset({"employeeHireDate", "employeeLeaveDateTime"})
CASELESS_FIELDS = frozenset({"ageGroup", "consentProvidedForMinor", "userType"})
SET_FIELDS = frozenset({"otherMails"})
# Graph's spelling of the enums the YAML writes in camelCase.
GRAPH_ENUMS = {
    "ageGroup": {"minor": "Minor", "notadult": "NotAdult", "adult": "Adult"},
    "consentProvidedForMinor": {"granted": "Granted", "denied": "Denied",
                                "notrequired": "NotRequired"},
}


def empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _instant(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return window_start(value) or parse_instant(value) or value


def same(field: str, desired: Any, live: Any) -> bool:
    """Whether the live value already is the desired one."""
    if empty(desired) or empty(live):
        return empty(desired) and empty(live)
    if field in DATE_FIELDS:
        return _instant(desired) == _instant(live)
    if field in CASELESS_FIELDS:
        return str(desired).lower() == str(live).lower()
    if field in SET_FIELDS:
        return sorted(str(v).lower() for v in desired) == sorted(str(v).lower() for v in live)
    if isinstance(desired, dict) and isinstance(live, dict):
        keys = set(desired) | set(live)
        return all(same(k, desired.get(k), live.get(k)) for k in keys)
    return desired == live


def to_graph(field: str, value: Any) -> Any:
    """The value to send: dates as instants, enums in Graph's spelling."""
    if value is None:
        return None
    if field in DATE_FIELDS:
        moment = _instant(value)
        return format_instant(moment) if not isinstance(moment, str) else moment
    if field in GRAPH_ENUMS:
        return GRAPH_ENUMS[field].get(str(value).lower(), value)
    return value
