"""Faults aimed at chosen requests (the emulator's --faults strike at random).

`Script` wraps the in-process transport: a rule names a method and a path pattern, whether
the connection drops before the emulator sees the request or after it has committed it (the
reply is lost), and how many times. Everything else reaches the emulator unchanged, so the
emulator's audit log and state remain the judge of what was written.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from reconciler.emulator.app import Emulator
from reconciler.emulator.faults import Faults
from reconciler.emulator.server import serve_in_background
from reconciler.emulator.transport import InProcessTransport
from reconciler.graph import connect as connect_module
from reconciler.graph.retry import RetryPolicy

FAST = RetryPolicy(base_seconds=0.001, cap_seconds=0.01, max_attempts=4, settle_seconds=0.0,
                   replication_seconds=2.0)


@dataclass
class Rule:
    method: str
    path: str  # a regular expression searched in the URL's path
    when: str = "after"  # "before": nothing applied; "after": applied, reply lost
    times: int = 1  # how many matching requests are struck (-1: every one)
    status: int | None = None  # answer this status instead of dropping the connection
    skip: int = 0  # let this many matching requests through first
    message: str = "scripted fault"  # the error reply's message (a status rule)
    body: str | None = None  # a regular expression the request body must hold (a cmdlet)
    hits: int = 0
    passed: int = 0

    def matches(self, method: str, path: str, content: str = "") -> bool:
        if method != self.method or re.search(self.path, path) is None:
            return False
        if self.body is not None and re.search(self.body, content) is None:
            return False
        if self.passed < self.skip:
            self.passed += 1
            return False
        return self.times < 0 or self.hits < self.times


@dataclass
class Script:
    rules: list[Rule] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    seen: list[tuple[str, str]] = field(default_factory=list)

    def drop(self, method: str, path: str, when: str = "after", times: int = 1,
             skip: int = 0, body: str | None = None) -> Rule:
        rule = Rule(method, path, when, times, skip=skip, body=body)
        self.rules.append(rule)
        return rule

    def answer(self, status: int, method: str, path: str, when: str = "after",
               times: int = 1, message: str = "scripted fault") -> Rule:
        """Answer `status` (e.g. a 504 after the write committed, a 503 before it ran),
        for a request on its own or inside a $batch."""
        rule = Rule(method, path, when, times, status, message=message)
        self.rules.append(rule)
        return rule

    def strike(self, method: str, path: str, content: str = "") -> Rule | None:
        with self.lock:
            self.seen.append((method, path))
            for rule in self.rules:
                if rule.matches(method, path, content):
                    rule.hits += 1
                    return rule
        return None

    def handle(self, transport: InProcessTransport, request: httpx.Request,
               forward) -> httpx.Response:
        rule = self.strike(request.method, request.url.path,
                           request.read().decode("utf-8", "replace"))
        if rule is None and request.url.path.endswith("/$batch"):
            return self._batch(transport, request, forward)
        if rule is not None and rule.when == "before":
            if rule.status:
                return _error(rule.status, request, rule.message)
            raise httpx.RemoteProtocolError("scripted: dropped before the request was read",
                                            request=request)
        response = forward(transport, request)
        if rule is None:
            return response
        if rule.status:
            return _error(rule.status, request, rule.message)
        raise httpx.ReadError("scripted: dropped after commit", request=request)

    def _batch(self, transport: InProcessTransport, request: httpx.Request,
               forward) -> httpx.Response:
        """Inner requests struck "before" are answered without reaching the emulator;
        "after" ones reach it and have their reply replaced."""
        body = json.loads(request.read())
        struck: dict[str, Rule] = {}
        for inner in body["requests"]:
            rule = self.strike(inner["method"], "/v1.0" + inner["url"].split("?")[0])
            if rule is not None:
                struck[str(inner["id"])] = rule
        kept = [r for r in body["requests"] if struck.get(str(r["id"])) is None
                or struck[str(r["id"])].when == "after"]
        if any(r.status is None for r in struck.values()):
            raise AssertionError("inside a $batch, scripted faults answer a status")
        replies: list[dict] = []
        if kept:
            inner = httpx.Request("POST", request.url, headers=request.headers,
                                  json={"requests": kept})
            replies = forward(transport, inner).json()["responses"]
        for reply in replies:
            if str(reply["id"]) in struck:
                rule = struck[str(reply["id"])]
                reply.update(status=rule.status, body=_error_body(rule.message), headers={})
        replies += [{"id": i, "status": r.status, "headers": {}, "body": _error_body(r.message)}
                    for i, r in struck.items() if r.when == "before"]
        return httpx.Response(200, json={"responses": replies}, request=request)


def _error_body(message: str = "scripted fault") -> dict:
    return {"error": {"code": "ServiceUnavailable", "message": message}}


def _error(status: int, request: httpx.Request, message: str = "scripted fault"
           ) -> httpx.Response:
    return httpx.Response(status, json=_error_body(message), request=request)


@pytest.fixture
def script(monkeypatch) -> Script:
    """Aim faults at requests of every in-process connection the test opens; retries fast."""
    plan = Script()
    original = InProcessTransport.handle_request

    def handle(self: InProcessTransport, request: httpx.Request) -> httpx.Response:
        return plan.handle(self, request, original)

    monkeypatch.setattr(InProcessTransport, "handle_request", handle)
    monkeypatch.setattr(connect_module, "POLICY", FAST)
    return plan


@contextmanager
def served(folder: Path, faults: str = "") -> Iterator[str]:
    """Serve the tenant folder's emulator (state.db, its seed) on loopback for processes
    to share, and point tenant.yaml at it; yields the origin."""
    seed = json.loads((folder / "emulator-seed.json").read_text())
    em = Emulator(folder / "state.db", seed=seed, anonymous=True, faults=Faults.parse(faults),
                  tenant=seed.get("tenant"))
    origin, server = serve_in_background(em)
    tenant = folder / "tenant.yaml"
    tenant.write_text(tenant.read_text().replace('"emulator:state.db"', f'"{origin}"'))
    try:
        yield origin
    finally:
        server.shutdown()
        server.server_close()


def apply_process(folder: Path, *extra: str, env: dict[str, str] | None = None
                  ) -> subprocess.Popen:
    """`reconciler apply FOLDER --auto-approve` as a real process (which can be killed)."""
    return subprocess.Popen([sys.executable, "-m", "reconciler", "apply", str(folder),
                             "--auto-approve", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def wait_for(condition, timeout: float = 30.0, every: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(every)
