"""Sending one raw request to an in-process emulator, as a documented example would."""

from __future__ import annotations

from typing import Any

import httpx

from reconciler.emulator.app import Emulator
from reconciler.emulator.transport import InProcessTransport

GRAPH = "https://graph.microsoft.com/v1.0"


def send(em: Emulator, method: str, path: str, body: Any, headers: dict[str, str],
         content: bytes | None = None) -> httpx.Response:
    with httpx.Client(transport=InProcessTransport(em)) as http:
        return http.request(method, GRAPH + path, json=body if content is None else None,
                            content=content, headers=headers)
