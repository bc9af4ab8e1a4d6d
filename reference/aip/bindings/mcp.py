"""The MCP binding (spec/bindings.md, AIP-MCP-*) for servers built with the ``mcp`` SDK.

Every ``tools/call`` is verified against the tool name and arguments it carries:

* over streamable HTTP, :class:`AIPToolGuard` (ASGI) reads the token from ``Authorization: AIP``
  or ``X-AIP-Token`` and the proof from ``X-AIP-Proof``, and answers a failure with the
  registry's HTTP status and a JSON-RPC error whose ``data.code`` is the AIP code;
* over stdio, :class:`AIPServerMiddleware` reads them from ``params._meta["aip/token"]`` and
  ``params._meta["aip/proof"]`` and answers a failure with the JSON-RPC error.

The tool sees the verified call through :func:`current_call` (a context variable). When the
verifier holds the server's ``signing_key``, every result carries the call's signed completion
record in ``_meta["aip/completion"]`` (AIP-MCP-040..043): ``{"receipt": ...}`` in compact mode,
``{"token": <completed chain>}`` in chained mode, with status ``failed`` for an ``isError``
result and ``completed`` otherwise (``partial`` when the tool says so through
:func:`~aip.bindings.report_completion`, which also carries usage and cost). A ``completion``
hook replaces that record (:data:`CompletionHook`).

Server::

    server = Server("tools", on_call_tool=..., on_list_tools=...)
    app = streamable_http_app(server, verifier)          # uvicorn.run(app, ...)
    # or, for stdio:
    install(server, verifier)                            # then server.run(...) on stdio streams

Client::

    auth = AIPMcpAuth(CompactSigner(token, key), audience=SERVER_ID)
    httpx2.AsyncClient(auth=auth)                        # ... session.call_tool(name, args)
    record = auth.verify_result(result, resolver=resolver)   # the completion record (AIP-MCP-044)
    # stdio: meta = stdio_meta(signer, SERVER_ID, name, args); session.call_tool(..., meta=meta)
    #        verify_tool_result(result, credentials_of(meta), resolver=resolver)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import httpx2
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.shared.exceptions import MCPError

from .._completion_wire import result_digest_mcp
from .._errors import AIPError
from .._json import loads_strict
from .._proof import Invocation
from .._resolver import Resolver
from .._time import DEFAULT_SKEW
from ._asgi import SCOPE_KEY, ASGIApp, Receive, Scope, Send, read_body, replay_receive, send_error, store_call
from ._core import (
    AUTH_SCHEME,
    MAX_BODY_BYTES,
    BindingVerifier,
    CallSigner,
    CompletionReport,
    Credentials,
    SentLog,
    VerifiedCall,
    collect_report,
    current_call,
    request_credentials,
    reset_report,
    safe_error,
    sign_completion,
    verify_completion,
)

if TYPE_CHECKING:
    from .._audit import AuditRecord

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
    "completion_of",
    "credentials_of",
    "default_completion",
    "install",
    "result_digest",
    "stdio_meta",
    "streamable_http_app",
    "tool_invocation",
    "verify_tool_result",
]

_log = logging.getLogger("aip.bindings")
OPERATION = "tools/call"
META_TOKEN = "aip/token"  # noqa: S105 (a _meta key)
META_PROOF = "aip/proof"
META_COMPLETION = "aip/completion"
EXTENSION_ID = "dev.aip/identity"

CompletionHook = Callable[[VerifiedCall, HandlerResult], Mapping[str, Any] | None]
"""Customisation: called with the verified call and the tool's result (the wire-form dict); the
mapping it returns (None: no record) is placed in the result's ``_meta["aip/completion"]``
(AIP-MCP-040) instead of the default signed record. A hook can build on
:func:`default_completion` or :meth:`~aip.bindings.BindingVerifier.complete`."""


def _result_json(result: HandlerResult) -> dict[str, Any]:
    if result is None:
        return {}
    if isinstance(result, Mapping):
        return dict(result)
    dumped: dict[str, Any] = result.model_dump(by_alias=True, mode="json", exclude_unset=True)
    return dumped


def result_digest(result: Any) -> str:
    """The result digest of a ``CallToolResult`` (AIP-CMP-031): the wire-form object without its
    top-level ``_meta``. Takes the JSON-RPC ``result`` object, or the ``mcp`` SDK's parsed
    ``CallToolResult`` (its fields as received)."""
    return result_digest_mcp(_result_json(result))


def default_completion(verifier: BindingVerifier, call: VerifiedCall, result: HandlerResult, *,
                       report: CompletionReport | None = None,
                       elapsed_ms: int | None = None) -> dict[str, str] | None:
    """The record a server with a ``signing_key`` returns (AIP-MCP-041..043): status ``failed``
    when the result is an error (``isError``), else ``completed`` (or what the tool reported).
    None when the record cannot be made (logged; the result goes out without one)."""
    data = _result_json(result)
    status = "failed" if data.get("isError") is True else "completed"
    try:
        digest = result_digest_mcp(data)
    except AIPError as exc:  # e.g. a result over the digest's size limit: no record, logged
        _log.warning("no completion record for invocation %s: %s", call.jti, exc.code)
        return None
    return sign_completion(verifier, call, status=status, result_hash=digest,
                           report=report or CompletionReport(), elapsed_ms=elapsed_ms)


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
                invocation = tool_invocation(message.get("params"))
                token, proof = await request_credentials(scope.get("headers", ()), self.verifier)
                store_call(scope, await self.verifier.verify_async(token, proof, invocation))
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
            call = await anyio.to_thread.run_sync(self._verify, ctx)
        except Exception as exc:
            raise _mcp_error(safe_error(exc)) from None
        reset = current_call.set(call)
        report, collecting = collect_report()
        started = time.perf_counter()
        try:
            result = await call_next(ctx)
        finally:
            reset_report(collecting)
            current_call.reset(reset)
        record: Mapping[str, Any] | None = None
        if self.completion is not None:
            record = self.completion(call, result)
        elif self.verifier.signing_key is not None:
            record = default_completion(
                self.verifier, call, result, report=report,
                elapsed_ms=int((time.perf_counter() - started) * 1000))
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


def credentials_of(meta: Mapping[str, Any]) -> Credentials:
    """The credentials a :func:`stdio_meta` carries (to check the call's completion record)."""
    return Credentials(str(meta[META_TOKEN]), meta.get(META_PROOF))


def completion_of(result: Any) -> Mapping[str, Any] | None:
    """The completion record in a tool result's ``_meta["aip/completion"]``, if any."""
    data = _result_json(result)
    meta = data.get("_meta")
    record = meta.get(META_COMPLETION) if isinstance(meta, Mapping) else None
    return record if isinstance(record, Mapping) else None


def verify_tool_result(result: Any, sent: Credentials, *, resolver: Resolver,
                       now: int | None = None, skew: int = DEFAULT_SKEW,
                       require: bool = True) -> AuditRecord | None:
    """Check the completion record that came back with a ``tools/call`` result (AIP-MCP-044):
    audit verification against the credentials ``sent`` and the digest of ``result`` as
    received. Returns the audit record (:func:`aip.render_timeline` prints it)."""
    return verify_completion(completion_of(result), sent, result_hash=result_digest(result),
                             resolver=resolver, now=now, skew=skew, require=require)


class AIPMcpAuth(httpx2.Auth):
    """httpx2 auth for the ``mcp`` SDK's streamable HTTP client: each ``tools/call`` POST gets
    ``Authorization: AIP <token>`` and ``X-AIP-Proof``, bound to the call's name and arguments
    as sent. Other messages go out unchanged."""

    requires_request_body = True

    def __init__(self, signer: CallSigner, audience: str) -> None:
        self.signer = signer
        self.audience = audience
        self.sent = SentLog()  # the credentials of recent calls, to check completion records

    def verify_result(self, result: Any, *, resolver: Resolver, now: int | None = None,
                      skew: int = DEFAULT_SKEW) -> AuditRecord:
        """Check the completion record of a ``tools/call`` result made through this auth
        against the credentials it sent for that call (AIP-MCP-044); the audit record."""
        record = completion_of(result)
        if record is None:
            raise AIPError("aip_completion_invalid", "the result carries no completion record")
        sent = self.sent.find(record)
        if sent is None:
            raise AIPError("aip_completion_invalid", "the completion record completes no call "
                           "sent through this client")
        audit = verify_tool_result(result, sent, resolver=resolver, now=now, skew=skew)
        assert audit is not None
        return audit

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, Any, None]:
        if request.method == "POST" and request.content:
            message = loads_strict(request.content, code="aip_input_invalid",
                                   what="JSON-RPC message", max_bytes=MAX_BODY_BYTES)
            if isinstance(message, dict) and message.get("method") == OPERATION:
                creds = self.signer.credentials(tool_invocation(message.get("params")),
                                                self.audience)
                self.sent.add(creds)
                request.headers["Authorization"] = f"{AUTH_SCHEME} {creds.token}"
                if creds.proof is not None:
                    request.headers["X-AIP-Proof"] = creds.proof
        yield request
