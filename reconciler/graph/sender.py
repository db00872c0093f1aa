"""One request, sent until it has a definite outcome: retries, Retry-After, 401, re-checks."""

from __future__ import annotations

import json as jsonlib
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from reconciler import __version__
from reconciler.graph.errors import GraphError, UnreachableError
from reconciler.graph.retry import RetryPolicy, retry_after

log = logging.getLogger(__name__)
MAX_THROTTLED_ATTEMPTS = 50  # Graph: keep waiting Retry-After while it keeps answering 429


class TokenProvider(Protocol):
    def token(self, resource: str) -> str | None: ...

    def refresh(self, resource: str) -> None: ...


@dataclass
class Reply:
    """What a request finally got: a reply, or the verdict of a re-check after a lost reply."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    request_id: str | None = None
    rechecked: bool = False

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def error(self, method: str, path: str) -> GraphError:
        return GraphError.from_body(self.status, self.body, request_id=self.request_id,
                                    method=method, path=path)


def parse_body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    kind = response.headers.get("content-type", "")
    if "json" in kind:
        try:
            return response.json()
        except ValueError:
            return response.text
    if kind.startswith("text/"):
        return response.text
    return response.content


class Sender:
    """Sends requests for one resource (Graph or Exchange) through one httpx client."""

    def __init__(self, http: httpx.Client, tokens: TokenProvider, resource: str, *,
                 policy: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.http, self.tokens, self.resource = http, tokens, resource
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.created: set[str] = set()  # ids this run created: 404s on them are replication lag
        self.stats: Counter[str] = Counter()
        self._gate_lock = threading.Lock()
        self._not_before = 0.0  # after a 429, nobody sends before this instant

    def _wait_gate(self) -> None:
        with self._gate_lock:
            delay = self._not_before - time.monotonic()
        if delay > 0:
            self.sleep(delay)

    def _close_gate(self, seconds: float) -> None:
        with self._gate_lock:
            self._not_before = max(self._not_before, time.monotonic() + seconds)

    def _count(self, key: str, n: int = 1) -> None:
        with self._gate_lock:
            self.stats[key] += n

    def send(self, method: str, url: str, *, json: Any = None, content: bytes | None = None,
             headers: dict[str, str] | None = None,
             recheck: Callable[[], bool] | None = None, attempts: int | None = None) -> Reply:
        """Send until the outcome is known; a write whose reply was lost is re-checked first.

        `attempts` caps tries on lost replies and 5xx (default: the policy's); 401 and 429
        are always handled here. With attempts=1 a lost reply raises UnreachableError and a
        5xx is returned, so the caller (a batch) can re-check item by item.
        """
        limit = attempts or self.policy.max_attempts
        write = method not in ("GET", "HEAD")
        request_headers = {"client-request-id": str(uuid.uuid4()),
                           "User-Agent": f"reconciler/{__version__}", **(headers or {})}
        body_text = jsonlib.dumps(json) if json is not None else ""
        started = time.monotonic()
        attempt = throttled = 0
        refreshed = False
        while True:
            attempt += 1
            self._wait_gate()
            token = self.tokens.token(self.resource)
            if token:
                request_headers["Authorization"] = f"Bearer {token}"
            self._count("http")
            try:
                response = self.http.request(method, url, json=json, content=content,
                                             headers=request_headers)
            except httpx.TransportError as exc:
                self._count("dropped")
                log.debug("dropped: method=%s url=%s attempt=%d error=%s", method, _path(url),
                          attempt, type(exc).__name__)
                if attempt >= limit:
                    raise UnreachableError(
                        f"{method} {_path(url)}: no reply after {attempt} attempts "
                        f"({type(exc).__name__})") from exc
                if write and recheck is not None and self._rechecked(recheck):
                    return Reply(200, rechecked=True)
                self.sleep(self.policy.backoff(attempt))
                continue
            reply = Reply(response.status_code, dict(response.headers), parse_body(response),
                          response.headers.get("request-id"))
            status = reply.status
            log.debug("sent: method=%s path=%s status=%d request-id=%s attempt=%d", method,
                      _path(url), status, reply.request_id, attempt)
            if status == 401 and not refreshed:
                refreshed = True
                self._count("token_refresh")
                self.tokens.refresh(self.resource)
                continue
            if status == 429:
                throttled += 1
                self._count("throttled")
                wait = retry_after(reply.headers)
                wait = wait if wait is not None else self.policy.backoff(throttled)
                self._close_gate(wait)
                if throttled >= MAX_THROTTLED_ATTEMPTS:
                    return reply
                continue
            if status >= 500:
                self._count("server_errors")
                if attempt >= limit:
                    return reply
                if write and recheck is not None and self._rechecked(recheck):
                    return Reply(200, rechecked=True)
                wait = retry_after(reply.headers)
                self.sleep(wait if wait is not None else self.policy.backoff(attempt))
                continue
            if status == 404 and self._mentions_created(url, body_text) and \
                    time.monotonic() - started < self.policy.replication_seconds:
                self._count("replication_waits")
                self.sleep(self.policy.backoff(min(attempt, 5)))
                continue
            return reply

    def _rechecked(self, recheck: Callable[[], bool]) -> bool:
        self._count("rechecks")
        try:
            return bool(recheck())
        except (GraphError, UnreachableError) as exc:
            log.debug("recheck failed: %s", exc)
            return False

    def _mentions_created(self, url: str, body: str) -> bool:
        if not self.created:
            return False
        text = url + body
        return any(object_id in text for object_id in list(self.created))


def _path(url: str) -> str:
    """The path of a URL without its query (filters may hold addresses, never secrets)."""
    return httpx.URL(url).path
