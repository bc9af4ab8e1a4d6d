"""The A2A binding (spec/bindings.md, AIP-A2A-*) for agents built with ``a2a-sdk``.

Server::

    card = with_aip_extension(card, verifier)            # capabilities.extensions
    routes = [*agent_card_routes(card, aip_identity={"id": MY_ID}),
              *create_jsonrpc_routes(handler, "/a2a", context_builder=AIPCallContextBuilder())]
    app = AIPAgentGuard(Starlette(routes=routes), verifier)
    # in the executor: verified_call(context), forwarded_delegation(context)

Every ``SendMessage``/``SendStreamingMessage`` is verified before the executor runs: operation =
the JSON-RPC method, tool = the skill in ``message.metadata.aip_skill``, arguments =
``{"parts": <message parts as received>}``. A chain delegated to this agent for onward calls
travels in ``message.metadata.aip_delegation`` and is verified too (AIP-A2A-020).

Completion records come from the executor's side, so that the stored task keeps them::

    handler = DefaultRequestHandler(agent_executor=AIPAgentExecutor(MyExecutor(), verifier), ...)

When the verifier holds the agent's ``signing_key``, every verified ``SendMessage`` and
``SendStreamingMessage`` whose task ends ``COMPLETED`` or ``FAILED`` with an artifact gets a
signed record in ``metadata.aip_completion`` of the task's last artifact, over
``result_digest_a2a`` of that artifact as assembled from its chunks (AIP-A2A-040..048); a stream
carries it in a last chunk of that artifact without parts, and ``GetTask`` returns the same
record. The executor may report usage and cost with :func:`~aip.bindings.report_completion`.
The caller checks it with :func:`verify_artifact` (a task it got whole) or
:func:`verify_stream` (a streamed task).
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx
from a2a.server.agent_execution.context import RequestContext
from a2a.server.context import ServerCallContext
from a2a.server.request_handlers.response_helpers import agent_card_to_dict
from a2a.server.routes.common import DefaultServerCallContextBuilder
from a2a.types.a2a_pb2 import AgentCard, AgentExtension
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .._chained import VerifiedChain, chain_delegate, verify_chain
from .._completion_wire import result_digest_a2a
from .._errors import AIPError
from .._json import loads_strict
from .._keys import SigningKey
from .._proof import Invocation
from .._resolver import Resolver
from .._time import DEFAULT_SKEW
from ._a2a_completion import AIPAgentExecutor, assemble_artifacts
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
    request_credentials,
    safe_error,
    sign_completion,
    verify_completion,
)

if TYPE_CHECKING:
    from .._audit import AuditRecord

__all__ = [
    "EXTENSION_URI",
    "METHODS",
    "AIPA2AAuth",
    "AIPAgentExecutor",
    "AIPAgentGuard",
    "AIPCallContextBuilder",
    "Forwarded",
    "agent_card_routes",
    "artifact_completion",
    "assemble_artifacts",
    "complete_response",
    "delegate_to",
    "forwarded_delegation",
    "message_invocation",
    "verified_call",
    "verify_artifact",
    "verify_stream",
    "with_aip_extension",
]

_log = logging.getLogger("aip.bindings")
EXTENSION_URI = "https://aip.dev/ext/identity/v1"
METHODS = frozenset({"SendMessage", "SendStreamingMessage", "message/send", "message/stream"})
META_TOKEN = "aip_token"  # noqa: S105 (a metadata key)
META_PROOF = "aip_proof"
META_SKILL = "aip_skill"
META_DELEGATION = "aip_delegation"
META_COMPLETION = "aip_completion"
_DELEGATION_KEY = "aip.delegation"


def with_aip_extension(card: AgentCard, verifier: BindingVerifier) -> AgentCard:
    """A copy of ``card`` declaring the AIP extension (AIP-A2A-001)."""
    out = AgentCard()
    out.CopyFrom(card)
    ad = verifier.advertisement()
    out.capabilities.extensions.append(AgentExtension(
        uri=EXTENSION_URI, description="Agent Identity Protocol: every message is verified",
        required=True, params={"audience": ad["audience"], "modes": ad["modes"]}))
    return out


def agent_card_routes(card: AgentCard, *, aip_identity: Mapping[str, str],
                      path: str = "/.well-known/agent-card.json") -> list[Route]:
    """The agent card route, with the draft-01 ``aip_identity`` member (AIP-A2A-002)."""
    body = agent_card_to_dict(card)
    body["aip_identity"] = dict(aip_identity)

    async def serve(request: Request) -> JSONResponse:
        return JSONResponse(body)

    return [Route(path, serve, methods=["GET"])]


def message_invocation(method: str, message: Any, skills: Sequence[str] = ()) -> Invocation:
    """The invocation a message stands for (AIP-A2A-011)."""
    if not isinstance(message, Mapping):
        raise AIPError("aip_input_invalid", "the request carries no message object")
    metadata = message.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise AIPError("aip_input_invalid", "message metadata is not an object")
    skill = metadata.get(META_SKILL)
    if skill is None and len(skills) == 1:
        skill = skills[0]
    if not isinstance(skill, str) or not skill:
        raise AIPError("aip_input_invalid", f"message metadata has no {META_SKILL}")
    parts = message.get("parts")
    if not isinstance(parts, list):
        raise AIPError("aip_input_invalid", "message parts are not an array")
    return Invocation(operation=method, tool=skill, arguments={"parts": parts})


class Forwarded:
    """A chain delegated to this agent by its caller, for the calls it makes next."""

    def __init__(self, token: str, chain: VerifiedChain) -> None:
        self.token = token
        self.chain = chain


def _check_forward(token: str, call: VerifiedCall, verifier: BindingVerifier) -> Forwarded:
    if call.chain is None:
        raise AIPError("aip_chain_invalid", "a delegation can only extend a chained token")
    chain = verify_chain(token, resolver=verifier.resolver, now=verifier.clock(),
                         skew=verifier.skew, revocation=verifier.revocation)
    if chain.invocation is not None:
        raise AIPError("aip_chain_invalid", "the forwarded delegation ends in an invocation")
    if chain.last_delegate != verifier.audience:
        raise AIPError("aip_chain_invalid", "the forwarded delegation is not addressed to this agent")
    prefix = call.chain.revocation_ids[:-1]  # every block before the caller's invocation
    if tuple(chain.revocation_ids[:len(prefix)]) != tuple(prefix) or len(chain.hops) <= len(call.chain.hops):
        raise AIPError("aip_chain_invalid", "the forwarded delegation does not extend the caller's chain")
    if chain.hops[-1].delegator != call.caller:
        raise AIPError("aip_chain_invalid", "the forwarded delegation is not signed by the caller")
    return Forwarded(token, chain)


class AIPAgentGuard:
    """ASGI guard in front of an A2A JSON-RPC app: verifies every message (AIP-A2A-012)."""

    def __init__(self, app: ASGIApp, verifier: BindingVerifier, *, skills: Sequence[str] = (),
                 max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.verifier = verifier
        self.skills = tuple(skills)
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        request_id: Any = None
        try:
            body = await read_body(receive, self.max_body)
            message = loads_strict(body, code="aip_input_invalid", what="JSON-RPC message",
                                   max_bytes=self.max_body)
            if isinstance(message, list):
                raise AIPError("aip_input_invalid", "JSON-RPC batches are not accepted")
            if isinstance(message, dict) and message.get("method") in METHODS:
                request_id = message.get("id")
                if not isinstance(request_id, str | int) or isinstance(request_id, bool):
                    request_id = None
                params = message.get("params")
                msg = params.get("message") if isinstance(params, Mapping) else None
                invocation = message_invocation(str(message["method"]), msg, self.skills)
                assert isinstance(msg, Mapping)
                metadata = msg.get("metadata") or {}
                # Headers, then the message metadata (draft-01), then a reference (AIP-A2A-010,
                # AIP-HTTP-030).
                token, proof = await request_credentials(
                    scope.get("headers", ()), self.verifier,
                    inline=lambda: (_opt_str(metadata, META_TOKEN), _opt_str(metadata, META_PROOF)))
                call = await self.verifier.verify_async(token, proof, invocation)
                forward = _opt_str(metadata, META_DELEGATION)
                if forward is not None:
                    scope[_DELEGATION_KEY] = _check_forward(forward, call, self.verifier)
                store_call(scope, call)
        except Exception as exc:
            await send_error(send, safe_error(exc), self.verifier.audience,
                             jsonrpc_id=request_id, jsonrpc=True)
            return
        # Completion records are added by AIPAgentExecutor where the task's events are made,
        # so that the stored task (GetTask) keeps the record the answer carried (AIP-A2A-048).
        await self.app(scope, replay_receive(body, receive), send)


_TERMINAL = {"TASK_STATE_COMPLETED": "completed", "completed": "completed",
             "TASK_STATE_FAILED": "failed", "failed": "failed"}


def complete_response(body: Any, verifier: BindingVerifier, call: VerifiedCall, *,
                      report: CompletionReport | None = None,
                      elapsed_ms: int | None = None) -> bool:
    """Put the completion record of ``call`` into a ``SendMessage`` JSON-RPC response ``body``
    (in place), for an agent whose answers are made without an a2a-sdk task store (one with a
    store uses :class:`AIPAgentExecutor`, so that ``GetTask`` shows the record too): in
    ``metadata.aip_completion`` of the task's last artifact, when the task is ``COMPLETED``
    (status ``completed``) or ``FAILED`` (``failed``) and the artifact has no record yet
    (AIP-A2A-041, AIP-A2A-042). Returns whether a record was added."""
    result = body.get("result") if isinstance(body, dict) else None
    task = result.get("task", result) if isinstance(result, dict) else None
    if not isinstance(task, dict):
        return False
    state = (task.get("status") or {}).get("state") if isinstance(task.get("status"), dict) \
        else None
    artifacts = task.get("artifacts")
    if state not in _TERMINAL or not isinstance(artifacts, list) or not artifacts \
            or not isinstance(artifacts[-1], dict):
        return False
    artifact: dict[str, Any] = artifacts[-1]
    metadata = artifact.get("metadata")
    if metadata is not None and (not isinstance(metadata, dict) or META_COMPLETION in metadata):
        return False
    record = sign_completion(verifier, call, status=_TERMINAL[str(state)],
                             result_hash=result_digest_a2a(artifact),
                             report=report or CompletionReport(), elapsed_ms=elapsed_ms)
    if record is None:
        return False
    artifact["metadata"] = {**(metadata or {}), META_COMPLETION: record}
    return True


def _opt_str(metadata: Any, name: str) -> str | None:
    value = metadata.get(name) if isinstance(metadata, Mapping) else None
    if value is not None and not isinstance(value, str):
        raise AIPError("aip_token_malformed", f"message metadata {name} is not a string")
    return value


class AIPCallContextBuilder(DefaultServerCallContextBuilder):
    """Puts the verified call (and a forwarded delegation) into the call context's state."""

    def build(self, request: Request) -> ServerCallContext:
        context = super().build(request)
        context.state["aip"] = request.scope.get(SCOPE_KEY)
        context.state["aip_delegation"] = request.scope.get(_DELEGATION_KEY)
        return context


def verified_call(context: RequestContext) -> VerifiedCall | None:
    """The verified call of the message an executor is handling."""
    call = context.call_context.state.get("aip") if context.call_context else None
    return call if isinstance(call, VerifiedCall) else None


def forwarded_delegation(context: RequestContext) -> Forwarded | None:
    value = context.call_context.state.get("aip_delegation") if context.call_context else None
    return value if isinstance(value, Forwarded) else None


# --- the client side ----------------------------------------------------------------------------

def artifact_completion(artifact: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The completion record in an artifact's ``metadata.aip_completion``, if any."""
    metadata = artifact.get("metadata") if isinstance(artifact, Mapping) else None
    record = metadata.get(META_COMPLETION) if isinstance(metadata, Mapping) else None
    return record if isinstance(record, Mapping) else None


def verify_artifact(artifact: Mapping[str, Any], sent: Credentials, *, resolver: Resolver,
                    now: int | None = None, skew: int = DEFAULT_SKEW,
                    require: bool = True) -> AuditRecord | None:
    """Check the completion record of a task's artifact (JSON, as received) against the
    credentials ``sent`` with the message and the artifact's digest (AIP-A2A-043)."""
    return verify_completion(artifact_completion(artifact), sent,
                             result_hash=result_digest_a2a(artifact), resolver=resolver,
                             now=now, skew=skew, require=require)


def verify_stream(events: Iterable[Any], sent: Credentials, *, resolver: Resolver,
                  now: int | None = None, skew: int = DEFAULT_SKEW,
                  require: bool = True) -> AuditRecord | None:
    """Check the completion record of a task streamed with ``SendStreamingMessage``: the
    stream's results (JSON, as received, in order) are assembled into the task's artifacts
    (AIP-A2A-046) and the record of the last one is checked against the credentials ``sent``
    and the digest of that assembled artifact (AIP-A2A-049)."""
    artifacts = assemble_artifacts(events)
    if not artifacts:
        if require:
            raise AIPError("aip_completion_invalid",
                           "the streamed task has no artifact, so no completion record")
        return None
    return verify_artifact(artifacts[-1], sent, resolver=resolver, now=now, skew=skew,
                           require=require)


def delegate_to(token: str, delegator: SigningKey, *, delegate: str, scopes: Sequence[str],
                context: str, resolver: Resolver, now: int) -> str:
    """The narrower chain to put in ``metadata.aip_delegation`` when forwarding a task."""
    return chain_delegate(token, delegator, delegate=delegate, context=context,
                          resolver=resolver, now=now, scopes=scopes)


class AIPA2AAuth(httpx.Auth):
    """httpx auth for the ``a2a-sdk`` client: each ``SendMessage`` gets ``Authorization: AIP``
    (and ``X-AIP-Proof``), bound to the skill and the message parts as sent."""

    requires_request_body = True

    def __init__(self, signer: CallSigner, audience: str, skills: Sequence[str] = ()) -> None:
        self.signer = signer
        self.audience = audience
        self.skills = tuple(skills)
        self.sent = SentLog()  # the credentials of recent messages, to check completion records

    def verify_artifact(self, artifact: Mapping[str, Any], *, resolver: Resolver,
                        now: int | None = None, skew: int = DEFAULT_SKEW) -> AuditRecord:
        """Check an artifact's completion record against the credentials this auth sent for
        that message (AIP-A2A-043); the audit record."""
        sent = self.sent.find(artifact_completion(artifact))
        if sent is None:
            raise AIPError("aip_completion_invalid", "the artifact's completion record is "
                           "absent or completes no message sent through this client")
        audit = verify_artifact(artifact, sent, resolver=resolver, now=now, skew=skew)
        assert audit is not None
        return audit

    def verify_stream(self, events: Iterable[Any], *, resolver: Resolver,
                      now: int | None = None, skew: int = DEFAULT_SKEW) -> AuditRecord:
        """Check the completion record of a task streamed through this client against the
        artifact assembled from the stream's results (AIP-A2A-049); the audit record."""
        artifacts = assemble_artifacts(events)
        return self.verify_artifact(artifacts[-1] if artifacts else {}, resolver=resolver,
                                    now=now, skew=skew)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, Any, None]:
        if request.method == "POST" and request.content:
            message = loads_strict(request.content, code="aip_input_invalid",
                                   what="JSON-RPC message", max_bytes=MAX_BODY_BYTES)
            if isinstance(message, dict) and message.get("method") in METHODS:
                params = message.get("params")
                msg = params.get("message") if isinstance(params, Mapping) else None
                creds = self.signer.credentials(
                    message_invocation(str(message["method"]), msg, self.skills), self.audience)
                self.sent.add(creds)
                request.headers["Authorization"] = f"{AUTH_SCHEME} {creds.token}"
                if creds.proof is not None:
                    request.headers["X-AIP-Proof"] = creds.proof
        yield request
