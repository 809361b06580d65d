"""The HTTP serving the stand-ins share (`EsiStandIn`, `SsoStandIn`): a quiet threading server
on a daemon thread, started and stopped explicitly or used as a context manager.

    class MyStandIn(Served):
        def _handler(self) -> type[BaseHTTPRequestHandler]: ...

    with MyStandIn() as server:   # port 0: a free port, read back into `port` and `base_url`
        requests.get(server.base_url + "/...")
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client that hung up is not news."""


class Served:
    """`start()` serves `_handler()` on `host`:`port` with `server_class`; `stop()` ends it."""

    host: str
    port: int
    base_url: str
    server_class: type[QuietServer] = QuietServer
    _server: QuietServer | None = None
    _thread: threading.Thread | None = None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self) -> Self:
        self._server = self.server_class((self.host, self.port), self._handler())
        self.port = int(self._server.server_address[1])
        self.base_url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
