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
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from typing import Any

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
from .._errors import AIPError
from .._json import loads_strict
from .._keys import SigningKey
from .._proof import Invocation
from .._resolver import Resolver
from ._asgi import SCOPE_KEY, ASGIApp, Receive, Scope, Send, read_body, replay_receive, send_error, store_call
from ._core import (
    AUTH_SCHEME,
    MAX_BODY_BYTES,
    BindingVerifier,
    CallSigner,
    VerifiedCall,
    read_credentials,
    safe_error,
)

__all__ = [
    "EXTENSION_URI",
    "METHODS",
    "AIPA2AAuth",
    "AIPAgentGuard",
    "AIPCallContextBuilder",
    "Forwarded",
    "agent_card_routes",
    "delegate_to",
    "forwarded_delegation",
    "message_invocation",
    "verified_call",
    "with_aip_extension",
]

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
                token, proof, ref = read_credentials(scope.get("headers", ()))
                if token is None and not ref:  # draft-01: the token in the message metadata
                    token = _opt_str(metadata, META_TOKEN)
                    proof = _opt_str(metadata, META_PROOF)
                call = self.verifier.verify(token, proof, invocation)
                forward = _opt_str(metadata, META_DELEGATION)
                if forward is not None:
                    scope[_DELEGATION_KEY] = _check_forward(forward, call, self.verifier)
                store_call(scope, call)
        except Exception as exc:
            await send_error(send, safe_error(exc), self.verifier.audience,
                             jsonrpc_id=request_id, jsonrpc=True)
            return
        await self.app(scope, replay_receive(body, receive), send)


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

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, Any, None]:
        if request.method == "POST" and request.content:
            message = loads_strict(request.content, code="aip_input_invalid",
                                   what="JSON-RPC message", max_bytes=MAX_BODY_BYTES)
            if isinstance(message, dict) and message.get("method") in METHODS:
                params = message.get("params")
                msg = params.get("message") if isinstance(params, Mapping) else None
                creds = self.signer.credentials(
                    message_invocation(str(message["method"]), msg, self.skills), self.audience)
                request.headers["Authorization"] = f"{AUTH_SCHEME} {creds.token}"
                if creds.proof is not None:
                    request.headers["X-AIP-Proof"] = creds.proof
        yield request
