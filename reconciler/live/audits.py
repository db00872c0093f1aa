"""Who changed it: the audit logs drift attribution reads.

Entra's directory audits are listed once, newest first (the reports API allows 5
requests per 10 s); Exchange's admin audit is searched once for the cmdlets the areas
name. Matching a record to a change is each area's `audit` hook; `reconcile.py` pairs
them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from reconciler.desired.dates import format_instant
from reconciler.graph import requests as api
from reconciler.graph.client import GraphClient

LOOKBACK_DAYS = 30  # Entra keeps 30 days of directory audits with P1/P2 (7 without)


def read_audits(graph: GraphClient, now: datetime) -> list[dict[str, Any]]:
    """Directory audit records of the last LOOKBACK_DAYS, newest first."""
    since = format_instant(now - timedelta(days=LOOKBACK_DAYS))
    records = graph.list(api.list_audits(since).path)
    return sorted(records, key=lambda r: str(r.get("activityDateTime")), reverse=True)


def who(record: dict[str, Any]) -> str:
    """The user or app that made a directory change."""
    initiated = record.get("initiatedBy") or {}
    user = initiated.get("user") or {}
    app = initiated.get("app") or {}
    return user.get("userPrincipalName") or user.get("displayName") or \
        app.get("displayName") or app.get("appId") or "unknown"


def read_exchange_audits(exchange: Any, now: datetime, cmdlets: Iterable[str]
                         ) -> list[dict[str, Any]]:
    """Exchange's admin audit for `cmdlets`, read once."""
    return exchange.invoke("Search-AdminAuditLog", {
        "StartDate": format_instant(now - timedelta(days=LOOKBACK_DAYS)),
        "EndDate": format_instant(now),
        "Cmdlets": sorted(set(cmdlets))})
