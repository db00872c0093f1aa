"""The emulated tenant: request in, response out; shared by the server and in-process mode."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.emulator import bodies, expand, identity, odata, paths
from reconciler.emulator.faults import Faults
from reconciler.emulator.limits import Limits
from reconciler.emulator.store import Store
from reconciler.emulator.throttle import Throttle
from reconciler.emulator.wire import (  # noqa: F401 - DroppedConnection re-exported
    DroppedConnection,
    GraphError,
    Request,
    Response,
    Router,
)

DEFAULT_TENANT_ID = "3f2b8c1e-5d4a-4e7b-9c1f-2a6d8e0b7c45"
# Writes that can change how many users the tenant has (its throttling size band).
_USER_COUNT = re.compile(r"^/v1\.0/(users|invitations|directory/deletedItems)(/|$)")


def _routes() -> Router:
    from reconciler.emulator.routes import build_router

    return build_router()


class Emulator:
    """A stand-in tenant: Graph, the Exchange admin API and the token endpoint on one origin."""

    def __init__(self, db: Path | str, *, seed: Path | dict | None = None,
                 anonymous: bool = False, faults: Faults | None = None,
                 tenant: dict[str, str] | None = None, limits: Limits | None = None) -> None:
        self.store = Store(db)
        self.anonymous = anonymous
        self.faults = faults or Faults()
        self.limits = limits or Limits.from_environment()
        self.router = _routes()
        self.stats: Counter[str] = Counter()
        self.stats_lock = threading.Lock()
        self.local = threading.local()  # per request thread: is this call a read?
        self.started = time.monotonic()
        if self.store.get_meta("initialised") is None:
            from reconciler.emulator.seed import load_seed

            with self.store.transaction():
                load_seed(self.store, seed, tenant or {})
                self.store.set_meta("initialised", "1")
        self.tenant_id = self.store.get_meta("tenantId") or DEFAULT_TENANT_ID
        self.signing_key = self.store.get_meta("signingKey") or ""
        self.throttle = Throttle(self.faults, self.limits, self.store.count_objects("user"))
        self.store.keep_history = self.lag > 0

    # clock ---------------------------------------------------------------------------------
    def now_text(self) -> str:
        return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    @property
    def lag(self) -> float:
        """Replication lag: an injected `lag=` fault, else the cost model's."""
        return self.faults.lag or self.limits.lag

    def lagging(self, object_id: str) -> bool:
        """True while the replica answering this call has not seen the object's last write
        (a create, an update or a delete): half the replicas catch up at once."""
        lag = self.lag
        if not lag:
            return False
        written = self.store.written_at(object_id)
        return bool(written) and time.time() - written < lag and self.faults.roll(0.5)

    def replica(self, obj: dict[str, Any] | None, object_id: str,
                deleted: bool = False) -> dict[str, Any] | None:
        """The object as the replica answering this call may still have it: a read sees it
        as it was before its last write (None for one just created); a write reaches the
        primary, where an object created a moment ago may not be found yet."""
        if not self.lagging(object_id):
            return obj
        if getattr(self.local, "reading", True):
            return self.store.previous_version(object_id, deleted)
        return None if self.store.just_created(object_id, self.lag) else obj

    def replica_list(self, kind: str, objects: list[dict[str, Any]],
                     deleted: bool = False) -> list[dict[str, Any]]:
        """A list as a lagging replica answers it: objects written within the lag window may
        be missing (just created), stale (just updated) or still there (just deleted)."""
        if not self.lag:
            return objects
        recent = self.store.recently_written(kind, time.time() - self.lag)
        if not recent:
            return objects
        out = []
        seen = set()
        for obj in objects:
            seen.add(obj["id"])
            if obj["id"] in recent and self.faults.roll(0.5):
                before = recent[obj["id"]]
                if before is not None and bool(before.get("deletedDateTime")) == deleted:
                    out.append(before)
                continue
            out.append(obj)
        for object_id, before in recent.items():  # written away from this list just now
            if object_id not in seen and before is not None and \
                    bool(before.get("deletedDateTime")) == deleted and self.faults.roll(0.5):
                out.append(before)
        return sorted(out, key=lambda o: o["id"])

    # the request pipeline ------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        """Answer one request (raises DroppedConnection for an injected hang-up)."""
        with self.stats_lock:
            self.stats["http"] += 1
        try:
            with self.throttle.mailbox_slot(request):
                response = self._handle(request)
                self._wait(response)
            return response
        except GraphError as error:
            return error.response(request)

    def _wait(self, response: Response) -> None:
        """The cost model's latency: a base per request and a share per object returned."""
        base = self.faults.latency or self.limits.latency
        seconds = base + self.limits.latency_per_object * response.objects
        if seconds > 0:
            with self.stats_lock:
                self.stats["latency_ms"] += round(seconds * 1000)
            time.sleep(seconds)

    def _handle(self, request: Request) -> Response:
        path = request.path
        if identity.handles(path):
            return identity.answer(self, request)
        if "/_api/" in path or path.endswith("/_api"):
            audience = "sharepoint"  # SharePoint REST: https://{host}/sites/{site}/_api/...
            request.path = path.lower()  # SharePoint's URLs are case-insensitive
        elif path.startswith("/adminapi/"):
            audience = "exchange"
        elif path.startswith(("/v1.0/", "/beta/")):
            audience = "graph"
        else:
            raise GraphError(404, "UnknownError", f"No route for {path}")
        if not self.anonymous:
            request.caller = identity.check_bearer(self, request, audience)
        if path == "/v1.0/$batch":
            from reconciler.emulator.routes.batch import run_batch

            return run_batch(self, request)
        return self.dispatch(request)

    def dispatch(self, request: Request, inner: bool = False) -> Response:
        """Route one (possibly batched) Graph or Exchange request, with faults applied."""
        with self.stats_lock:
            self.stats["graph"] += 1
        write = request.method in ("POST", "PATCH", "PUT", "DELETE")
        self.local.reading = not write
        self.faults.before(request, write, inner)  # 5xx, drops and random throttling
        cost, throttle_headers = self.throttle.charge(request, write)
        paths.normalise(request)
        found = self.router.match(request.method, request.path)
        if found is None:
            raise GraphError(400, "BadRequest",
                             f"Resource not found for the segment '{request.path.split('/')[-1]}'.")
        handler, params = found
        expansion = expand.prepare(request)
        bodies.check(request)
        with self.store.transaction():
            response = handler(self, request, **params)
            if expansion is not None:
                response = expand.apply(self, request, expansion, response)
        if request.count_segment and not response.headers.get(
                "content-type", "").startswith("text/plain") and response.status == 200:
            body = response.json() or {}  # a route without serve_collection: count its list
            if "@odata.nextLink" in body or not isinstance(body.get("value"), list):
                raise paths.segment_not_found("$count")
            response = odata.count_response(request, len(body["value"]))
        with self.stats_lock:
            self.stats["ru"] += cost
        response.headers.setdefault("x-ms-resource-unit", str(cost))
        for name, value in throttle_headers.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("request-id", request.request_id)
        if write and 200 <= response.status < 300:
            if request.method in ("POST", "DELETE") and _USER_COUNT.match(request.path):
                self.throttle.resize(self.store.count_objects("user"))
            self.faults.after_commit(request, inner)
        return response

    # audit ---------------------------------------------------------------------------------
    def audit(self, request: Request, activity: str, target: dict[str, Any],
              modified: dict[str, tuple[Any, Any]] | None = None, category: str = "UserManagement",
              service: str = "Core Directory") -> None:
        """Record an accepted write in auditLogs/directoryAudits, naming who made it."""
        caller = request.caller or {}
        app = {"appId": caller.get("appid", "00000000-0000-0000-0000-000000000000"),
               "displayName": caller.get("app_displayname", "anonymous emulator client"),
               "servicePrincipalId": caller.get("oid"), "servicePrincipalName": None}
        self.store.add_audit({
            "id": f"Directory_{uuid.uuid4()}",
            "category": category,
            "correlationId": request.headers.get("client-request-id", request.request_id),
            "result": "success",
            "resultReason": "",
            "activityDisplayName": activity,
            "activityDateTime": self.now_text(),
            "loggedByService": service,
            "operationType": activity.split(" ")[0].replace("Add", "Add").title(),
            "initiatedBy": {"user": None, "app": app},
            "targetResources": [{
                "id": target.get("id"),
                "displayName": target.get("displayName"),
                "type": target.get("type", "User"),
                "userPrincipalName": target.get("userPrincipalName"),
                "modifiedProperties": [
                    {"displayName": name, "oldValue": json.dumps(old), "newValue": json.dumps(new)}
                    for name, (old, new) in (modified or {}).items()
                ],
            }],
            "additionalDetails": [
                {"key": "request-id", "value": request.request_id},
                {"key": "client-request-id", "value": request.headers.get("client-request-id")},
            ],
        })
