"""Warm reads: Graph delta links for users (with manager) and groups (with members), kept
between runs so a plan reads only what changed since the last one.

One JSON file per tenant and Graph endpoint holds, per collection, the deltaLink and the
objects as of that link. A warm read follows the link and folds the changes into the saved
objects; a link Graph no longer honours (410 Gone, `syncStateNotFound`, `resyncRequired`)
or a cache file that is unreadable, of another format, tenant or endpoint is dropped and
the collection read cold, so a stale cache costs requests, never a wrong plan. Any other
error propagates as it would on a cold read. The file is replaced atomically, so a crashed
or concurrent run leaves a whole file (the last writer's), whose links are all valid.

Where: `desired.parsed.cache_dir`: `$RECONCILER_CACHE_DIR` when set (point `actions/cache`
at it), else `<tenant folder>/.reconciler/cache/`; `off` turns it off. Tenants on the
in-process emulator (`emulator:` URLs) are re-seeded freely, so for them the cache is used
only when the variable is set.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

import httpx

from reconciler import cachefile
from reconciler.graph.client import GraphClient
from reconciler.graph.errors import GraphError

log = logging.getLogger(__name__)
FORMAT = 1
# Delta pages as large as Graph serves them (the default is 100-200 objects a page).
PAGE_HEADERS = {"Prefer": "odata.maxpagesize=999"}
# What Graph answers for a deltaLink it no longer honours: read the collection again.
_RESYNC = {"syncStateNotFound", "resyncRequired", "syncStateInvalid", "invalidDeltaToken"}

Objects = dict[str, dict[str, Any]]
Fold = Callable[[Objects, dict[str, Any]], None]


class DeltaCache:
    """The saved delta rounds of one tenant at one Graph endpoint."""

    def __init__(self, directory: Path | None, tenant_id: str, graph_url: str) -> None:
        """`directory` None: this run reads through delta all the same, and keeps nothing."""
        self.tenant_id, self.graph_url = tenant_id.lower(), graph_url
        digest = hashlib.sha256(f"{self.tenant_id}|{graph_url}".encode()).hexdigest()[:16]
        self.path = directory / f"delta-{digest}.json" if directory else None
        self.data = self._load()
        self.warm: dict[str, bool] = {}  # collection -> whether this run read it warm
        self.changed = False  # whether this run has anything new to save

    def _load(self) -> dict[str, Any]:
        data = cachefile.read(self.path, format=FORMAT, tenant=self.tenant_id,
                              graph=self.graph_url)
        if data is None:
            return {}
        _as_read(data)
        return data

    def read(self, graph: GraphClient, name: str, path: str, fold: Fold) -> Objects:
        """Every object of collection `name`: the saved ones with the changes since their
        link folded in, or (no usable link) a cold delta round from `path`."""
        saved = self.data.get(name)
        if isinstance(saved, dict) and _ours(graph, saved.get("link")) and \
                isinstance(saved.get("objects"), dict):
            try:
                objects, link, count = _round(graph, saved["link"], saved["objects"], fold)
                if count:
                    self._keep(name, objects, link, warm=True)
                else:  # nothing changed: the saved link is as good as the new one
                    self.warm[name] = True
                return objects
            except GraphError as exc:
                if exc.code not in _RESYNC and not 400 <= exc.status < 500:
                    raise  # a cold read is always right; a client error on our link
                    # (expired, malformed, refused) is reason enough to make one
                log.info("delta link for %s expired (%s): reading it cold", name, exc.code)
        objects, link, _count = _round(graph, path, {}, fold)
        self._keep(name, objects, link, warm=False)
        return objects

    def _keep(self, name: str, objects: Objects, link: str, *, warm: bool) -> None:
        self.warm[name] = warm
        self.changed = True
        if link:
            self.data[name] = {"link": link, "objects": objects}
        else:  # no deltaLink came back: nothing to resume from next time
            self.data.pop(name, None)

    def save(self) -> None:
        """Write the file atomically (owner-only: it holds directory data); not when no
        round brought a change (an hourly no-drift plan does not rewrite 50,000 users; its
        saved links stay valid until Graph expires them, then one cold read)."""
        if self.path is None or not self.changed:
            return
        self.data.update(format=FORMAT, tenant=self.tenant_id, graph=self.graph_url)
        cachefile.replace(self.path, lambda out: _write(out, self.data))


def _ours(graph: GraphClient, link: object) -> bool:
    """A saved link is followed (with our token) only to the endpoint we are reading."""
    if not isinstance(link, str):
        return False
    base, target = httpx.URL(graph.url("/")), httpx.URL(link)
    return (target.scheme, target.host, target.port) == (base.scheme, base.host, base.port)


def _objects(data: dict[str, Any], name: str) -> Objects:
    saved = data.get(name)
    objects = saved.get("objects") if isinstance(saved, dict) else None
    return objects if isinstance(objects, dict) else {}


def _as_read(data: dict[str, Any]) -> None:
    """Saved objects in the shape a round leaves them: ids interned (a user's id, its
    manager's and group members are then one string each), repeated values shared, members
    as sets."""
    for user in _objects(data, "users").values():
        if isinstance(user, dict) and isinstance(user.get("id"), str):
            for key, value in user.items():
                if value.__class__ is list or value.__class__ is dict:  # text: not worth it
                    user[key] = _REPEATS.shared(key, value)
            user["id"] = sys.intern(user["id"])
            manager = user.get("manager")
            if isinstance(manager, dict) and isinstance(manager.get("id"), str):
                user["manager"] = _manager(manager["id"])
    for group in _objects(data, "groups").values():
        if isinstance(group, dict):
            members = group.get("members")
            group["members"] = {sys.intern(m) for m in members if isinstance(m, str)} \
                if isinstance(members, list) else set()


def _write(out: TextIO, data: dict[str, Any]) -> None:
    """`data` as one JSON document, each collection's objects encoded one at a time (the C
    encoder; json.dump's streaming encoder is pure Python, and one json.dumps of the whole
    cache would hold a second copy of it as text)."""
    out.write("{")
    for n, (key, value) in enumerate(data.items()):
        out.write(("," if n else "") + _dumps(key) + ":")
        objects = value.get("objects") if isinstance(value, dict) else None
        if not isinstance(objects, dict):
            out.write(_dumps(value))
            continue
        rest = {k: v for k, v in value.items() if k != "objects"}
        out.write(_dumps(rest)[:-1] + ("," if rest else "") + '"objects":{')
        for m, (object_id, item) in enumerate(objects.items()):
            out.write(("," if m else "") + _dumps(object_id) + ":" + _dumps(item))
        out.write("}}")
    out.write("}")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=_jsonable)


def _jsonable(value: Any) -> Any:
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _round(graph: GraphClient, url: str, saved: Objects, fold: Fold
           ) -> tuple[Objects, str, int]:
    """Follow one delta round from `url`, folding each change into `saved` in place (on a
    failure the caller drops `saved` and reads cold, so a half-folded copy never counts);
    (the objects, the new deltaLink, how many changes came)."""
    objects = saved
    link = ""
    count = 0
    for page in _pages(graph, url):
        for item in page.get("value", []):
            fold(objects, item)
            count += 1
        link = page.get("@odata.deltaLink", link)
    return objects, link, count


def _pages(graph: GraphClient, url: str) -> Iterator[dict[str, Any]]:
    return graph.pages(url, headers=PAGE_HEADERS)


def fold_user(objects: Objects, item: dict[str, Any]) -> None:
    """A users/delta item: removed, or its properties (and manager@delta) merged. A null
    property is left out (readers use `.get`): at 50,000 users the nulls were a third of
    the cache file. Ids are interned (group members name them again)."""
    user_id = sys.intern(item["id"])
    if "@removed" in item:
        objects.pop(user_id, None)
        return
    user = objects.setdefault(user_id, {})
    for key, value in item.items():
        if key == "manager@delta":
            current = [r["id"] for r in value if "@removed" not in r]
            value = _manager(current[0]) if current else None
            key = "manager"
        if value is None:
            user.pop(key, None)
        else:
            user[key] = _REPEATS.shared(key, value)
    user["id"] = user_id


class _Repeats:
    """One object per distinct value of the user properties that repeat from user to
    user (licenses, job titles, departments, company): 50,000 users hold a few hundred
    distinct values, not 50,000 copies. A property seen with more than LIMIT distinct
    values (names, addresses, phones) is not followed further. Sharing is safe: a user's
    properties are never changed in place (a fold replaces the value)."""

    LIMIT = 256

    def __init__(self) -> None:
        self.values: dict[str, dict[Any, Any]] = {}
        self.unique: set[str] = set()

    def shared(self, key: str, value: Any) -> Any:
        if key in self.unique or isinstance(value, bool | int | float) or key == "manager":
            return value
        token = value if isinstance(value, str) else (type(value).__name__, repr(value))
        seen = self.values.setdefault(key, {})
        found = seen.get(token)
        if found is not None:
            return found
        if len(seen) >= self.LIMIT:
            self.unique.add(key)
            del self.values[key]
        else:
            seen[token] = value
        return value


_REPEATS = _Repeats()
_MANAGERS: dict[str, dict[str, str]] = {}


def _manager(manager_id: str) -> dict[str, str]:
    """`{"id": manager_id}`, one object per manager (its reports share it; never changed)."""
    found = _MANAGERS.get(manager_id)
    if found is None:
        if len(_MANAGERS) > 200_000:
            _MANAGERS.clear()
        found = _MANAGERS[manager_id] = {"id": sys.intern(manager_id)}
    return found


def fold_group(objects: Objects, item: dict[str, Any]) -> None:
    """A groups/delta item: removed, or its properties merged and members@delta applied
    (members: a set of interned ids)."""
    group_id = sys.intern(item["id"])
    if "@removed" in item:
        objects.pop(group_id, None)
        return
    item = dict(item)
    refs = item.pop("members@delta", [])
    group = objects.setdefault(group_id, {})
    members = group.get("members")
    if not isinstance(members, set):
        members = {sys.intern(m) for m in members or ()}
    group.update(item)
    group["id"] = group_id
    for ref in refs:
        if "@removed" in ref:
            members.discard(ref["id"])
        else:
            members.add(sys.intern(ref["id"]))
    group["members"] = members
