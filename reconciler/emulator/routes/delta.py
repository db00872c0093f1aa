"""Emulated delta queries: /users/delta and /groups/delta with members@delta and manager@delta."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from reconciler.emulator import odata
from reconciler.emulator.routes.common import V1, served_user
from reconciler.emulator.rules import USER_DEFAULT_SELECT
from reconciler.emulator.wire import GraphError, Request, Response, Router

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

router = Router()


def _state(em: Emulator, request: Request) -> dict[str, Any]:
    if "$skiptoken" in request.query:
        return odata.decode_token(request.query["$skiptoken"])
    if "$deltatoken" in request.query:
        token = request.query["$deltatoken"]
        if token == "latest":
            return {"since": None, "latest": True}
        state = odata.decode_token(token, "$deltatoken")
        if "since" not in state:
            raise GraphError(400, "syncStateNotFound",
                             "The sync state could not be found or has expired.")
        return {"since": state["since"], "select": state.get("select"),
                "page": state.get("page", em.limits.delta_page)}
    fields = odata.select_fields(request)
    if request.query.get("$filter") and not request.query["$filter"].startswith("id eq"):
        raise odata.unsupported("Only 'id eq' filters are supported on delta queries.")
    return {"since": 0, "select": fields,
            "page": odata.preferred_page_size(request, em.limits.delta_page)}


def _finish(em: Emulator, request: Request, kind: str, items: list, state: dict,
            next_after: str | None) -> Response:
    body: dict[str, Any] = {"@odata.context": f"{request.origin}/v1.0/$metadata#{kind}"}
    path = f"/v1.0/{kind}/delta"
    if next_after is not None:
        token = odata.encode_token({**state, "after": next_after})
        body["@odata.nextLink"] = request.link(path, **{"$skiptoken": token})
    else:
        token = odata.encode_token({"since": state["top"], "select": state.get("select"),
                                    "page": state.get("page", em.limits.delta_page)})
        body["@odata.deltaLink"] = request.link(path, **{"$deltatoken": token})
    body["value"] = items
    return Response.of_json(200, body)


@router.route("GET", V1 + "/users/delta")
def users_delta(em: Emulator, request: Request) -> Response:
    state = _state(em, request)
    state.setdefault("top", em.store.seq)
    if state.get("latest"):
        return _finish(em, request, "users", [], {"top": em.store.seq}, None)
    page = state.get("page", em.limits.delta_page)
    rows = em.store.changed_since("user", state["since"], state.get("after", ""), page + 1)
    more = len(rows) > page
    rows = rows[:page]
    fields = state.get("select")
    track_manager = bool(fields and "manager" in fields)
    plain = [f for f in fields if f != "manager"] if fields else None
    live = [json.loads(r[1]) for r in rows if not r[2]]
    licenses = em.store.licenses_of(u["id"] for u in live)
    managers = em.store.managers_of(u["id"] for u in live) if track_manager else {}
    items = []
    for object_id, data, deleted_at, seq in rows:
        if _lagging(em, state, object_id, seq):
            continue
        if deleted_at:
            items.append({"id": object_id, "@removed": {"reason": _removal(data)}})
            continue
        user = served_user(em, json.loads(data), licenses[object_id])
        item = odata.select(user, plain or None, USER_DEFAULT_SELECT if not plain else None)
        if track_manager:
            manager = managers.get(object_id)
            item["manager@delta"] = [{"@odata.type": "#microsoft.graph.user", "id": manager}] \
                if manager else []
        items.append(item)
    return _finish(em, request, "users", items, state, rows[-1][0] if more else None)


@router.route("GET", V1 + "/groups/delta")
def groups_delta(em: Emulator, request: Request) -> Response:
    state = _state(em, request)
    state.setdefault("top", em.store.seq)
    if state.get("latest"):
        return _finish(em, request, "groups", [], {"top": em.store.seq}, None)
    since = state["since"]
    fields = state.get("select")
    track_members = not fields or "members" in fields
    plain = [f for f in fields if f != "members"] if fields else None
    changed = {r[0]: r for r in em.store.changed_since("group", since, "", 10**9)}
    if since:
        for group_id in em.store.groups_with_member_changes(since):
            if group_id not in changed:
                row = em.store.db.execute("SELECT id, data, deleted_at, seq FROM objects "
                                          "WHERE id=?", (group_id,)).fetchone()
                if row:
                    changed[group_id] = row
    ordered = sorted(changed)
    after = state.get("after", "")
    cursor_group, _, cursor_member = after.partition("|")
    items: list[dict[str, Any]] = []
    budget = state.get("page", em.limits.delta_page)
    for group_id in ordered:
        if group_id < cursor_group:
            continue
        _id, data, deleted_at, seq = changed[group_id]
        if _lagging(em, state, group_id, seq):
            continue
        if deleted_at:
            if group_id != cursor_group:
                items.append({"id": group_id, "@removed": {"reason": _removal(data)}})
                budget -= 1
            continue
        group = json.loads(data)
        member_after = cursor_member if group_id == cursor_group else ""
        entry = odata.select(group, plain, None) if not member_after else {"id": group_id}
        if track_members:
            per_entry = em.limits.delta_members_per_entry
            if since:
                deltas = [(m, removed) for m, removed in em.store.member_changes(group_id, since)
                          if m > member_after]
            else:
                deltas = [(m, False) for m in em.store.members_of(group_id, member_after,
                                                                  per_entry + 1)]
            chunk = deltas[:per_entry]
            entry["members@delta"] = [_member_ref(em, m, removed) for m, removed in chunk]
            items.append(entry)
            budget -= 1
            if len(deltas) > per_entry:
                return _finish(em, request, "groups", items, state,
                               f"{group_id}|{chunk[-1][0]}")
        else:
            items.append(entry)
            budget -= 1
        if budget <= 0:
            following = next((g for g in ordered if g > group_id), None)
            if following:
                return _finish(em, request, "groups", items, state, following)
    return _finish(em, request, "groups", items, state, None)


def _removal(data: str) -> str:
    """`changed` for a soft delete (restorable), `deleted` once permanently deleted."""
    return "deleted" if json.loads(data).get("@purged") else "changed"


def _lagging(em: Emulator, state: dict[str, Any], object_id: str, seq: int) -> bool:
    """A change still replicating is left out of this round; the deltaLink then starts before
    it, so the next round brings it (delta may repeat an object, as Graph documents)."""
    if not em.lagging(object_id):
        return False
    state["top"] = min(state["top"], seq - 1)
    return True


def _member_ref(em: Emulator, member_id: str, removed: bool) -> dict[str, Any]:
    obj = em.store.get_object(member_id) or em.store.get_object(member_id, deleted=True)
    kind = (obj or {}).get("@kind", "user")
    ref: dict[str, Any] = {"@odata.type": f"#microsoft.graph.{kind}", "id": member_id}
    if removed:
        ref["@removed"] = {"reason": "deleted"}
    return ref
