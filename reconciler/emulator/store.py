"""The emulated tenant's state in SQLite: directory objects as JSON, relations as rows."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS objects (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, data TEXT NOT NULL,
  deleted_at TEXT, seq INTEGER NOT NULL, created REAL NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS objects_kind ON objects (kind, id);
CREATE TABLE IF NOT EXISTS upns (upn TEXT PRIMARY KEY, id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS members (
  group_id TEXT NOT NULL, member_id TEXT NOT NULL, PRIMARY KEY (group_id, member_id));
CREATE INDEX IF NOT EXISTS members_by_member ON members (member_id);
CREATE TABLE IF NOT EXISTS member_log (
  seq INTEGER NOT NULL, group_id TEXT NOT NULL, member_id TEXT NOT NULL, removed INTEGER);
CREATE TABLE IF NOT EXISTS managers (user_id TEXT PRIMARY KEY, manager_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS licenses (
  user_id TEXT NOT NULL, sku_id TEXT NOT NULL, disabled_plans TEXT NOT NULL,
  PRIMARY KEY (user_id, sku_id));
CREATE INDEX IF NOT EXISTS licenses_by_sku ON licenses (sku_id);
CREATE TABLE IF NOT EXISTS role_assignments (
  id TEXT PRIMARY KEY, role_definition_id TEXT NOT NULL, principal_id TEXT NOT NULL,
  scope TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS role_assignments_by_principal ON role_assignments (principal_id);
CREATE TABLE IF NOT EXISTS blobs (owner TEXT NOT NULL, name TEXT NOT NULL,
  content_type TEXT, data BLOB, PRIMARY KEY (owner, name));
CREATE TABLE IF NOT EXISTS items (
  owner TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL,
  PRIMARY KEY (owner, kind, id));
CREATE TABLE IF NOT EXISTS audits (seq INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL);
"""


class Store:
    """One SQLite database; every call is serialised by one lock (the emulator is small)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self.lock = threading.RLock()
        # Replication lag: id -> (when written, kind, the object before that write or None).
        self.keep_history = False
        self.history: dict[str, tuple[float, str, dict[str, Any] | None]] = {}
        self.created_at: dict[str, float] = {}  # id -> when it was created (lag window only)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.lock:
            self.db.execute("BEGIN")
            try:
                yield
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    # meta ---------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def next_seq(self) -> int:
        seq = int(self.get_meta("seq", "0") or 0) + 1
        self.set_meta("seq", str(seq))
        return seq

    @property
    def seq(self) -> int:
        return int(self.get_meta("seq", "0") or 0)

    # directory objects ---------------------------------------------------------------------
    def put_object(self, kind: str, data: dict[str, Any], created: float | None = None) -> None:
        data.setdefault("id", str(uuid.uuid4()))
        seq = self.next_seq()
        old = self.db.execute("SELECT created, data FROM objects WHERE id=?",
                              (data["id"],)).fetchone()
        if self.keep_history:
            self._remember(data["id"], kind, json.loads(old[1]) if old else None)
        self.db.execute(
            "INSERT OR REPLACE INTO objects (id, kind, data, deleted_at, seq, created) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (data["id"], kind, json.dumps(data), data.get("deletedDateTime"), seq,
             created if created is not None else (old[0] if old else 0)),
        )
        if kind == "user":
            self.db.execute("DELETE FROM upns WHERE id=?", (data["id"],))
            if not data.get("deletedDateTime"):
                self.db.execute("INSERT OR REPLACE INTO upns VALUES (?, ?)",
                                (data["userPrincipalName"].lower(), data["id"]))

    def get_object(self, object_id: str, kind: str | None = None,
                   deleted: bool = False) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT kind, data, deleted_at FROM objects WHERE id=?", (object_id,)
        ).fetchone()
        if row is None or (kind and row[0] != kind) or (bool(row[2]) != deleted):
            return None
        data = json.loads(row[1])
        if data.get("@purged"):
            return None
        data["@kind"] = row[0]
        return data

    def purge_object(self, object_id: str) -> None:
        """A permanent delete: a tombstone delta reports as `@removed: deleted`."""
        row = self.db.execute("SELECT kind FROM objects WHERE id=?", (object_id,)).fetchone()
        if row is None:
            return
        tombstone = {"id": object_id, "@purged": True, "deletedDateTime": "purged"}
        self.put_object(row[0], tombstone)
        self.db.execute("DELETE FROM members WHERE group_id=? OR member_id=?",
                        (object_id, object_id))
        self.db.execute("DELETE FROM managers WHERE user_id=? OR manager_id=?",
                        (object_id, object_id))
        self.db.execute("DELETE FROM licenses WHERE user_id=?", (object_id,))
        self.db.execute("DELETE FROM role_assignments WHERE principal_id=?", (object_id,))

    def _remember(self, object_id: str, kind: str, before: dict[str, Any] | None) -> None:
        now = time.time()
        if before is None and object_id not in self.history:
            self.created_at[object_id] = now
        if object_id in self.history and now - self.history[object_id][0] < 60:
            before = self.history[object_id][2]  # writes in quick succession: the oldest
        self.history[object_id] = (now, kind, before)
        if len(self.history) > 10_000:  # forget writes older than any lag worth modelling
            self.history = {k: v for k, v in self.history.items() if now - v[0] < 60}
            self.created_at = {k: v for k, v in self.created_at.items() if now - v < 60}

    def written_at(self, object_id: str) -> float:
        """When the object was last written (0 when not within the history kept)."""
        found = self.history.get(object_id)
        return found[0] if found else 0.0

    def previous_version(self, object_id: str, deleted: bool = False) -> dict[str, Any] | None:
        """The object before its last write, as get_object returns it (None if it was new)."""
        found = self.history.get(object_id)
        if found is None or found[2] is None or \
                bool(found[2].get("deletedDateTime")) != deleted:
            return None
        return {**found[2], "@kind": found[1]}

    def just_created(self, object_id: str, within: float) -> bool:
        """Created less than `within` seconds ago (a later update does not make it new)."""
        found = self.history.get(object_id)
        return found is not None and found[2] is None and \
            time.time() - self.created_at.get(object_id, 0.0) < within

    def recently_written(self, kind: str, since: float) -> dict[str, dict[str, Any] | None]:
        """{id: the object before its write} for objects of `kind` written after `since`."""
        return {object_id: before for object_id, (at, found_kind, before) in
                list(self.history.items()) if found_kind == kind and at >= since}

    def count_objects(self, kind: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM objects WHERE kind=? AND deleted_at IS NULL",
                               (kind,)).fetchone()[0]

    def user_id_by_upn(self, upn: str) -> str | None:
        row = self.db.execute("SELECT id FROM upns WHERE upn=?", (upn.lower(),)).fetchone()
        return row[0] if row else None

    def list_objects(self, kind: str, after: str = "", limit: int = 100,
                     deleted: bool = False) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT data FROM objects WHERE kind=? AND id>? AND (deleted_at IS NOT NULL)=? "
            "ORDER BY id LIMIT ?", (kind, after, deleted, limit),
        ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def all_objects(self, kind: str, deleted: bool = False) -> Iterator[dict[str, Any]]:
        for (data,) in self.db.execute(
            "SELECT data FROM objects WHERE kind=? AND (deleted_at IS NOT NULL)=? ORDER BY id",
            (kind, deleted),
        ).fetchall():
            found = json.loads(data)
            if not found.get("@purged"):
                yield found

    def changed_since(self, kind: str, seq: int, after: str, limit: int) -> list[tuple]:
        """(id, data, deleted_at, seq) of objects of `kind` written after `seq`."""
        return self.db.execute(
            "SELECT id, data, deleted_at, seq FROM objects WHERE kind=? AND seq>? AND id>? "
            "ORDER BY id LIMIT ?", (kind, seq, after, limit),
        ).fetchall()

    # relations -----------------------------------------------------------------------------
    def members_of(self, group_id: str, after: str = "", limit: int = 1_000_000) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT member_id FROM members WHERE group_id=? AND member_id>? "
            "ORDER BY member_id LIMIT ?", (group_id, after, limit))]

    def groups_of(self, member_id: str) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT group_id FROM members WHERE member_id=? ORDER BY group_id", (member_id,))]

    def is_member(self, group_id: str, member_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM members WHERE group_id=? AND member_id=?",
                               (group_id, member_id)).fetchone() is not None

    def set_member(self, group_id: str, member_id: str, present: bool) -> None:
        if present:
            self.db.execute("INSERT OR IGNORE INTO members VALUES (?, ?)", (group_id, member_id))
        else:
            self.db.execute("DELETE FROM members WHERE group_id=? AND member_id=?",
                            (group_id, member_id))
        self.db.execute("INSERT INTO member_log VALUES (?, ?, ?, ?)",
                        (self.next_seq(), group_id, member_id, 0 if present else 1))

    def member_changes(self, group_id: str, since: int) -> list[tuple[str, bool]]:
        rows = self.db.execute(
            "SELECT member_id, removed FROM member_log WHERE group_id=? AND seq>? ORDER BY seq",
            (group_id, since)).fetchall()
        last: dict[str, bool] = {}
        for member_id, removed in rows:
            last[member_id] = bool(removed)
        return sorted(last.items())

    def groups_with_member_changes(self, since: int) -> set[str]:
        return {r[0] for r in self.db.execute(
            "SELECT DISTINCT group_id FROM member_log WHERE seq>?", (since,))}

    def manager_of(self, user_id: str) -> str | None:
        row = self.db.execute("SELECT manager_id FROM managers WHERE user_id=?",
                              (user_id,)).fetchone()
        return row[0] if row else None

    def managers_of(self, user_ids: Iterable[str]) -> dict[str, str]:
        ids = list(user_ids)
        found: dict[str, str] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(self.db.execute(
                f"SELECT user_id, manager_id FROM managers WHERE user_id IN ({marks})", chunk))
        return found

    def reports_of(self, manager_id: str) -> list[str]:
        """The users whose manager is `manager_id` (directReports)."""
        return [r[0] for r in self.db.execute(
            "SELECT user_id FROM managers WHERE manager_id=? ORDER BY user_id", (manager_id,))]

    def touch(self, object_id: str) -> None:
        """A change held outside the object's row (manager, licenses) shows in delta."""
        self.db.execute("UPDATE objects SET seq=? WHERE id=?", (self.next_seq(), object_id))

    def set_manager(self, user_id: str, manager_id: str | None) -> None:
        self.touch(user_id)
        if manager_id is None:
            self.db.execute("DELETE FROM managers WHERE user_id=?", (user_id,))
        else:
            self.db.execute("INSERT OR REPLACE INTO managers VALUES (?, ?)", (user_id, manager_id))

    # licenses ------------------------------------------------------------------------------
    def licenses_of(self, user_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        ids = list(user_ids)
        found: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for user_id, sku_id, plans in self.db.execute(
                f"SELECT user_id, sku_id, disabled_plans FROM licenses WHERE user_id IN ({marks})"
                " ORDER BY sku_id", chunk,
            ):
                found[user_id].append({"disabledPlans": json.loads(plans), "skuId": sku_id})
        return found

    def set_license(self, user_id: str, sku_id: str, disabled_plans: list[str] | None) -> None:
        self.touch(user_id)
        if disabled_plans is None:
            self.db.execute("DELETE FROM licenses WHERE user_id=? AND sku_id=?", (user_id, sku_id))
        else:
            self.db.execute("INSERT OR REPLACE INTO licenses VALUES (?, ?, ?)",
                            (user_id, sku_id, json.dumps(disabled_plans)))

    def consumed_units(self, sku_id: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM licenses WHERE sku_id=?",
                               (sku_id,)).fetchone()[0]

    # role assignments ----------------------------------------------------------------------
    def role_assignments(self, principal_id: str | None = None,
                         role_definition_id: str | None = None) -> list[dict[str, str]]:
        sql, args = "SELECT id, role_definition_id, principal_id, scope FROM role_assignments", []
        clauses = []
        if principal_id:
            clauses.append("principal_id=?")
            args.append(principal_id)
        if role_definition_id:
            clauses.append("role_definition_id=?")
            args.append(role_definition_id)
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        return [
            {"id": i, "roleDefinitionId": r, "principalId": p, "directoryScopeId": s,
             "resourceScope": s}
            for i, r, p, s in self.db.execute(sql + " ORDER BY id", args)
        ]

    def add_role_assignment(self, assignment: dict[str, str]) -> None:
        self.db.execute("INSERT INTO role_assignments VALUES (?, ?, ?, ?)", (
            assignment["id"], assignment["roleDefinitionId"], assignment["principalId"],
            assignment["directoryScopeId"]))

    def delete_role_assignment(self, assignment_id: str) -> bool:
        return self.db.execute("DELETE FROM role_assignments WHERE id=?",
                               (assignment_id,)).rowcount > 0

    # per-owner items (calendar permissions, phone methods, extensions...) and blobs ----------
    def items(self, owner: str, kind: str) -> list[dict[str, Any]]:
        return [json.loads(r[0]) for r in self.db.execute(
            "SELECT data FROM items WHERE owner=? AND kind=? ORDER BY rowid", (owner, kind))]

    def item(self, owner: str, kind: str, item_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT data FROM items WHERE owner=? AND kind=? AND id=?",
                              (owner, kind, item_id)).fetchone()
        return json.loads(row[0]) if row else None

    def put_item(self, owner: str, kind: str, item_id: str, data: dict[str, Any]) -> None:
        updated = self.db.execute("UPDATE items SET data=? WHERE owner=? AND kind=? AND id=?",
                                  (json.dumps(data), owner, kind, item_id)).rowcount
        if not updated:
            self.db.execute("INSERT INTO items VALUES (?, ?, ?, ?)",
                            (owner, kind, item_id, json.dumps(data)))

    def delete_item(self, owner: str, kind: str, item_id: str) -> bool:
        return self.db.execute("DELETE FROM items WHERE owner=? AND kind=? AND id=?",
                               (owner, kind, item_id)).rowcount > 0

    def item_owners(self, kind: str, item_id: str) -> list[str]:
        """The owners holding an item `item_id` of `kind` (a user's owned groups)."""
        return [r[0] for r in self.db.execute(
            "SELECT owner FROM items WHERE kind=? AND id=? ORDER BY owner", (kind, item_id))]

    def blob(self, owner: str, name: str) -> tuple[str, bytes] | None:
        row = self.db.execute("SELECT content_type, data FROM blobs WHERE owner=? AND name=?",
                              (owner, name)).fetchone()
        return (row[0], bytes(row[1])) if row else None

    def put_blob(self, owner: str, name: str, content_type: str, data: bytes | None) -> None:
        if data is None:
            self.db.execute("DELETE FROM blobs WHERE owner=? AND name=?", (owner, name))
        else:
            self.db.execute("INSERT OR REPLACE INTO blobs VALUES (?, ?, ?, ?)",
                            (owner, name, content_type, data))

    # audit ---------------------------------------------------------------------------------
    def add_audit(self, record: dict[str, Any]) -> None:
        self.db.execute("INSERT INTO audits (data) VALUES (?)", (json.dumps(record),))

    def audits(self) -> list[dict[str, Any]]:
        return [json.loads(r[0]) for r in self.db.execute("SELECT data FROM audits ORDER BY seq")]
