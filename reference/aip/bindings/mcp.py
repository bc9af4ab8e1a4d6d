"""The MCP binding (spec/bindings.md, AIP-MCP-*) for servers built with the ``mcp`` SDK.

Every ``tools/call`` is verified against the tool name and arguments it carries:

* over streamable HTTP, :class:`AIPToolGuard` (ASGI) reads the token from ``Authorization: AIP``
  or ``X-AIP-Token`` and the proof from ``X-AIP-Proof``, and answers a failure with the
  registry's HTTP status and a JSON-RPC error whose ``data.code`` is the AIP code;
* over stdio, :class:`AIPServerMiddleware` reads them from ``params._meta["aip/token"]`` and
  ``params._meta["aip/proof"]`` and answers a failure with the JSON-RPC error.

The tool sees the verified call through :func:`current_call` (a context variable), and the
result carries a completion record in ``_meta["aip/completion"]`` when a ``completion`` hook is
given (the record's format is issue 5's; see :data:`CompletionHook`).

Server::

    server = Server("tools", on_call_tool=..., on_list_tools=...)
    app = streamable_http_app(server, verifier)          # uvicorn.run(app, ...)
    # or, for stdio:
    install(server, verifier)                            # then server.run(...) on stdio streams

Client::

    httpx2.AsyncClient(auth=AIPMcpAuth(CompactSigner(token, key), audience=SERVER_ID))
    await session.call_tool(name, args, meta=stdio_meta(signer, SERVER_ID, name, args))  # stdio
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from typing import Any

import httpx2
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.shared.exceptions import MCPError

from .._errors import AIPError
from .._json import loads_strict
from .._proof import Invocation
from ._asgi import SCOPE_KEY, ASGIApp, Receive, Scope, Send, read_body, replay_receive, send_error, store_call
from ._core import (
    AUTH_SCHEME,
    MAX_BODY_BYTES,
    BindingVerifier,
    CallSigner,
    VerifiedCall,
    current_call,
    read_credentials,
    safe_error,
)

__all__ = [
    "EXTENSION_ID",
    "META_COMPLETION",
    "META_PROOF",
    "META_TOKEN",
    "OPERATION",
    "AIPMcpAuth",
    "AIPServerMiddleware",
    "AIPToolGuard",
    "CompletionHook",
    "install",
    "stdio_meta",
    "streamable_http_app",
    "tool_invocation",
]

OPERATION = "tools/call"
META_TOKEN = "aip/token"  # noqa: S105 (a _meta key)
META_PROOF = "aip/proof"
META_COMPLETION = "aip/completion"
EXTENSION_ID = "dev.aip/identity"

CompletionHook = Callable[[VerifiedCall, HandlerResult], Mapping[str, Any] | None]
"""ISSUE-5 HOOK: called with the verified call and the tool's result; the mapping it returns is
placed in the result's ``_meta["aip/completion"]`` (AIP-MCP-040). Completion records (signed by
the executor) are defined by issue 5; until then a hook may return any JSON object."""


def tool_invocation(params: Any) -> Invocation:
    """The invocation a ``tools/call`` stands for (AIP-MCP-010): its name and arguments."""
    if not isinstance(params, Mapping):
        raise AIPError("aip_input_invalid", "tools/call params are not an object")
    name = params.get("name")
    if not isinstance(name, str) or not name:
        raise AIPError("aip_input_invalid", "tools/call has no tool name")
    arguments = params.get("arguments")
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, Mapping):
        raise AIPError("aip_input_invalid", "tools/call arguments are not an object")
    return Invocation(operation=OPERATION, tool=name, arguments=arguments)


def _mcp_error(err: AIPError) -> MCPError:
    return MCPError(code=err.jsonrpc_code, message=err.reason, data={"code": err.code})


class AIPToolGuard:
    """ASGI guard in front of an MCP streamable HTTP app: verifies each ``tools/call`` POST."""

    def __init__(self, app: ASGIApp, verifier: BindingVerifier, *,
                 max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.verifier = verifier
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        request_id: Any = None
        try:
            body = await read_body(receive, self.max_body)
        except Exception as exc:
            await send_error(send, safe_error(exc), self.verifier.audience, jsonrpc=True)
            return
        try:
            message = loads_strict(body, code="aip_input_invalid", what="JSON-RPC message",
                                   max_bytes=self.max_body)
            if isinstance(message, list):
                if any(isinstance(m, dict) and m.get("method") == OPERATION for m in message):
                    raise AIPError("aip_input_invalid", "a batch cannot carry tools/call")
                message = None
            if isinstance(message, dict) and message.get("method") == OPERATION:
                request_id = message.get("id")
                if not isinstance(request_id, str | int) or isinstance(request_id, bool):
                    request_id = None
                token, proof, ref = read_credentials(scope.get("headers", ()))
                if token is None and ref:
                    raise AIPError("aip_token_missing", "token references are not accepted here")
                invocation = tool_invocation(message.get("params"))
                store_call(scope, self.verifier.verify(token, proof, invocation))
        except Exception as exc:
            await send_error(send, safe_error(exc), self.verifier.audience,
                             jsonrpc_id=request_id, jsonrpc=True)
            return
        await self.app(scope, replay_receive(body, receive), send)


class AIPServerMiddleware:
    """MCP ``ServerMiddleware``: binds each ``tools/call`` to a verified call.

    Over HTTP the call was verified by :class:`AIPToolGuard` (fail closed when it is absent);
    over stdio it is verified here from ``params._meta``.
    """

    def __init__(self, verifier: BindingVerifier, completion: CompletionHook | None = None) -> None:
        self.verifier = verifier
        self.completion = completion

    def _verify(self, ctx: ServerRequestContext[Any, Any]) -> VerifiedCall:
        request = ctx.request
        http_scope = getattr(request, "scope", None)
        if isinstance(http_scope, Mapping):
            call = http_scope.get(SCOPE_KEY)
            if not isinstance(call, VerifiedCall):
                raise AIPError("aip_token_missing", "no AIP token was verified for this call")
            return call
        params = ctx.params or {}
        meta = params.get("_meta") if isinstance(params, Mapping) else None
        meta = meta if isinstance(meta, Mapping) else {}
        token, proof = meta.get(META_TOKEN), meta.get(META_PROOF)
        if token is not None and not isinstance(token, str):
            raise AIPError("aip_token_malformed", f"_meta {META_TOKEN} is not a string")
        if proof is not None and not isinstance(proof, str):
            raise AIPError("aip_proof_invalid", f"_meta {META_PROOF} is not a string")
        return self.verifier.verify(token, proof, tool_invocation(params))

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "initialize":
            return _advertise(await call_next(ctx), self.verifier.advertisement())
        if ctx.method != OPERATION or ctx.request_id is None:
            return await call_next(ctx)
        try:
            call = self._verify(ctx)
        except Exception as exc:
            raise _mcp_error(safe_error(exc)) from None
        reset = current_call.set(call)
        try:
            result = await call_next(ctx)
        finally:
            current_call.reset(reset)
        if self.completion is not None:
            record = self.completion(call, result)
            if record is not None:
                result = _with_meta(result, {META_COMPLETION: dict(record)})
        return result


def _advertise(result: HandlerResult, advertisement: Mapping[str, Any]) -> HandlerResult:
    """Add the AIP entry to ``capabilities.experimental`` of an initialize result (AIP-MCP-050);
    handshake-era clients do not see ``capabilities.extensions``."""
    if result is None:
        return result
    data = result if isinstance(result, dict) else result.model_dump(by_alias=True, mode="json",
                                                                      exclude_none=True)
    caps = dict(data.get("capabilities") or {})
    experimental = dict(caps.get("experimental") or {})
    experimental[EXTENSION_ID] = dict(advertisement)
    caps["experimental"] = experimental
    return {**data, "capabilities": caps}


def _with_meta(result: HandlerResult, extra: Mapping[str, Any]) -> HandlerResult:
    if result is None:
        return {"_meta": dict(extra)}
    if isinstance(result, dict):
        meta = dict(result.get("_meta") or {})
        meta.update(extra)
        return {**result, "_meta": meta}
    current = getattr(result, "meta", None)
    meta = dict(current or {})
    meta.update(extra)
    return result.model_copy(update={"meta": meta})


def install(server: Server[Any], verifier: BindingVerifier,
            completion: CompletionHook | None = None) -> AIPServerMiddleware:
    """Make ``server`` verify every ``tools/call`` and advertise that it requires AIP
    (AIP-MCP-050: the ``dev.aip/identity`` entry of its capabilities' extensions)."""
    middleware = AIPServerMiddleware(verifier, completion)
    server.middleware.append(middleware)
    server.extensions[EXTENSION_ID] = verifier.advertisement()
    return middleware


def streamable_http_app(server: Server[Any], verifier: BindingVerifier, *,
                        completion: CompletionHook | None = None, **kwargs: Any) -> ASGIApp:
    """``server.streamable_http_app(**kwargs)`` behind :class:`AIPToolGuard`, with
    :func:`install` applied."""
    install(server, verifier, completion)
    return AIPToolGuard(server.streamable_http_app(**kwargs), verifier)


# --- the client side ----------------------------------------------------------------------------

def stdio_meta(signer: CallSigner, audience: str, name: str,
               arguments: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``_meta`` of a ``tools/call`` over stdio (AIP-MCP-002)."""
    creds = signer.credentials(Invocation(operation=OPERATION, tool=name,
                                          arguments=dict(arguments or {})), audience)
    meta: dict[str, Any] = {META_TOKEN: creds.token}
    if creds.proof is not None:
        meta[META_PROOF] = creds.proof
    return meta


class AIPMcpAuth(httpx2.Auth):
    """httpx2 auth for the ``mcp`` SDK's streamable HTTP client: each ``tools/call`` POST gets
    ``Authorization: AIP <token>`` and ``X-AIP-Proof``, bound to the call's name and arguments
    as sent. Other messages go out unchanged."""

    requires_request_body = True

    def __init__(self, signer: CallSigner, audience: str) -> None:
        self.signer = signer
        self.audience = audience

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, Any, None]:
        if request.method == "POST" and request.content:
            message = loads_strict(request.content, code="aip_input_invalid",
                                   what="JSON-RPC message", max_bytes=MAX_BODY_BYTES)
            if isinstance(message, dict) and message.get("method") == OPERATION:
                creds = self.signer.credentials(tool_invocation(message.get("params")),
                                                self.audience)
                request.headers["Authorization"] = f"{AUTH_SCHEME} {creds.token}"
                if creds.proof is not None:
                    request.headers["X-AIP-Proof"] = creds.proof
        yield request
