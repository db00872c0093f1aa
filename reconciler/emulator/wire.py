"""Requests, responses and Graph-shaped errors as the emulator's routes see them."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

_LINK_SAFE = ",()=$:/'"


@dataclass
class Request:
    method: str
    url: str
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    caller: dict[str, Any] = field(default_factory=dict)  # token claims once checked

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        forwarded = self.headers.get("x-forwarded-proto")
        self.origin = f"{forwarded or parts.scheme}://{self.headers.get('host') or parts.netloc}"
        self.path = parts.path
        self.raw_query = parts.query
        self.query: dict[str, str] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            key = key.strip()  # system query options are case-insensitive ($orderBy)
            self.query[key.lower() if key.startswith("$") else key] = value.strip()
        self.request_id = str(uuid.uuid4())
        self.cast: str | None = None  # an OData cast segment, taken off the path (paths.py)
        self.count_segment = False  # a final /$count segment, taken off the path
        self.path_type: str | None = None  # the CSDL type the path addresses (paths.py)
        self.path_collection = True  # whether it addresses a collection of that type
        self.action: tuple[str, dict[str, Any]] | None = None  # a bound action and parameters

    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise GraphError(400, "BadRequest", "Unable to read JSON request payload. "
                             "Please ensure Content-Type header is set and payload is of "
                             "valid JSON format.") from exc

    def link(self, path: str, **query: str) -> str:
        """An absolute link on the origin the request was addressed to."""
        text = "&".join(f"{k}={quote(v, safe=_LINK_SAFE)}" for k, v in query.items())
        return f"{self.origin}{path}" + (f"?{text}" if text else "")


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    objects: int = 0  # objects in the reply, for the latency model

    @classmethod
    def of_json(cls, status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
        objects = len(data["value"]) if isinstance(data, dict) and isinstance(
            data.get("value"), list) else 1
        return cls(status, json.dumps(data).encode(),
                   {"content-type": "application/json;odata.metadata=minimal", **(headers or {})},
                   objects)

    @classmethod
    def empty(cls, status: int = 204) -> Response:
        return cls(status)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class GraphError(Exception):
    """A Graph-shaped error reply: status, error.code, message."""

    def __init__(self, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}

    def response(self, request: Request) -> Response:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        body = {"error": {"code": self.code, "message": self.message, "innerError": {
            "date": now, "request-id": request.request_id,
            "client-request-id": request.headers.get("client-request-id", request.request_id),
        }}}
        details = getattr(self, "details", None)
        if details:  # the Exchange admin API puts the useful text here
            body["error"]["details"] = [{"message": details}]
        return Response.of_json(self.status, body, self.headers)


def not_found(object_id: str) -> GraphError:
    return GraphError(404, "Request_ResourceNotFound",
                      f"Resource '{object_id}' does not exist or one of its queried "
                      "reference-property objects are not present.")


def bad_request(message: str, code: str = "Request_BadRequest") -> GraphError:
    return GraphError(400, code, message)


Handler = Callable[..., Response]


class Router:
    """Method + path pattern -> handler; `{name}` captures one path segment."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        regex = re.compile(
            "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern.replace("$", r"\$")) + "/?$"
        )

        def register(handler: Handler) -> Handler:
            self.routes.append((method, regex, handler))
            return handler

        return register

    def include(self, other: Router) -> None:
        self.routes.extend(other.routes)

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        """The route for `path`, literal segments beating `{captures}` (`/users/delta`)."""
        best: tuple[int, Handler, dict[str, str]] | None = None
        allowed = False
        for route_method, regex, handler in self.routes:
            found = regex.match(path)
            if not found:
                continue
            if route_method != method:
                allowed = True
                continue
            captures = len(found.groupdict())
            if best is None or captures < best[0]:
                best = (captures, handler, found.groupdict())
        if best is not None:
            return best[1], best[2]
        if allowed:
            raise GraphError(405, "Request_BadRequest",
                             f"The HTTP method '{method}' is not allowed for this resource.")
        return None


class DroppedConnection(Exception):  # noqa: N818 - it is an event, not an error of ours
    """The emulator hangs up without answering (fault injection)."""
