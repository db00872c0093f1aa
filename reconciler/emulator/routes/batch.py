"""Emulated JSON batching ("Combine multiple HTTP requests using JSON batching" and its known
issues): at most 20 requests (limits.batch_max); `dependsOn` names requests of the same batch
and the batch is either fully parallel, fully sequential (a chain), or every dependent request
depends on the same one; a request whose dependency failed gets 424; in a parallel batch at
most 4 Outlook requests run per mailbox (limits.batch_mailbox_max), the others get 429."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from reconciler.emulator.throttle import outlook_mailbox, too_many_requests
from reconciler.emulator.wire import GraphError, Request, Response

if TYPE_CHECKING:
    from reconciler.emulator.app import Emulator

SHAPE = "Batch should be either fully sequential or fully parallel"


def _malformed(message: str) -> GraphError:
    return GraphError(400, "BadRequest", message)


def run_batch(em: Emulator, request: Request) -> Response:
    """POST /$batch: the outer reply is 200 whenever the batch parses."""
    em.faults.before(request, write=False)
    body = request.json()
    items = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise _malformed("Invalid batch payload format.")
    most = em.limits.batch_max
    if len(items) > most:
        raise _malformed(f"The number of batch requests exceeds the limit of {most}.")
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
    _check_shape(items)
    parallel = not any(item.get("dependsOn") for item in items)
    per_mailbox: dict[str, int] = {}
    status: dict[str, int] = {}
    responses: list[dict[str, Any]] = []
    for item in _in_dependency_order(items):
        mailbox = _mailbox(request, item) if parallel else None
        if mailbox is not None:
            per_mailbox[mailbox] = per_mailbox.get(mailbox, 0) + 1
        if mailbox is not None and per_mailbox[mailbox] > em.limits.batch_mailbox_max:
            error = too_many_requests(1, "ApplicationMailboxConcurrencyLimitExceeded",
                                      f"Mailbox/{mailbox}")
            response = {"id": str(item["id"]), "status": 429,
                        "headers": {"Retry-After": error.headers["Retry-After"]},
                        "body": error.response(request).json()}
        else:
            response = _run_one(em, request, item, status)
        status[str(item["id"])] = response["status"]
        responses.append(response)
    em.faults.after_commit(request)  # the whole reply can still be lost
    responses.reverse()  # Graph answers in any order; clients correlate by id
    reply = Response.of_json(200, {"responses": responses})
    reply.objects = sum(len(r["body"]["value"]) if isinstance(r.get("body"), dict) and
                        isinstance(r["body"].get("value"), list) else 1 for r in responses)
    return reply


def _check_shape(items: list[dict[str, Any]]) -> None:
    """Parallel, a chain, or every dependent request on the same one (the known issues)."""
    depends = {str(i["id"]): [str(d) for d in i.get("dependsOn") or []] for i in items}
    stated = [d for d in depends.values() if d]
    if not stated:
        return
    if any(len(d) > 1 for d in stated):
        raise _malformed(SHAPE)
    if len({d[0] for d in stated}) == 1:  # all on the same request
        return
    order = [str(i["id"]) for i in items]
    chain = all(depends[order[n]] == [order[n - 1]] for n in range(1, len(order))) and \
        not depends[order[0]]
    if not chain:
        raise _malformed(SHAPE)


def _mailbox(outer: Request, item: dict[str, Any]) -> str | None:
    url = "/v1.0/" + str(item.get("url", "")).lstrip("/")
    return outlook_mailbox(Request("GET", outer.origin + url, {}))


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
