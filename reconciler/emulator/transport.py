"""Carrying httpx requests to an emulator: in-process, or to a served one on loopback."""

from __future__ import annotations

import httpx

from reconciler.emulator.app import DroppedConnection, Emulator
from reconciler.emulator.wire import Request

# The real hosts a client and msal address; an emulator answers for all of them.
MICROSOFT_HOSTS = ("login.microsoftonline.com", "graph.microsoft.com", "outlook.office365.com")


class InProcessTransport(httpx.BaseTransport):
    """Hands each request straight to an Emulator object: no sockets, same wire format."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        emu_request = Request(request.method, str(request.url), headers, request.read())
        try:
            response = self.emulator.handle(emu_request)
        except DroppedConnection as exc:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request) from exc
        return httpx.Response(response.status, headers=response.headers, content=response.body,
                              request=request)


class RedirectingTransport(httpx.BaseTransport):
    """Sends Microsoft's hosts to an emulator origin, keeping the addressed Host header.

    msal only accepts https authorities, so the client keeps the real URLs and this
    transport moves them to `http://127.0.0.1:<port>`; the emulator builds its links from
    the Host and X-Forwarded-Proto it receives, so followed links come back here too.
    """

    def __init__(self, origin: str, inner: httpx.BaseTransport | None = None) -> None:
        self.origin = httpx.URL(origin)
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host in MICROSOFT_HOSTS or request.url.host.endswith(".sharepoint.com"):
            request.headers["X-Forwarded-Proto"] = request.url.scheme
            request.headers["Host"] = request.url.host
            request.url = request.url.copy_with(scheme=self.origin.scheme, host=self.origin.host,
                                                port=self.origin.port)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()
