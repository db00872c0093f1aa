"""What an area's apply step works with: clients, ids, and the outcome record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from reconciler.apply.secrets import Secrets
from reconciler.graph.batch import BatchItem, run_batch
from reconciler.graph.client import GraphClient, WriteResult
from reconciler.graph.errors import GraphError
from reconciler.graph.exchange import ExchangeClient
from reconciler.graph.requests import ApiRequest
from reconciler.graph.sharepoint import SharePointClient
from reconciler.graph.urls import with_query
from reconciler.live.state import LiveState
from reconciler.plan.change import Change

APPLIED, ALREADY, FAILED, UNKNOWN, SKIPPED = "applied", "already", "failed", "unknown", "skipped"


def failure(error: GraphError) -> str:
    """FAILED for an error reply; UNKNOWN when no reply ever came (it may have landed)."""
    return UNKNOWN if error.code == "NoReply" else FAILED
SENDING = "sending"  # announced to listeners (the trail) before a write goes out; never kept
Recheck = Callable[[], bool] | None
Already = Callable[[GraphError], bool] | None


@dataclass
class Outcome:
    change: Change
    status: str
    message: str = ""


def change_id(change: Change) -> int:
    """A change's id within a run: the plan's change object itself (a Change is a mutable
    dataclass compared field by field, which made list membership quadratic)."""
    return id(change)


@dataclass
class Write:
    """One request and the changes it carries out."""

    changes: list[Change]
    request: ApiRequest
    recheck: Recheck = None
    already: Already = None


@dataclass
class ApplyContext:
    graph: GraphClient
    exchange: ExchangeClient
    live: LiveState
    folder: Path
    progress: Callable[[str], None] = lambda _message: None
    ids: dict[str, str] = field(default_factory=dict)  # upn (lower) -> object id
    failed_users: set[str] = field(default_factory=set)
    secrets: Secrets = field(default_factory=Secrets)  # where generated secrets go
    sharepoint: SharePointClient | None = None

    def __post_init__(self) -> None:
        for user in self.live.users.values():
            self.ids[user.upn.lower()] = user.id
        self.ids.update(self.live.aliases)  # renamed by `id`: changes name the new UPN
        self._outcomes: dict[int, Outcome] = {}  # change id -> its outcome, in record order
        self.on_outcome: list[Callable[[Outcome], None]] = []  # e.g. the audit trail
        self.guard: Callable[[], None] = lambda: None  # raises to stop before a write

    @property
    def outcomes(self) -> list[Outcome]:
        """Each change's last recorded outcome, in the order changes were first settled."""
        return list(self._outcomes.values())

    def outcome_of(self, change: Change) -> Outcome | None:
        return self._outcomes.get(change_id(change))

    def forget(self, changes: list[Change]) -> None:
        """Drop these changes' outcomes (they are about to be tried again another way)."""
        for change in changes:
            self._outcomes.pop(change_id(change), None)

    def user_id(self, upn: str) -> str | None:
        return self.ids.get(upn.lower())

    def record(self, change: Change, status: str, message: str = "") -> None:
        outcome = Outcome(change, status, message)
        self._outcomes[change_id(change)] = outcome
        if status in (FAILED, UNKNOWN) and change.kind == "user" and change.op == "add":
            self.failed_users.add(change.user.lower())
        for listener in self.on_outcome:
            listener(outcome)

    def sending(self, changes: list[Change]) -> None:
        """Tell the listeners (the audit trail) these changes' write is about to go out, so
        a run killed before the reply still leaves a line for a write that may have landed."""
        self.guard()
        for change in changes:
            outcome = Outcome(change, SENDING)
            for listener in self.on_outcome:
                listener(outcome)

    def runnable(self, changes: list[Change]) -> list[Change]:
        """Changes whose user exists (a failed creation skips the rest of that user)."""
        ready = []
        for change in changes:
            if change.user.lower() in self.failed_users or self.user_id(change.user) is None:
                self.record(change, SKIPPED, "the user does not exist (its creation failed)")
            else:
                ready.append(change)
        return ready

    def by_user(self, changes: list[Change]) -> dict[str, list[Change]]:
        """Runnable changes grouped by user (lower-case UPN), each group in plan order."""
        grouped: dict[str, list[Change]] = {}
        for change in self.runnable(changes):
            grouped.setdefault(change.user.lower(), []).append(change)
        return grouped

    def settle(self, write: Write, result: WriteResult) -> None:
        """Record the outcome of `write` for each change it carries; a lost reply is
        UNKNOWN (the next plan shows the change again), never APPLIED."""
        if result.ok:
            status = ALREADY if result.already else APPLIED
            for change in write.changes:
                self.record(change, status)
        else:
            status = UNKNOWN if result.unknown else FAILED
            for change in write.changes:
                self.record(change, status, str(result.error))

    def send(self, write: Write) -> WriteResult:
        """One write on its own (creates, photos): never batched. The result is ok only
        when a reply (or a re-check) showed the write landed."""
        request = write.request
        self.sending(write.changes)
        result = self.graph.write(request.method, request.path, request.body,
                                  content=request.content,
                                  content_type=request.headers.get("Content-Type"),
                                  recheck=write.recheck or patched(self.graph, request),
                                  already=write.already)
        self.settle(write, result)
        return result

    def send_batched(self, writes: list[Write]) -> dict[int, WriteResult]:
        """Independent writes, 20 per $batch; each settles its own changes."""
        items = [BatchItem(str(n), w.request.method, _relative(w.request.path), w.request.body,
                           recheck=w.recheck or patched(self.graph, w.request),
                           already=w.already)
                 for n, w in enumerate(writes)]
        if not items:
            return {}
        self.sending([c for w in writes for c in w.changes])
        results = run_batch(self.graph, items)
        for n, write in enumerate(writes):
            self.settle(write, results[str(n)])
        return {n: results[str(n)] for n in range(len(writes))}


def patched(graph: GraphClient, request: ApiRequest) -> Recheck:
    """The default re-check of a PATCH whose reply was lost: read the resource back (the
    properties it set) and compare, so a PATCH that landed is not sent, and written, twice.
    None for other writes, and for bodies with annotations (`@odata.bind`), which cannot be
    read back by name."""
    body = request.body
    if request.method != "PATCH" or not isinstance(body, dict) or not body \
            or any("@" in key for key in body):
        return None
    path = urlsplit(request.path).path

    def landed() -> bool:
        found = graph.get_or_none(with_query(path, {"$select": ",".join(body)}))
        return isinstance(found, dict) and all(found.get(k) == v for k, v in body.items())

    return landed


def _relative(path: str) -> str:
    parts = urlsplit(path)
    return parts.path + (f"?{parts.query}" if parts.query else "")
