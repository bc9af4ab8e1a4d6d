"""A deliberately weak MCP server: like draft-01's proxy, it checks signatures only.

A compact token is accepted when its JWS signature verifies under the trusted issuer's key (the
algorithm, audience, expiry, scope, proof and replay are never looked at); a chained token is
accepted when its Biscuit signatures verify under the root key. It answers failures in the
right format, so the probes have to catch it by what it accepts, case by case.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import biscuit_auth
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from mcp import types
from mcp.server.lowlevel.server import Server

_B: Any = biscuit_auth


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature_ok(token: str, issuer_key: bytes) -> bool:
    try:
        if token.count(".") == 2:
            head, payload, sig = token.split(".")
            Ed25519PublicKey.from_public_bytes(issuer_key).verify(
                _b64(sig), f"{head}.{payload}".encode())
            return True
        root = _B.PublicKey.from_bytes(issuer_key, _B.Algorithm.Ed25519)
        _B.Biscuit.from_bytes(_b64(token), root)
        return True
    except (InvalidSignature, ValueError, Exception):
        return False


def weak_app(issuer_key: bytes, audience: str) -> Any:
    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[types.Tool(name="search", input_schema={"type": "object"})])

    async def call_tool(ctx: Any, params: Any) -> types.CallToolResult:
        return types.CallToolResult(content=[types.TextContent(type="text", text="weak ok")])

    server = Server("weak", on_list_tools=list_tools, on_call_tool=call_tool)
    inner = server.streamable_http_app()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await inner(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = json.loads(body or b"null")
        if isinstance(request, dict) and request.get("method") == "initialize":
            pass
        elif isinstance(request, dict) and request.get("method") == "tools/call":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            auth = headers.get("authorization", "")
            token = auth[4:] if auth.startswith("AIP ") else headers.get("x-aip-token")
            code = None
            if not token:
                code = "aip_token_missing"
            elif not _signature_ok(token, issuer_key):
                code = "aip_signature_invalid"
            if code is not None:
                out = json.dumps({"jsonrpc": "2.0", "id": request.get("id"), "error": {
                    "code": -32001, "message": "refused", "data": {"code": code}}}).encode()
                await send({"type": "http.response.start", "status": 401, "headers": [
                    (b"content-type", b"application/json"),
                    (b"www-authenticate", f'AIP realm="{audience}", error="{code}"'.encode())]})
                await send({"type": "http.response.body", "body": out})
                return
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await inner(scope, replay, send)

    return app
