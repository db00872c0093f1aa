"""Helpers for tests that run the real client against the emulator."""

from __future__ import annotations

from typing import Any

import httpx

from reconciler.emulator.app import Emulator
from reconciler.emulator.faults import Faults
from reconciler.emulator.transport import InProcessTransport
from reconciler.graph.auth import NoAuth
from reconciler.graph.client import GraphClient
from reconciler.graph.exchange import ExchangeClient
from reconciler.graph.retry import RetryPolicy
from reconciler.graph.sender import Sender

TENANT_ID = "11111111-2222-4333-8444-555555555555"


class RecordingSleep:
    """Stands in for time.sleep: records each wait and really waits a tiny bit."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def emulator(seed: dict[str, Any] | None = None, faults: str = "", db: str = ":memory:",
             anonymous: bool = True) -> Emulator:
    return Emulator(db, seed=seed, anonymous=anonymous, faults=Faults.parse(faults),
                    tenant={"id": TENANT_ID, "domain": "contoso.onmicrosoft.com"})


def client(em: Emulator, *, sleep=None, read_only: bool = False, concurrency: int = 4,
           policy: RetryPolicy | None = None) -> GraphClient:
    http = httpx.Client(transport=InProcessTransport(em))
    sender = Sender(http, NoAuth(), "graph", policy=policy or RetryPolicy(base_seconds=0.01,
                                                                      settle_seconds=0.0),
                    sleep=sleep or RecordingSleep())
    return GraphClient(http, NoAuth(), read_only=read_only, concurrency=concurrency,
                       sender=sender)


def exchange(em: Emulator, read_only: bool = False) -> ExchangeClient:
    http = httpx.Client(transport=InProcessTransport(em))
    return ExchangeClient(http, NoAuth(), TENANT_ID, read_only=read_only)


def user_body(upn: str, **extra: Any) -> dict[str, Any]:
    return {"accountEnabled": True, "displayName": upn.split("@")[0],
            "mailNickname": upn.split("@")[0], "userPrincipalName": upn,
            "passwordProfile": {"password": "Xy-12345678!", "forceChangePasswordNextSignIn": True},
            **extra}
