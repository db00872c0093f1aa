"""Reading live state in bulk: whatever reads the areas asked for (live/reads.py), in
dependency order, independent reads side by side.

The users listing comes first in every run (every other read is of, or about, users); it
runs beside the reads that need nothing (groups, roles, SKUs...). Each later wave holds the
reads whose needs are done. All `UserGet` reads of a wave go out together, 20 per `$batch`,
whichever areas asked for them. Every read stores into its own part of the state, so the
result is the same whatever order the replies come back in; progress lines are said in a
fixed order (the reads' keys), after their wave.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from reconciler.graph import requests as api
from reconciler.graph.batch import BatchItem, run_batch
from reconciler.graph.client import GraphClient
from reconciler.graph.exchange import ExchangeClient
from reconciler.live.cache import DeltaCache, fold_user
from reconciler.live.directory import STATE_EXTENSION
from reconciler.live.reads import (
    EVERY_USER,
    MANAGERS,
    USERS,
    Asked,
    Read,
    ReadContext,
    Reads,
    UserGet,
    ordered,
)
from reconciler.live.state import LiveState, LiveUser

if TYPE_CHECKING:
    from reconciler.graph.sharepoint import SharePointClient

__all__ = ["STATE_EXTENSION", "read_live"]

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
_NONE: frozenset[str] = frozenset()


def read_live(graph: GraphClient, reads: Reads, *, exchange: ExchangeClient | None = None,
              sharepoint: SharePointClient | None = None,
              progress: Progress | None = None, anchors: dict[str, str] | None = None,
              cache: DeltaCache | None = None) -> LiveState:
    """Read what `reads` asks for, with everything those reads need. With a `cache`, users
    (with managers) and groups (with members) come from delta rounds resumed from its
    links. `anchors` (file UPN -> id) are recorded before any per-user read, so a renamed
    user is read by its id."""
    say = progress or (lambda _message: None)
    state = LiveState()
    asked = dict(reads.asked)
    asked.setdefault(USERS, (set(), set()))
    waves = ordered(asked)
    for number, wave in enumerate(waves):
        said: dict[str, list[str]] = {read.key: [] for read in wave}

        def context(read: Read, lines: dict[str, list[str]] = said) -> ReadContext:
            return ReadContext(graph, state, exchange, sharepoint, cache, lines[read.key].append)

        tasks: list[Callable[[], None]] = []
        batched = [r for r in wave if isinstance(r, UserGet)]
        if batched:
            tasks.append(lambda b=batched: _read_batched(graph, state, b, _asked(state, asked)))
        for read in wave:
            if read is USERS:
                tasks.append(lambda r=read: _read_users(context(r), MANAGERS in asked, anchors))
            elif read is not MANAGERS and not isinstance(read, UserGet):
                tasks.append(lambda r=read: r.run(context(r), _asked(state, asked)(r)))
        _run_together(graph, tasks)
        if number == 0:
            if cache is not None:
                cache.save()
            say(_users_line(state, cache))
        for read in wave:
            for line in said[read.key]:
                say(line)
    state.read = {read.key for read in asked}
    return state


def _run_together(graph: GraphClient, tasks: list[Callable[[], None]]) -> None:
    """Run independent reads side by side (the client bounds the requests in flight); a
    failure is raised once every read of the wave has finished."""
    graph.map(lambda task: task(), tasks)


def _asked(state: LiveState, asked: dict[Read, tuple[set[str], set[str]]]
           ) -> Callable[[Read], Asked]:
    """What each read was asked for, per-user UPNs resolved to live users (sorted by UPN;
    EVERY_USER: all of them), once the users are read."""
    def of(read: Read) -> Asked:
        upns, refs = asked.get(read, (set(), set()))
        if EVERY_USER in upns:
            upns = {u.upn for u in state.users.values()}
        users: list[LiveUser] = []
        seen: set[str] = set()
        for upn in sorted(upns):
            user = state.user_by_upn(upn)
            if user is not None and user.id not in seen:
                seen.add(user.id)
                users.append(user)
        return Asked(users, set(refs))
    return of


def _read_users(ctx: ReadContext, managers: bool, anchors: dict[str, str] | None) -> None:
    """Every user (with manager from the delta cache, or when `managers`), then the
    anchors."""
    state, cache = ctx.state, ctx.cache
    if cache is not None:
        for item in cache.read(ctx.graph, "users", api.users_delta().path, fold_user).values():
            state.users[item["id"]] = _live_user(item)  # the cache's dict: shared, not copied
    else:
        for item in ctx.graph.list(api.list_users(with_manager=managers).path):
            state.users[item["id"]] = _live_user(item)
    state.anchor(anchors or {})  # before per-user reads: a renamed user is read by its id


def _users_line(state: LiveState, cache: DeltaCache | None) -> str:
    """`read: users=N`, and with a cache how each collection was read (users first)."""
    how = ""
    if cache is not None:
        warm = sorted(cache.warm.items(), key=lambda kv: (kv[0] != "users", kv[0]))
        how = " (" + ", ".join(f"{k} {'warm' if v else 'cold'}" for k, v in warm) + ")"
    return f"read: users={len(state.users)}{how}"


def _live_user(item: dict[str, Any]) -> LiveUser:
    """A user listing item (its manager, if read, folded in as `manager`) as a LiveUser;
    `item` becomes its props, unchanged (a warm read's cache saves the same dict)."""
    licenses, inherited = _licenses(item.get("licenseAssignmentStates"),
                                    item.get("assignedLicenses"))
    manager = item.get("manager")
    return LiveUser(
        item["id"], item["userPrincipalName"], item,
        manager_id=manager.get("id") if isinstance(manager, dict) else None,
        licenses=licenses, inherited_licenses=inherited)


# The last license lists seen (the warm-read cache shares equal ones between users) and
# what they came to: (states, assigned, direct licenses, inherited skuIds).
_LICENSES: dict[tuple[int, int], tuple[Any, Any, dict[str, list[str]], frozenset[str]]] = {}


def _licenses(states: list | None, assigned: list | None
              ) -> tuple[dict[str, list[str]], frozenset[str]]:
    """(direct: skuId -> disabled plans, skuIds assigned by a group); the same objects for
    the same lists (never changed by readers)."""
    key = (id(states), id(assigned))
    known = _LICENSES.get(key)
    if known is not None and known[0] is states and known[1] is assigned:
        return known[2], known[3]
    licenses: dict[str, list[str]] = {}
    inherited: set[str] = set()
    for assignment in states or []:
        if assignment.get("assignedByGroup"):
            inherited.add(assignment["skuId"])
        else:
            licenses[assignment["skuId"]] = list(assignment.get("disabledPlans") or [])
    if not states:
        licenses = {a["skuId"]: list(a.get("disabledPlans") or []) for a in assigned or []}
    result = licenses, frozenset(inherited) if inherited else _NONE
    if len(_LICENSES) >= 1024:
        _LICENSES.clear()
    _LICENSES[key] = (states, assigned, *result)  # held: their ids stay theirs
    return result


def _read_batched(graph: GraphClient, state: LiveState, reads: list[UserGet],
                  asked: Callable[[Read], Asked]) -> None:
    """Every UserGet of one wave through the same $batch requests (20 to a batch)."""
    items: list[BatchItem] = []
    queued: dict[str, tuple[UserGet, LiveUser]] = {}
    for read in reads:
        for user in asked(read).users:
            if read.wanted(user):
                key = str(len(items))
                queued[key] = (read, user)
                items.append(BatchItem(key, "GET", _relative(read.path(user))))
    if not items:
        return
    for key, result in run_batch(graph, items).items():
        read, user = queued[key]
        if not result.ok and result.error and result.error.status not in read.absent:
            raise result.error
        read.store(user, result)


def _relative(path: str) -> str:
    parts = urlsplit(path)
    return parts.path + (f"?{parts.query}" if parts.query else "")
