"""A real HTTP server on 127.0.0.1 for tests that download: each path maps to a canned reply.

    with LocalServer() as server:
        server.routes["/sde.sqlite.bz2"] = serve_bytes(data)
        requests.get(server.url("/sde.sqlite.bz2"))

A reply is a function of the request handler; the helpers below cover a normal body, an error
status, a connection that closes mid-body and a server that stalls. Stalls end when the server
stops, so tearing it down never waits for them.
"""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Reply = Callable[[BaseHTTPRequestHandler], None]


class LocalServer:
    def __init__(self) -> None:
        self.routes: dict[str, Reply] = {}
        self.requests: list[str] = []
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server.requests.append(self.path)
                reply = server.routes.get(self.path.split("?")[0])
                if reply is None:
                    send_status(self, 404)
                else:
                    reply(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> LocalServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that give up (timeouts, cut-off replies) reset their connection: expected.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def closed_port_url(path: str = "/sqlite-latest.sqlite.bz2") -> str:
    """A URL on a local port that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def send_status(handler: BaseHTTPRequestHandler, status: int) -> None:
    body = f"{status}\n".encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "text/plain")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def serve_status(status: int) -> Reply:
    return lambda handler: send_status(handler, status)


def serve_bytes(
    data: bytes | Callable[[], bytes],
    *,
    content_type: str = "application/octet-stream",
    headers: dict[str, str] | None = None,
) -> Reply:
    """A 200 with `data` (or what the callable returns, read per request) and its length."""

    def reply(handler: BaseHTTPRequestHandler) -> None:
        body = data() if callable(data) else data
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    return reply


def serve_file(path: Path, **kwargs: Any) -> Reply:
    return serve_bytes(path.read_bytes, **kwargs)


def serve_cut_off(data: bytes, keep: int) -> Reply:
    """Announce all of `data` in Content-Length, send only `keep` bytes, then close."""

    def reply(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data[:keep])
        handler.wfile.flush()
        handler.close_connection = True
        handler.connection.shutdown(socket.SHUT_RDWR)

    return reply


def serve_stalled(server: LocalServer, *, after_headers: bytes | None = None) -> Reply:
    """Hang until the server stops: before the status line, or after the headers and
    `after_headers` (the start of a body announced as much longer)."""

    def reply(handler: BaseHTTPRequestHandler) -> None:
        if after_headers is not None:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/octet-stream")
            handler.send_header("Content-Length", str(len(after_headers) + 1_000_000))
            handler.end_headers()
            handler.wfile.write(after_headers)
            handler.wfile.flush()
        server.stopping.wait(30)
        handler.close_connection = True

    return reply
