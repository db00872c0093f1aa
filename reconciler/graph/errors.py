"""Errors from Graph and Exchange as values: status, code, message, request-id; no secrets."""

from __future__ import annotations

from typing import Any


class GraphError(Exception):
    """A Graph or Exchange error reply."""

    def __init__(self, status: int, code: str, message: str, *, request_id: str | None = None,
                 method: str = "", path: str = "") -> None:
        self.status, self.code, self.message = status, code, message
        self.request_id, self.method, self.path = request_id, method, path
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.method} {self.path}: " if self.method else ""
        rid = f" (request-id {self.request_id})" if self.request_id else ""
        return f"{where}{self.status} {self.code}: {self.message}{rid}"

    @classmethod
    def from_body(cls, status: int, body: Any, *, request_id: str | None = None,
                  method: str = "", path: str = "") -> GraphError:
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return cls(status, "UnknownError", f"HTTP {status}", request_id=request_id,
                       method=method, path=path)
        message = str(error.get("message") or "")
        details = error.get("details")
        if isinstance(details, list) and details and isinstance(details[0], dict):
            message = str(details[0].get("message") or message)  # Exchange's useful text
        inner = error.get("innerError") or error.get("innererror") or {}
        return cls(status, str(error.get("code") or "UnknownError"), message,
                   request_id=request_id or (inner.get("request-id") if isinstance(inner, dict)
                                             else None),
                   method=method, path=path)

    def says(self, fragment: str) -> bool:
        """Whether the message contains `fragment` (Graph's codes are coarse; messages decide)."""
        return fragment.lower() in self.message.lower()


class ReadOnlyError(RuntimeError):
    """A write was attempted through a read-only client (plan never writes)."""


class UnreachableError(RuntimeError):
    """The service could not be reached after every retry."""


class AuthError(RuntimeError):
    """Sign-in failed; the message names the cause and never the secret."""
