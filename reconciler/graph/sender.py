"""One request, sent until it has a definite outcome: retries, Retry-After, 401, re-checks.

What each reply means is decided by `retry.judge`; this module only acts on it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import httpx

from reconciler import __version__
from reconciler.graph.errors import GraphError, UnreachableError
from reconciler.graph.retry import Attempt, RetryPolicy, Verdict, judge

log = logging.getLogger(__name__)


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
    rechecked: bool = False  # the reply was lost and a re-read showed the write had landed
    verdict: Verdict | None = None  # SUCCESS, ALREADY or GIVE_UP once judged

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
    """Sends requests for one resource (Graph or Exchange) through one httpx client.

    Its public helpers (`gate`, `hold`, `note`, `confirm`, `lagging`, `refresh`) are what a
    `$batch` uses to act on `retry.judge`'s decisions for the requests inside it.
    """

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
        self._in_flight: threading.BoundedSemaphore | None = None  # set by `limit`

    def limit(self, requests: int) -> None:
        """At most `requests` HTTP requests of this sender in flight at once, however many
        threads send (reads run side by side, each batching in parallel)."""
        self._in_flight = threading.BoundedSemaphore(max(1, requests))

    def gate(self) -> None:
        """Wait while a 429's Retry-After holds every request of this client."""
        with self._gate_lock:
            delay = self._not_before - time.monotonic()
        if delay > 0:
            self.sleep(delay)

    def hold(self, seconds: float) -> None:
        """After a 429: nobody sends for `seconds`."""
        with self._gate_lock:
            self._not_before = max(self._not_before, time.monotonic() + seconds)

    def note(self, key: str, n: int = 1) -> None:
        with self._gate_lock:
            self.stats[key] += n

    def refresh(self) -> None:
        self.note("token_refresh")
        self.tokens.refresh(self.resource)

    def confirm(self, recheck: Callable[[], bool], sent_at: float | None = None) -> bool:
        """Run a write's re-check after a lost or 5xx reply: did the write land? "Not
        landed" read within `policy.settle_seconds` of `sent_at` (when the write went out)
        may come from a replica that has not seen it yet: it is read once more when that
        time has passed, before anything is sent again."""
        self.note("rechecks")
        if self._landed(recheck):
            return True
        left = self.policy.settle_seconds - (time.monotonic() - sent_at) \
            if sent_at is not None else 0.0
        if left <= 0:
            return False
        self.note("settle_waits")
        self.sleep(left)
        return self._landed(recheck)

    @staticmethod
    def _landed(recheck: Callable[[], bool]) -> bool:
        try:
            return bool(recheck())
        except (GraphError, UnreachableError) as exc:
            log.debug("recheck failed: %s", exc)
            return False

    def lagging(self, method: str, reply: Reply, started: float) -> bool:
        """Whether a 404 is replication lag, where Graph documents it: a call that names an
        object this run created, routed to a replica that has not seen it yet, answers
        `404 Request_ResourceNotFound` naming that object ("Resource '<id>' does not
        exist"), for a few seconds (retried for up to `replication_seconds`).

        Any other 404 is an answer and costs no wait: one naming a relation or an item
        that is not there ("no manager yet", an extension, a photo, a member), a mailbox
        not provisioned yet (`MailboxNotEnabledForRESTAPI`: minutes, not seconds), and a
        404 on DELETE (already absent)."""
        if reply.status != 404 or method == "DELETE" or not self.created \
                or time.monotonic() - started >= self.policy.replication_seconds:
            return False
        error = reply.error(method, "")
        if "ResourceNotFound" not in error.code:
            return False
        return any(object_id in error.message for object_id in list(self.created))

    def send(self, method: str, url: str, *, json: Any = None, content: bytes | None = None,
             headers: dict[str, str] | None = None,
             recheck: Callable[[], bool] | None = None,
             already: Callable[[GraphError], bool] | None = None,
             attempts: int | None = None, absent_ok: bool = False) -> Reply:
        """Send until `retry.judge` gives a definite verdict; a write whose reply was lost
        (or got a 5xx) is re-checked before it is sent again.

        `attempts` caps tries on lost replies and 5xx (default: the policy's). `absent_ok`:
        a 404 means "there is none" (a relation not set yet), never replication lag. No reply
        after the last try raises UnreachableError: "no reply" is never success. The
        returned Reply carries its verdict (SUCCESS, ALREADY or GIVE_UP).
        """
        policy = self.policy if attempts is None else replace(self.policy, max_attempts=attempts)
        write = method not in ("GET", "HEAD")
        request_headers = {"client-request-id": str(uuid.uuid4()),
                           "User-Agent": f"reconciler/{__version__}", **(headers or {})}
        started = time.monotonic()
        attempt = throttled = 0
        refreshed = False
        while True:
            attempt += 1
            sent_at = time.monotonic()
            reply, lost = self._once(method, url, json, content, request_headers, attempt)
            status = reply.status if reply is not None else None
            throttled += status == 429
            at = Attempt(write, attempt, throttled, refreshed,
                         lagging=reply is not None and not absent_ok
                         and self.lagging(method, reply, started),
                         sent=lost != "ConnectError")
            decision = judge(status, reply.headers if reply is not None else {}, at, policy,
                             already=_reads_already(reply, already, method, url))
            verdict = decision.verdict
            if verdict in (Verdict.SUCCESS, Verdict.ALREADY, Verdict.GIVE_UP):
                if reply is None:
                    raise UnreachableError(f"{method} {_without_query(url)}: no reply after "
                                           f"{attempt} attempts ({lost})")
                reply.verdict = verdict
                return reply
            if verdict is Verdict.REFRESH:
                refreshed = True
                self.refresh()
                continue
            if decision.throttled:
                self.note("throttled")
                self.hold(decision.wait)
                continue
            self.note("replication_waits" if status == 404 else
                      "server_errors" if status is not None else "retries")
            if verdict is Verdict.RECHECK and recheck is not None \
                    and self.confirm(recheck, sent_at):
                return Reply(200, rechecked=True, verdict=Verdict.SUCCESS)
            self.sleep(decision.wait)

    def _once(self, method: str, url: str, json: Any, content: bytes | None,
              headers: dict[str, str], attempt: int) -> tuple[Reply | None, str]:
        """One try: the reply, or None and why there was none."""
        self.gate()
        token = self.tokens.token(self.resource)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.note("http")
        try:
            with self._in_flight or contextlib.nullcontext():
                response = self.http.request(method, url, json=json, content=content,
                                             headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            self.note("unconnected")
            log.debug("not connected: method=%s url=%s attempt=%d error=%s", method,
                      _path(url), attempt, type(exc).__name__)
            return None, "ConnectError"
        except httpx.TransportError as exc:
            self.note("dropped")
            log.debug("dropped: method=%s url=%s attempt=%d error=%s", method, _path(url),
                      attempt, type(exc).__name__)
            return None, type(exc).__name__
        reply = Reply(response.status_code, dict(response.headers), parse_body(response),
                      response.headers.get("request-id"))
        log.debug("sent: method=%s path=%s status=%d request-id=%s attempt=%d", method,
                  _path(url), reply.status, reply.request_id, attempt)
        return reply, ""


def _reads_already(reply: Reply | None, already: Callable[[GraphError], bool] | None,
                   method: str, url: str) -> Callable[[], bool] | None:
    if reply is None or already is None:
        return None
    return lambda: already(reply.error(method, _path(url)))


def _without_query(url: str) -> str:
    """Scheme, host and path: where the request went, without a filter's values."""
    return str(httpx.URL(url).copy_with(query=None, fragment=None))


def _path(url: str) -> str:
    """The path of a URL without its query (filters may hold addresses, never secrets)."""
    return httpx.URL(url).path
