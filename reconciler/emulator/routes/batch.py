"""Emulated JSON batching: up to 20 requests, dependsOn, each answered on its own."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from reconciler.emulator.wire import GraphError, Request, Response

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

MAX_REQUESTS = 20


def _malformed(message: str) -> GraphError:
    return GraphError(400, "BadRequest", message)


def run_batch(em: Emulator, request: Request) -> Response:
    """POST /$batch: the outer reply is 200 whenever the batch parses."""
    em.faults.before(request, write=False)
    body = request.json()
    items = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise _malformed("Invalid batch payload format.")
    if len(items) > MAX_REQUESTS:
        raise _malformed(f"The number of batch requests exceeds the limit of {MAX_REQUESTS}.")
    ids = [str(item.get("id", "")) for item in items]
    if "" in ids or len(set(ids)) != len(ids):
        raise _malformed("Batch request ids must be present and unique.")
    for item in items:
        url = str(item.get("url", ""))
        if url.startswith("http"):
            raise _malformed("Invalid request URL: batch URLs are relative to the version.")
        for dependency in item.get("dependsOn") or []:
            if str(dependency) not in ids:
                raise _malformed(f"Request {item['id']} depends on unknown request {dependency}.")
    status: dict[str, int] = {}
    responses: list[dict[str, Any]] = []
    for item in _in_dependency_order(items):
        response = _run_one(em, request, item, status)
        status[str(item["id"])] = response["status"]
        responses.append(response)
    em.faults.after_commit(request)  # the whole reply can still be lost
    responses.reverse()  # Graph answers in any order; clients correlate by id
    return Response.of_json(200, {"responses": responses})


def _in_dependency_order(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    done: set[str] = set()
    ordered: list[dict[str, Any]] = []
    pending = list(items)
    while pending:
        ready = [i for i in pending if all(str(d) in done for d in i.get("dependsOn") or [])]
        if not ready:
            raise _malformed("Batch dependsOn contains a cycle.")
        for item in ready:
            ordered.append(item)
            done.add(str(item["id"]))
            pending.remove(item)
    return ordered


def _run_one(em: Emulator, outer: Request, item: dict[str, Any],
             status: dict[str, int]) -> dict[str, Any]:
    item_id = str(item["id"])
    failed = [d for d in item.get("dependsOn") or [] if not 200 <= status[str(d)] < 300]
    if failed:
        return {"id": item_id, "status": 424, "body": {"error": {
            "code": "FailedDependency",
            "message": f"The request depends on request {failed[0]}, which failed."}}}
    headers = {k.lower(): str(v) for k, v in (item.get("headers") or {}).items()}
    body = item.get("body")
    if body is not None and "content-type" not in headers:
        return {"id": item_id, "status": 400, "body": {"error": {
            "code": "BadRequest", "message": "Content-Type header is required for a body."}}}
    raw = b""
    if body is not None:
        if headers["content-type"].startswith("application/json"):
            raw = json.dumps(body).encode()
        else:
            raw = base64.b64decode(body)
    url = "/v1.0/" + str(item["url"]).lstrip("/")
    inner_headers = {**{k: v for k, v in outer.headers.items()
                        if k in ("authorization", "host", "x-forwarded-proto")}, **headers}
    inner = Request(str(item.get("method", "GET")).upper(), outer.origin + url, inner_headers,
                    raw, caller=outer.caller)
    try:
        response = em.dispatch(inner, inner=True)
    except GraphError as error:
        response = error.response(inner)
    out: dict[str, Any] = {"id": item_id, "status": response.status,
                           "headers": {k: v for k, v in response.headers.items()
                                       if k.lower() in ("content-type", "retry-after", "location",
                                                        "x-ms-resource-unit")}}
    if response.body:
        kind = response.headers.get("content-type", "")
        out["body"] = response.json() if "json" in kind else \
            base64.b64encode(response.body).decode()
    return out
