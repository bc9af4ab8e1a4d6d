"""Minimal ASGI plumbing shared by the HTTP, MCP and A2A guards (no framework needed)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .._errors import AIPError
from ._core import VerifiedCall, challenge, error_body, jsonrpc_error

__all__ = ["ASGIApp", "Message", "Receive", "Scope", "Send", "read_body", "replay_receive", "send_error",
           "send_json", "store_call"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SCOPE_KEY = "aip.call"


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body, refusing more than ``limit`` bytes (``aip_limit_exceeded``)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise AIPError("aip_input_invalid", "the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise AIPError("aip_limit_exceeded", f"request body is over {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay_receive(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields ``body`` once, then defers to the real one (disconnects)."""
    sent = False

    async def inner() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return inner


async def send_json(send: Send, status: int, body: bytes,
                    headers: list[tuple[bytes, bytes]] | None = None) -> None:
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
           *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def send_error(send: Send, err: AIPError, audience: str, *,
                     jsonrpc_id: Any = None, jsonrpc: bool = False) -> None:
    """The registry's status; a challenge on 401/403 (AIP-HTTP-007/008); the registry body,
    or a JSON-RPC error response carrying the AIP code (AIP-MCP-030)."""
    headers: list[tuple[bytes, bytes]] = [(b"cache-control", b"no-store")]
    if err.http_status in (401, 403):
        headers.append((b"www-authenticate", challenge(err, audience).encode("latin-1", "replace")))
    body = (json.dumps(jsonrpc_error(err, jsonrpc_id), separators=(",", ":")).encode()
            if jsonrpc else error_body(err))
    await send_json(send, err.http_status, body, headers)


def store_call(scope: Scope, call: VerifiedCall) -> None:
    """Make the verified call reachable from the request (``request.state.aip`` in Starlette,
    and ``scope["aip.call"]`` for code that only sees the ASGI scope)."""
    scope[SCOPE_KEY] = call
    state = scope.setdefault("state", {})
    if isinstance(state, MutableMapping):
        state["aip"] = call
