"""The plain HTTP binding (spec/bindings.md, AIP-HTTP-*): an ASGI middleware for any
Starlette or FastAPI app, and an httpx auth that signs each request.

Server::

    app = Starlette(routes=[...])
    app = AIPMiddleware(app, verifier=BindingVerifier(resolver, audience=MY_ID))
    # in a handler: request.state.aip (a VerifiedCall) or aip.bindings.current_call.get()

With the server's own key (``BindingVerifier(resolver, signing_key=key)``) the middleware is
the executor of every request it verifies: it holds back the response (up to ``max_response``
octets, 1 MiB by default), signs its completion record over the response's digest
(AIP-CMP-033) and sends it in the ``AIP-Completion`` header (AIP-HTTP-050..056):
``receipt=<receipt JWS>`` in compact mode, ``token=<completed chain>`` in chained mode, with
status ``failed`` for a 4xx/5xx response and ``completed`` otherwise (``partial`` when the
handler says so through :func:`~aip.bindings.report_completion`, which also carries usage and
cost). A longer or content-coded response goes out untouched, without a record.

Client::

    auth = AIPHttpAuth(CompactSigner(token, key), audience=SERVER_ID)
    with httpx.Client(auth=auth) as client:
        response = client.post(url, json={...})
    audit = auth.verify_response(response, resolver=resolver)   # AIP-HTTP-058

A request's invocation is: operation = the HTTP method, tool = the route's tool name (by
default the path without its leading ``/``), arguments = ``{"body": <sha256 of the raw body>,
"query": <raw query string>}``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Generator, Iterable
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import httpx

from .._completion_wire import result_digest_http
from .._errors import AIPError
from .._proof import Invocation
from .._resolver import Resolver
from .._time import DEFAULT_SKEW
from ._asgi import ASGIApp, Receive, Scope, Send, read_body, replay_receive, send_error, store_call
from ._core import (
    AUTH_SCHEME,
    MAX_BODY_BYTES,
    BindingVerifier,
    CallSigner,
    CompletionReport,
    Credentials,
    VerifiedCall,
    collect_report,
    current_call,
    http_arguments,
    read_credentials,
    request_credentials,
    reset_report,
    safe_error,
    sign_completion,
    verify_completion,
)
from ._http_completion import (
    HEADER_COMPLETION,
    MAX_COMPLETION_HEADER_BYTES,
    MAX_RESPONSE_BYTES,
    CompletionSender,
    completion_header_value,
    http_completion_status,
    parse_completion_header,
)

if TYPE_CHECKING:
    from .._audit import AuditRecord

__all__ = [
    "HEADER_COMPLETION",
    "MAX_COMPLETION_HEADER_BYTES",
    "MAX_RESPONSE_BYTES",
    "AIPHttpAuth",
    "AIPMiddleware",
    "completion_of_response",
    "http_invocation",
    "response_digest",
    "sent_credentials",
    "verify_http_response",
]

_log = logging.getLogger("aip.bindings")


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

    When the verifier holds a ``signing_key``, the response to every verified request carries
    its signed completion record in ``AIP-Completion`` when the body, held back up to
    ``max_response`` octets, can be hashed as sent (AIP-HTTP-050..056); the middleware then
    owns that header and drops one the application set. Without a key responses are untouched.
    """

    def __init__(self, app: ASGIApp, *, verifier: BindingVerifier,
                 tool_for: Callable[[str, str], str | None] | None = None,
                 exempt: Iterable[str] = (), max_body: int = MAX_BODY_BYTES,
                 max_response: int = MAX_RESPONSE_BYTES) -> None:
        self.app = app
        self.verifier = verifier
        self.tool_for = tool_for
        self.exempt = frozenset(exempt)
        self.max_body = max_body
        self.max_response = max_response

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
            if self.verifier.signing_key is None:
                await self.app(scope, replay_receive(body, receive), send)
            else:
                await self._serve_completed(call, scope, replay_receive(body, receive), send)
        finally:
            current_call.reset(reset)

    async def _serve_completed(self, call: VerifiedCall, scope: Scope, receive: Receive,
                               send: Send) -> None:
        """Run the app with its response held back, then send it with its record."""
        report, collecting = collect_report()
        started = time.perf_counter()

        async def sign(status: int, content_type: str, body: bytes) -> str | None:
            elapsed = int((time.perf_counter() - started) * 1000)
            return await anyio.to_thread.run_sync(
                self._record, call, status, content_type, body, report, elapsed)

        sender = CompletionSender(send, sign, limit=self.max_response,
                                  head=str(scope.get("method", "")).upper() == "HEAD")
        try:
            await self.app(scope, receive, sender)
        finally:
            reset_report(collecting)
        await sender.close()

    def _record(self, call: VerifiedCall, status: int, content_type: str, body: bytes,
                report: CompletionReport, elapsed_ms: int) -> str | None:
        """The ``AIP-Completion`` value of a response, or None (logged) when no correct record
        can be made: the response then goes out without one (AIP-HTTP-055, AIP-HTTP-056)."""
        try:
            digest = result_digest_http(status, content_type, body)
            mapped = http_completion_status(status, report.status)
            record = sign_completion(self.verifier, call, status=mapped, result_hash=digest,
                                     report=dataclasses.replace(report, status=mapped),
                                     elapsed_ms=elapsed_ms)
            value = completion_header_value(record) if record is not None else None
        except Exception as exc:  # the handler has run: its response goes out, without a record
            _log.warning("no completion record for invocation %s: %s", call.jti,
                         safe_error(exc).code)
            return None
        if value is None:
            return None
        if len(value) > MAX_COMPLETION_HEADER_BYTES:
            _log.warning("no completion record for invocation %s: the record is over %d "
                         "octets", call.jti, MAX_COMPLETION_HEADER_BYTES)
            return None
        return value


class AIPHttpAuth(httpx.Auth):
    """httpx auth that attaches ``Authorization: AIP <token>`` and ``X-AIP-Proof`` to every
    request, each bound to that request's method, path, query and body."""

    requires_request_body = True

    def __init__(self, signer: CallSigner, audience: str,
                 tool_for: Callable[[str, str], str | None] | None = None) -> None:
        self.signer = signer
        self.audience = audience
        self.tool_for = tool_for

    def verify_response(self, response: httpx.Response, *, resolver: Resolver,
                        now: int | None = None, skew: int = DEFAULT_SKEW) -> AuditRecord:
        """Check the ``AIP-Completion`` record of a response to a request made through this
        auth, against the credentials that request carried and the response as received
        (AIP-HTTP-058); the audit record. Raises :class:`~aip.AIPError` when there is no
        record or it does not verify."""
        audit = verify_http_response(response, resolver=resolver, now=now, skew=skew)
        assert audit is not None
        return audit

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, Any, None]:
        invocation = http_invocation(request.method, request.url.path or "/",
                                     request.url.query.decode("latin-1"), request.content,
                                     self.tool_for)
        creds = self.signer.credentials(invocation, self.audience)
        request.headers["Authorization"] = f"{AUTH_SCHEME} {creds.token}"
        if creds.proof is not None:
            request.headers["X-AIP-Proof"] = creds.proof
        yield request


# --- completion records, the client side --------------------------------------------------------

def completion_of_response(response: httpx.Response) -> dict[str, str] | None:
    """The completion record a response carries in ``AIP-Completion`` (``{"receipt": ...}`` or
    ``{"token": ...}``), None when it has none (AIP-HTTP-052, AIP-HTTP-058)."""
    return parse_completion_header(response.headers.get_list(HEADER_COMPLETION))


def response_digest(response: httpx.Response) -> str:
    """The result digest of a response as received (AIP-CMP-033): its status, Content-Type and
    body with the content coding removed (httpx removes it). The body must have been read."""
    try:
        body = response.content
    except httpx.ResponseNotRead:
        raise AIPError("aip_input_invalid", "read the response body before checking its "
                                            "completion record") from None
    return result_digest_http(response.status_code, response.headers.get("content-type"), body)


def sent_credentials(request: httpx.Request) -> Credentials:
    """The AIP credentials a request carried (its ``Authorization: AIP`` or ``X-AIP-Token``
    token and its ``X-AIP-Proof``)."""
    token, proof, _ = read_credentials(request.headers.raw)
    if token is None:
        raise AIPError("aip_completion_invalid", "the request carried no AIP token, so its "
                                                 "response completes no call")
    return Credentials(token, proof)


def verify_http_response(response: httpx.Response, sent: Credentials | None = None, *,
                         resolver: Resolver, now: int | None = None, skew: int = DEFAULT_SKEW,
                         require: bool = True) -> AuditRecord | None:
    """Check the completion record of a plain HTTP response (AIP-HTTP-058): audit verification
    against the credentials ``sent`` (by default those of ``response.request``) and the digest
    of the response as received, and a status that matches the response's (AIP-HTTP-054).

    Returns the audit record; raises :class:`~aip.AIPError` when the record does not verify, or
    is absent and ``require`` is true (returns None when absent otherwise).
    """
    try:
        record = completion_of_response(response)
        if record is None and not require:
            return None
        if sent is None:
            try:
                request = response.request
            except RuntimeError:
                raise AIPError("aip_completion_invalid", "the response has no request to "
                                                         "check its record against") from None
            sent = sent_credentials(request)
        audit = verify_completion(record, sent, result_hash=response_digest(response),
                                  resolver=resolver, now=now, skew=skew)
    except AIPError:
        raise
    except Exception:  # never a traceback: the record is what could not be processed
        raise AIPError("aip_completion_invalid", "the completion record could not be "
                                                 "processed") from None
    assert audit is not None and audit.completion is not None
    status = audit.completion.get("status")
    if (status == "failed") != (response.status_code >= 400):
        raise AIPError("aip_completion_invalid", f"a {response.status_code} response is not "
                                                 f"completed with status {status}")
    return audit
