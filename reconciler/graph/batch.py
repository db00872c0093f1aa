"""JSON batching: 20 requests per $batch, each inner reply judged and retried on its own."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler.graph.client import GraphClient, WriteResult
from reconciler.graph.errors import GraphError, UnreachableError
from reconciler.graph.retry import retry_after
from reconciler.graph.sender import MAX_THROTTLED_ATTEMPTS, Reply

MAX_BATCH = 20
_WAIT_STATUSES = {429, 503, 504}


@dataclass
class BatchItem:
    """One request inside a batch; `path` is relative to /v1.0 (e.g. `/users/{id}`)."""

    id: str
    method: str
    path: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    recheck: Callable[[], bool] | None = None
    already: Callable[[GraphError], bool] | None = None

    def payload(self, pending: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "method": self.method, "url": self.path}
        headers = dict(self.headers)
        if self.body is not None:
            out["body"] = self.body
            headers.setdefault("Content-Type", "application/json")
        if headers:
            out["headers"] = headers
        depends = [d for d in self.depends_on if d in pending]
        if depends:
            out["dependsOn"] = depends
        return out


def run_batch(client: GraphClient, items: list[BatchItem]) -> dict[str, WriteResult]:
    """Send `items` in batches of 20 (dependency chains kept together), in parallel."""
    if any(i.method not in ("GET", "HEAD") for i in items):
        client.refuse_if_read_only("POST", "/$batch")
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise ValueError("batch item ids must be unique")
    results: dict[str, WriteResult] = {}
    for chunk_results in client.map(lambda chunk: _Chunk(client, chunk).run(),
                                    pack(items)):
        results.update(chunk_results)
    return results


def pack(items: list[BatchItem]) -> list[list[BatchItem]]:
    """Group items so that each dependsOn chain stays in one batch of at most 20."""
    parent = {i.id: i.id for i in items}

    def root(node: str) -> str:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for item in items:
        for dependency in item.depends_on:
            if dependency not in parent:
                raise ValueError(f"{item.id} depends on unknown item {dependency}")
            parent[root(item.id)] = root(dependency)
    components: dict[str, list[BatchItem]] = {}
    for item in items:
        components.setdefault(root(item.id), []).append(item)
    chunks: list[list[BatchItem]] = []
    current: list[BatchItem] = []
    for component in components.values():
        if len(component) > MAX_BATCH:
            raise ValueError(f"a dependsOn chain of {len(component)} requests exceeds {MAX_BATCH}")
        if len(current) + len(component) > MAX_BATCH:
            chunks.append(current)
            current = []
        current.extend(component)
    if current:
        chunks.append(current)
    return chunks


class _Chunk:
    """One batch's life: send, judge each inner reply, re-send only what must be."""

    def __init__(self, client: GraphClient, items: list[BatchItem]) -> None:
        self.client = client
        self.sender = client.sender
        self.pending = {i.id: i for i in items}
        self.results: dict[str, WriteResult] = {}
        self.last: dict[str, Reply] = {}

    def run(self) -> dict[str, WriteResult]:
        attempt = throttled = 0
        started = time.monotonic()
        while self.pending:
            attempt += 1
            names = set(self.pending)
            body = {"requests": [i.payload(names) for i in self.pending.values()]}
            try:
                outer = self.sender.send("POST", self.client.url("/$batch"), json=body,
                                         attempts=1)
            except UnreachableError:
                outer = None
            if outer is None or outer.status >= 500:
                self._recheck_writes()
                if attempt >= self.sender.policy.max_attempts:
                    break
                self.sender.sleep(self.sender.policy.backoff(attempt))
                continue
            if not outer.ok:  # the batch itself was refused (malformed, or 429 limits hit)
                for item in self.pending.values():
                    self.last[item.id] = outer
                break
            waits = self._judge(outer.body.get("responses", []), started)
            if not self.pending:
                break
            if waits:
                throttled += 1
                self.sender._close_gate(max(waits))
                if throttled >= MAX_THROTTLED_ATTEMPTS:
                    break
            else:
                if attempt >= self.sender.policy.max_attempts:
                    break
                self.sender.sleep(self.sender.policy.backoff(attempt))
        for item_id, item in list(self.pending.items()):
            reply = self.last.get(item_id) or Reply(503, body={"error": {
                "code": "ServiceUnavailable", "message": "no reply after every retry"}})
            self.results[item_id] = self.client.outcome(reply, item.method, item.path,
                                                        item.already)
        return self.results

    def _judge(self, responses: list[dict[str, Any]], started: float) -> list[float]:
        """Settle what can be settled; return the Retry-After of throttled inner requests."""
        waits: list[float] = []
        by_id = {str(r.get("id")): r for r in responses}
        retry: set[str] = set()
        for item_id, item in list(self.pending.items()):
            raw = by_id.get(item_id)
            if raw is None:
                retry.add(item_id)
                continue
            reply = Reply(int(raw.get("status", 500)), raw.get("headers") or {}, raw.get("body"))
            self.last[item_id] = reply
            status = reply.status
            if status in _WAIT_STATUSES:
                self.sender._count("throttled" if status == 429 else "server_errors")
                waits.append(retry_after(reply.headers) or self.sender.policy.backoff(1))
                retry.add(item_id)
            elif status >= 500:
                self.sender._count("server_errors")
                if item.method != "GET" and item.recheck and self.sender._rechecked(item.recheck):
                    self.results[item_id] = WriteResult(200, rechecked=True)
                    del self.pending[item_id]
                else:
                    retry.add(item_id)
            elif status == 401:
                self.sender.tokens.refresh(self.sender.resource)
                retry.add(item_id)
            elif status == 404 and self.sender._mentions_created(item.path, str(item.body)) \
                    and time.monotonic() - started < self.sender.policy.replication_seconds:
                self.sender._count("replication_waits")
                retry.add(item_id)
            elif status != 424:
                self.results[item_id] = self.client.outcome(reply, item.method, item.path,
                                                            item.already)
                del self.pending[item_id]
        for item_id, item in list(self.pending.items()):  # 424s: retry only with a dependency
            if item_id not in retry and not any(d in retry for d in item.depends_on):
                self.results[item_id] = self.client.outcome(self.last[item_id], item.method,
                                                            item.path, item.already)
                del self.pending[item_id]
        return waits

    def _recheck_writes(self) -> None:
        """The whole reply was lost: settle each write that a re-read shows has landed."""
        for item_id, item in list(self.pending.items()):
            if item.method != "GET" and item.recheck and self.sender._rechecked(item.recheck):
                self.results[item_id] = WriteResult(200, rechecked=True)
                del self.pending[item_id]
