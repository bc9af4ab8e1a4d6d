"""Shared fixtures: a real HTTPS server on loopback with a certificate from trustme."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import pytest
import trustme
from loopback_https import Route, serve_https


@dataclass
class HttpsServer:
    port: int
    ca: trustme.CA
    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    def client_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        self.ca.configure_trust(ctx)
        return ctx

    def serve_json(self, path: str, body: bytes, *, status: int = 200,
                   headers: dict[str, str] | None = None) -> None:
        def route(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(body)

        self.routes[path] = route


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def https_server(ca: trustme.CA) -> Iterator[HttpsServer]:
    routes: dict[str, Route] = {}
    hits: list[str] = []
    with serve_https(ca, ("localhost", "127.0.0.1"), routes, hits) as port:
        yield HttpsServer(port=port, ca=ca, routes=routes, hits=hits)
