"""A real HTTPS server on loopback with a trustme certificate, for tests that need one.

Routes are looked up per request in ``routes`` (path -> handler) and every path asked for is
appended to ``hits``, so a test can assert what was (or was not) fetched.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import trustme

Route = Callable[[BaseHTTPRequestHandler], None]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that refuse our certificate or hang up mid-body are what several tests
        # provoke on purpose; socketserver would print their tracebacks to stderr.
        pass


@contextmanager
def serve_https(ca: trustme.CA, names: tuple[str, ...], routes: dict[str, Route],
                hits: list[str]) -> Iterator[int]:
    """Serve ``routes`` over HTTPS on 127.0.0.1 with a certificate for ``names``; yield the port."""
    cert = ca.issue_cert(*names)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            route = routes.get(self.path)
            if route is None:
                self.send_error(404)
                return
            route(self)

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

    httpd = _QuietServer(("127.0.0.1", 0), Handler)
    httpd.socket = server_ctx.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
