"""The plain HTTP binding (spec/bindings.md, AIP-HTTP-*): an ASGI middleware for any
Starlette or FastAPI app, and an httpx auth that signs each request.

Server::

    app = Starlette(routes=[...])
    app = AIPMiddleware(app, verifier=BindingVerifier(resolver, audience=MY_ID))
    # in a handler: request.state.aip (a VerifiedCall) or aip.bindings.current_call.get()

A request's invocation is: operation = the HTTP method, tool = the route's tool name (by
default the path without its leading ``/``), arguments = ``{"body": <sha256 of the raw body>,
"query": <raw query string>}``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from typing import Any

import httpx

from .._errors import AIPError
from .._proof import Invocation
from ._asgi import ASGIApp, Receive, Scope, Send, read_body, replay_receive, send_error, store_call
from ._core import (
    AUTH_SCHEME,
    MAX_BODY_BYTES,
    BindingVerifier,
    CallSigner,
    current_call,
    http_arguments,
    request_credentials,
    safe_error,
)

__all__ = ["AIPHttpAuth", "AIPMiddleware", "http_invocation"]


def _default_tool(path: str) -> str:
    return path.lstrip("/")


def http_invocation(method: str, path: str, query: str, body: bytes,
                    tool_for: Callable[[str, str], str | None] | None = None) -> Invocation:
    """The invocation a plain HTTP request stands for (AIP-HTTP-020..022)."""
    tool = (tool_for or (lambda _m, p: _default_tool(p)))(method, path)
    if not tool:
        raise AIPError("aip_input_invalid", "this route has no tool name")
    return Invocation(operation=method.upper(), tool=tool, arguments=http_arguments(query, body))


class AIPMiddleware:
    """Pure ASGI middleware: verifies every HTTP request outside ``exempt`` paths.

    ``tool_for(method, path)`` names the tool a route stands for (None/empty: refused).
    Failures get the registry's status, a ``WWW-Authenticate: AIP`` challenge and the
    registry's JSON body; the app never sees a request that failed.
    """

    def __init__(self, app: ASGIApp, *, verifier: BindingVerifier,
                 tool_for: Callable[[str, str], str | None] | None = None,
                 exempt: Iterable[str] = (), max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.verifier = verifier
        self.tool_for = tool_for
        self.exempt = frozenset(exempt)
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.exempt:
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(receive, self.max_body)
            token, proof = await request_credentials(scope.get("headers", ()), self.verifier)
            query = scope.get("query_string", b"").decode("latin-1")
            invocation = http_invocation(scope["method"], scope["path"], query, body,
                                         self.tool_for)
            call = await self.verifier.verify_async(token, proof, invocation)
        except Exception as exc:
            await send_error(send, safe_error(exc), self.verifier.audience)
            return
        store_call(scope, call)
        reset = current_call.set(call)
        try:
            await self.app(scope, replay_receive(body, receive), send)
        finally:
            current_call.reset(reset)


class AIPHttpAuth(httpx.Auth):
    """httpx auth that attaches ``Authorization: AIP <token>`` and ``X-AIP-Proof`` to every
    request, each bound to that request's method, path, query and body."""

    requires_request_body = True

    def __init__(self, signer: CallSigner, audience: str,
                 tool_for: Callable[[str, str], str | None] | None = None) -> None:
        self.signer = signer
        self.audience = audience
        self.tool_for = tool_for

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, Any, None]:
        invocation = http_invocation(request.method, request.url.path or "/",
                                     request.url.query.decode("latin-1"), request.content,
                                     self.tool_for)
        creds = self.signer.credentials(invocation, self.audience)
        request.headers["Authorization"] = f"{AUTH_SCHEME} {creds.token}"
        if creds.proof is not None:
            request.headers["X-AIP-Proof"] = creds.proof
        yield request
