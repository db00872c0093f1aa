"""Live reads as typed objects: what planning asks the reader for, declared where it is used.

A `Read` is one kind of read of the tenant: a key (unique), the reads it `needs` before it
(they are read too, and first), and how it is made and folded into the `LiveState`:

- `Read(key, run)`: a read made its own way, once: `run(ctx, asked)` lists a collection,
  calls Exchange or SharePoint, batches a two-stage read... and stores what it read.
- `UserGet(key, path, store)`: one Graph GET per user. The reader batches every `UserGet`
  ready at the same time into the same `$batch` requests (20 to a batch), whichever areas
  asked for them; `store(user, result)` folds each reply into that user.

`per_user=True` makes a read one that is asked for users (the UPNs whose files need it, or
`EVERY_USER`): the reader passes those users, resolved to live ones, in `asked.users`. Any
read may also be asked about named things (`SITES.about(url)`: `asked.refs`).

Areas return these from their `reads(user)` hook; the reader runs whatever was asked, in
dependency order, independent reads side by side; nothing here lists the reads there are.
A read that belongs to one area is declared in the area's module; one that several areas
share lives in `live/` beside its fetch code. A read stores into `LiveState`/`LiveUser`
fields, or, for a read that has none, into `state.slots[key]` / `user.slots[key]`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.graph.client import GraphClient, WriteResult
    from reconciler.graph.exchange import ExchangeClient
    from reconciler.graph.sharepoint import SharePointClient
    from reconciler.live.cache import DeltaCache
    from reconciler.live.state import LiveState, LiveUser

EVERY_USER = "*"


@dataclass
class Asked:
    """What a read was asked for: live users (per-user reads) and named refs."""

    users: list[LiveUser] = field(default_factory=list)
    refs: set[str] = field(default_factory=set)


@dataclass
class ReadContext:
    """What a read's `run` works with. `say` reports progress (buffered per read and said
    in a fixed order, so concurrent reads never interleave their lines)."""

    graph: GraphClient
    state: LiveState
    exchange: ExchangeClient | None = None
    sharepoint: SharePointClient | None = None
    cache: DeltaCache | None = None
    say: Callable[[str], None] = lambda _message: None


def _unset(_ctx: ReadContext, _asked: Asked) -> None:
    raise NotImplementedError("this read is made by the reader itself")


@dataclass(frozen=True, eq=False)
class Read:
    """One kind of live read (see the module docstring). Compared by identity: declare each
    once, as a module-level constant."""

    key: str
    run: Callable[[ReadContext, Asked], None] = _unset
    needs: tuple[Read, ...] = ()
    per_user: bool = False

    def about(self, ref: str) -> Ask:
        """This read, asked about one named thing (a site URL, a device name)."""
        return Ask(self, ref)

    def __repr__(self) -> str:
        return f"<read {self.key}>"


@dataclass(frozen=True, eq=False)
class UserGet(Read):
    """One GET per user, batched with every other UserGet ready at the same time.

    `path(user)` is the request (relative to /v1.0, from the request catalogue);
    `store(user, result)` folds the reply in (an error reply too: a 404 usually means
    "none"). `wanted(user)` skips users the read does not apply to (no mailbox). An error
    reply whose status is not in `absent` stops the read (raised as the GraphError)."""

    path: Callable[[LiveUser], str] = lambda _user: ""
    store: Callable[[LiveUser, WriteResult], None] = lambda _user, _result: None
    wanted: Callable[[LiveUser], bool] = lambda _user: True
    absent: tuple[int, ...] = (404,)
    per_user: bool = True


@dataclass(frozen=True)
class Ask:
    """A read asked about one named thing."""

    read: Read
    ref: str


# The listing every other read starts from: users (their manager too when MANAGERS is
# asked). The reader makes it itself, always, first; a `needs=(USERS,)` orders after it.
USERS = Read("users")
MANAGERS = Read("managers", needs=(USERS,))


@dataclass
class Reads:
    """The reads asked for: per read, the UPNs (per-user reads; EVERY_USER: all) and refs."""

    asked: dict[Read, tuple[set[str], set[str]]] = field(default_factory=dict)

    def add(self, item: Read | Ask, upn: str = "") -> None:
        read = item.read if isinstance(item, Ask) else item
        upns, refs = self.asked.setdefault(read, (set(), set()))
        if isinstance(item, Ask):
            refs.add(item.ref)
        elif read.per_user and upn:
            upns.add(upn)

    def update(self, items: Iterable[Read | Ask], upn: str = "") -> Reads:
        for item in items:
            self.add(item, upn)
        return self

    def __contains__(self, read: object) -> bool:
        return read in self.asked

    def users(self, read: Read) -> set[str]:
        return self.asked.get(read, (set(), set()))[0]

    def refs(self, read: Read) -> set[str]:
        return self.asked.get(read, (set(), set()))[1]

    def keys(self) -> set[str]:
        return {read.key for read in self.asked}


def ordered(reads: Iterable[Read]) -> list[list[Read]]:
    """The reads with everything they need, in waves: each read comes in the wave after
    the last of its needs; reads of one wave are independent of each other. Within a wave,
    by key (a fixed order whatever the order of asking)."""
    level: dict[Read, int] = {}

    def visit(read: Read, path: tuple[str, ...]) -> int:
        if read.key in path:
            raise ValueError(f"reads need each other: {' -> '.join((*path, read.key))}")
        if read not in level:
            needs = (*read.needs, USERS) if read.per_user else read.needs
            level[read] = 1 + max((visit(n, (*path, read.key)) for n in needs), default=-1)
        return level[read]

    for read in list(reads):
        visit(read, ())
    keys: dict[str, Read] = {}
    for read in level:
        if keys.setdefault(read.key, read) is not read:
            raise ValueError(f"two reads are declared with the key {read.key!r}")
    waves: list[list[Read]] = [[] for _ in range(1 + max(level.values(), default=-1))]
    for read, depth in level.items():
        waves[depth].append(read)
    return [sorted(wave, key=lambda r: r.key) for wave in waves]


def result_body(result: WriteResult) -> Any:
    """A reply's body, {} when there is none."""
    return result.body if isinstance(result.body, dict) else {}
