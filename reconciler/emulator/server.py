"""`reconciler emulator serve`: the emulator over HTTP on loopback."""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from reconciler.emulator.app import DroppedConnection, Emulator
from reconciler.emulator.wire import Request

log = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    emulator: Emulator

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        url = f"http://{self.headers.get('Host', 'localhost')}{self.path}"
        try:
            response = self.emulator.handle(Request(self.command, url, headers, body))
        except DroppedConnection:
            self.close_connection = True
            self.connection.shutdown(2)  # hang up without a reply
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        log.debug("emulator: " + format, *args)


def make_server(emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A server bound to host:port (0 picks a free port); call serve_forever() to run it."""
    handler = type("Handler", (_Handler,), {"emulator": emulator})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def serve_in_background(
    emulator: Emulator, host: str = "127.0.0.1"
) -> tuple[str, ThreadingHTTPServer]:
    """Start a server on a free port in a daemon thread; returns (origin, server)."""
    server = make_server(emulator, host, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://{host}:{server.server_address[1]}", server
