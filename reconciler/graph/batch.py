"""JSON batching: 20 requests per $batch, each inner reply judged and retried on its own."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler.graph.client import GraphClient, WriteResult
from reconciler.graph.errors import GraphError, UnreachableError
from reconciler.graph.retry import Attempt, Decision, Verdict, judge
from reconciler.graph.sender import Reply

MAX_BATCH = 20


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
    """One batch's life: send, judge each inner reply with `retry.judge` (as a single
    request would be judged), re-send only what must be."""

    def __init__(self, client: GraphClient, items: list[BatchItem]) -> None:
        self.client = client
        self.sender = client.sender
        self.policy = client.sender.policy
        self.pending = {i.id: i for i in items}
        self.results: dict[str, WriteResult] = {}
        self.last: dict[str, Reply] = {}
        self.tries: Counter[str] = Counter()
        self.throttles: Counter[str] = Counter()
        self.refreshed = False
        self.started = time.monotonic()
        self.sent_at = self.started  # when the last $batch went out

    def run(self) -> dict[str, WriteResult]:
        attempt = 0
        while self.pending:
            attempt += 1
            names = set(self.pending)
            body = {"requests": [i.payload(names) for i in self.pending.values()]}
            self.sent_at = time.monotonic()
            try:
                outer: Reply | None = self.sender.send("POST", self.client.url("/$batch"),
                                                       json=body, attempts=1)
            except UnreachableError:
                outer = None
            if outer is None or outer.status >= 500:  # the whole reply was lost
                decision = judge(outer.status if outer else None,
                                 outer.headers if outer else {}, Attempt(True, attempt),
                                 self.policy)
                if decision.verdict is Verdict.GIVE_UP:
                    break
                self._recheck_writes()
                if self.pending:
                    self.sender.sleep(decision.wait)
                continue
            if not outer.ok:  # the batch itself was refused (malformed, or 429 limits hit)
                for item in self.pending.values():
                    self.last[item.id] = outer
                break
            throttled, waits = self._judge(outer.body.get("responses", []))
            if throttled:
                self.sender.hold(max(throttled))
            elif waits and self.pending:
                self.sender.sleep(max(waits))
        for item_id, item in list(self.pending.items()):
            reply = self.last.get(item_id)
            if reply is None:
                self.results[item_id] = WriteResult.no_reply(
                    item.method, item.path, f"no reply after {attempt} attempts")
                continue
            reply.verdict = Verdict.GIVE_UP
            self.results[item_id] = self.client.outcome(reply, item.method, item.path)
        return self.results

    def _judge(self, responses: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
        """Settle what can be settled; return the waits asked for (throttled, others)."""
        throttled: list[float] = []
        waits: list[float] = []
        by_id = {str(r.get("id")): r for r in responses}
        retry: set[str] = set()
        failed_dependency: list[str] = []
        refresh = False
        for item_id, item in list(self.pending.items()):
            raw = by_id.get(item_id)
            if raw is None:  # left out of the reply: as if its reply was lost
                self.tries[item_id] += 1
                if self.tries[item_id] >= self.policy.max_attempts:
                    self._settle(item_id, WriteResult.no_reply(
                        item.method, item.path, "left out of every $batch reply"))
                else:
                    retry.add(item_id)
                continue
            reply = Reply(int(raw.get("status", 500)), raw.get("headers") or {}, raw.get("body"))
            self.last[item_id] = reply
            if reply.status == 424:  # its dependency failed: settled below
                failed_dependency.append(item_id)
                continue
            decision = self._decide(item, reply)
            verdict = decision.verdict
            if verdict in (Verdict.SUCCESS, Verdict.ALREADY, Verdict.GIVE_UP):
                reply.verdict = verdict
                self._settle(item_id, self.client.outcome(reply, item.method, item.path))
                continue
            retry.add(item_id)
            if verdict is Verdict.REFRESH:
                refresh = True
            elif decision.throttled:
                self.sender.note("throttled")
                throttled.append(decision.wait)
            else:
                self.sender.note("replication_waits" if reply.status == 404
                                 else "server_errors")
                waits.append(decision.wait)
                if verdict is Verdict.RECHECK and item.recheck is not None \
                        and self.sender.confirm(item.recheck, self.sent_at):
                    retry.discard(item_id)
                    self._settle(item_id, WriteResult(200, rechecked=True))
        if refresh and not self.refreshed:
            self.refreshed = True
            self.sender.refresh()
        for item_id in failed_dependency:  # retried only along with a dependency
            item = self.pending[item_id]
            if not any(d in retry for d in item.depends_on):
                reply = self.last[item_id]
                reply.verdict = Verdict.GIVE_UP
                self._settle(item_id, self.client.outcome(reply, item.method, item.path))
        return throttled, waits

    def _decide(self, item: BatchItem, reply: Reply) -> Decision:
        self.tries[item.id] += 1
        self.throttles[item.id] += reply.status == 429
        write = item.method not in ("GET", "HEAD")
        lagging = self.sender.lagging(item.method, reply, self.started)
        already = item.already
        return judge(reply.status, reply.headers,
                     Attempt(write, self.tries[item.id], self.throttles[item.id],
                             self.refreshed, lagging),
                     self.policy,
                     already=(lambda: already(reply.error(item.method, item.path)))
                     if already is not None else None)

    def _settle(self, item_id: str, result: WriteResult) -> None:
        self.results[item_id] = result
        del self.pending[item_id]

    def _recheck_writes(self) -> None:
        """The whole reply was lost: settle each write that a re-read shows has landed."""
        for item_id, item in list(self.pending.items()):
            if item.method != "GET" and item.recheck \
                    and self.sender.confirm(item.recheck, self.sent_at):
                self._settle(item_id, WriteResult(200, rechecked=True))
