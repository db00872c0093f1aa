"""The Microsoft Graph v1.0 client: reads that page, writes that report their outcome."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from reconciler.graph.errors import GraphError, ReadOnlyError, UnreachableError
from reconciler.graph.retry import Verdict
from reconciler.graph.sender import Reply, Sender, TokenProvider

GRAPH_ROOT = "https://graph.microsoft.com/v1.0"
DEFAULT_CONCURRENCY = 4
T = TypeVar("T")
R = TypeVar("R")


@dataclass
class WriteResult:
    """The outcome of one write: applied, already so (a benign error), failed, or unknown
    (no reply after every retry and no re-check proved it landed: never success)."""

    status: int
    body: Any = None
    error: GraphError | None = None
    already: bool = False  # Graph said it was already so ("already exist", 404 on a removal)
    rechecked: bool = False  # the reply was lost and a re-read showed the write had landed
    unknown: bool = False  # no reply: it may or may not have landed

    @property
    def ok(self) -> bool:
        return self.error is None and not self.unknown

    @classmethod
    def no_reply(cls, method: str, path: str, why: str) -> WriteResult:
        return cls(0, error=GraphError(0, "NoReply", why, method=method, path=path),
                   unknown=True)


class GraphClient:
    """Pages through `@odata.nextLink`, batches up to 20, retries per Graph's rules.

    `read_only=True` refuses every write (plan uses it). Every request goes through one
    Sender, so Retry-After, token refresh and replication waits apply everywhere.
    """

    def __init__(self, http: httpx.Client, tokens: TokenProvider, *, root: str = GRAPH_ROOT,
                 read_only: bool = False, concurrency: int = DEFAULT_CONCURRENCY,
                 sender: Sender | None = None) -> None:
        self.http = http
        self.root = root.rstrip("/")
        self.read_only = read_only
        self.concurrency = max(1, concurrency)
        self.sender = sender or Sender(http, tokens, "graph")
        self.sender.limit(self.concurrency)

    # reads ---------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.root}/{path.lstrip('/')}"

    def get(self, path: str, params: dict[str, str] | None = None,
            headers: dict[str, str] | None = None, *, absent_ok: bool = False) -> Any:
        """GET one resource; raises GraphError for an error reply."""
        reply = self.sender.send("GET", self._with_params(path, params), headers=headers,
                                 absent_ok=absent_ok)
        if not reply.ok:
            raise reply.error("GET", httpx.URL(self.url(path)).path)
        return reply.body

    def get_or_none(self, path: str, params: dict[str, str] | None = None) -> Any:
        """GET, with 404 meaning 'there is none' (a manager, a photo, an extension): known
        absent, so never waited on as replication lag."""
        try:
            return self.get(path, params, absent_ok=True)
        except GraphError as error:
            if error.status == 404:
                return None
            raise

    def pages(self, path: str, params: dict[str, str] | None = None,
              headers: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Each page of a collection, following @odata.nextLink verbatim (headers re-sent)."""
        url: str | None = self._with_params(path, params)
        while url:
            reply = self.sender.send("GET", url, headers=headers)
            if not reply.ok:
                raise reply.error("GET", httpx.URL(url).path)
            yield reply.body
            url = reply.body.get("@odata.nextLink")

    def list(self, path: str, params: dict[str, str] | None = None,
             headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every item of a collection."""
        items: list[dict[str, Any]] = []
        for page in self.pages(path, params, headers):
            items.extend(page.get("value", []))
        return items

    def delta(self, path: str, params: dict[str, str] | None = None) -> tuple[list[dict], str]:
        """A full delta round: every item, and the deltaLink for the next round."""
        items: list[dict[str, Any]] = []
        link = ""
        for page in self.pages(path, params):
            items.extend(page.get("value", []))
            link = page.get("@odata.deltaLink", link)
        return items, link

    def _with_params(self, path: str, params: dict[str, str] | None) -> str:
        url = httpx.URL(self.url(path))
        return str(url.copy_merge_params(params)) if params else str(url)

    # writes --------------------------------------------------------------------------------
    def write(self, method: str, path: str, body: Any = None, *, content: bytes | None = None,
              content_type: str | None = None, recheck: Callable[[], bool] | None = None,
              already: Callable[[GraphError], bool] | None = None) -> WriteResult:
        """Send one write. `already` says which errors mean 'it is already so'; a lost reply
        that no re-check settles is an `unknown` result, never an ok one."""
        self.refuse_if_read_only(method, path)
        headers = {"Content-Type": content_type} if content_type else None
        try:
            reply = self.sender.send(method, self.url(path), json=body, content=content,
                                     headers=headers, recheck=recheck, already=already)
        except UnreachableError as exc:
            return WriteResult.no_reply(method, httpx.URL(self.url(path)).path, str(exc))
        return self.outcome(reply, method, path)

    def outcome(self, reply: Reply, method: str, path: str) -> WriteResult:
        """A judged reply (its verdict set by `retry.judge`) as a WriteResult."""
        if reply.verdict is Verdict.SUCCESS:
            created = reply.body.get("id") if isinstance(reply.body, dict) else None
            if method == "POST" and reply.status == 201 and created:
                self.sender.created.add(created)
            return WriteResult(reply.status, reply.body, rechecked=reply.rechecked)
        if reply.verdict is Verdict.ALREADY:
            return WriteResult(reply.status, reply.body, already=True)
        return WriteResult(reply.status, reply.body,
                           error=reply.error(method, httpx.URL(self.url(path)).path))

    def refuse_if_read_only(self, method: str, path: str) -> None:
        if self.read_only and method not in ("GET", "HEAD"):
            raise ReadOnlyError(f"refused {method} {path}: this client is read-only (plan "
                                "never writes)")

    # concurrency ---------------------------------------------------------------------------
    def map(self, work: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """Run `work` over `items` with at most `concurrency` requests in flight."""
        items = list(items)
        if self.concurrency == 1 or len(items) <= 1:
            return [work(item) for item in items]
        with concurrent.futures.ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(work, items))

    @property
    def stats(self) -> dict[str, int]:
        return dict(self.sender.stats)
