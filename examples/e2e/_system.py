"""The loopback system of the end-to-end example: an MCP tool server and an A2A research agent,
both built on the real SDKs, served by uvicorn, verifying every hop with AIP.

Each server appends what it verified and completed to an audit log, which the example prints
as the call's timeline. Completion records are minimal here (ISSUE-5 HOOK): a status, the
SHA-256 of the result and the invocation they complete.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx2
from a2a.helpers.proto_helpers import new_task_from_user_message, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types.a2a_pb2 import AgentCapabilities, AgentCard, AgentInterface, AgentSkill
from mcp import types
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.server.lowlevel.server import Server
from starlette.applications import Starlette

from aip import Resolver, SigningKey, TrustStore
from aip._replay import MemoryReplayCache
from aip.bindings import BindingVerifier, ChainedSigner, VerifiedCall, current_call
from aip.bindings.a2a import (
    AIPAgentGuard,
    AIPCallContextBuilder,
    agent_card_routes,
    forwarded_delegation,
    verified_call,
    with_aip_extension,
)
from aip.bindings.mcp import META_COMPLETION, AIPMcpAuth, streamable_http_app


@dataclass
class Audit:
    events: list[dict[str, Any]] = field(default_factory=list)

    def add(self, actor: str, what: str, **details: Any) -> None:
        self.events.append({"t": time.time(), "actor": actor, "what": what, **details})


def result_hash(value: Any) -> str:
    return "sha256:" + hashlib.sha256(json.dumps(value, sort_keys=True, default=str)
                                      .encode()).hexdigest()


def completion_record(executor: str, call: VerifiedCall, result: Any) -> dict[str, Any]:
    """ISSUE-5 HOOK: a minimal, unsigned completion record until completion records land."""
    dumped = result.model_dump(mode="json", by_alias=True) if hasattr(result, "model_dump") \
        else result
    return {"status": "completed", "executor": executor, "invocation_jti": call.jti,
            "args_hash": call.args_hash, "token_hash": call.token_hash,
            "result_hash": result_hash(dumped)}


def verifier(principal: str, audience: str) -> BindingVerifier:
    # A fresh process whose replay record is complete since it started empty (AIP-RPL-005).
    return BindingVerifier(Resolver(TrustStore(trusted_issuers=[principal])), audience=audience,
                           replay_cache=MemoryReplayCache(trusted_since=0))


def tool_server(principal: str, key: SigningKey, audit: Audit) -> Any:
    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[types.Tool(
            name="search", description="search the llama facts index",
            input_schema={"type": "object", "properties": {"q": {"type": "string"}}})])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        call = current_call.get()
        assert call is not None
        audit.add("tool server", "verified tools/call", tool=params.name, caller=call.caller,
                  mode=call.mode, path=list(call.delegation_path), jti=call.jti)
        q = (params.arguments or {}).get("q", "")
        return types.CallToolResult(content=[types.TextContent(
            type="text", text=f"3 facts about {q}: they hum; they spit; they guard sheep")])

    def completion(call: VerifiedCall, result: Any) -> dict[str, Any]:
        record = completion_record(key.identity, call, result)
        audit.add("tool server", "completed", result_hash=record["result_hash"])
        return record

    server = Server("llama-facts", on_list_tools=list_tools, on_call_tool=call_tool)
    return streamable_http_app(server, verifier(principal, key.identity), completion=completion)


class ResearchExecutor(AgentExecutor):
    def __init__(self, key: SigningKey, resolver: Resolver, tool_url: str, tool_id: str,
                 audit: Audit) -> None:
        self.key, self.resolver, self.tool_url, self.tool_id = key, resolver, tool_url, tool_id
        self.audit = audit

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        call = verified_call(context)
        forwarded = forwarded_delegation(context)
        assert call is not None and context.message is not None  # the guard ran
        self.audit.add("research agent", "verified SendMessage", skill=call.tool,
                       caller=call.caller, mode=call.mode, path=list(call.delegation_path),
                       jti=call.jti)
        task = new_task_from_user_message(context.message)
        await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        if forwarded is None:  # nothing delegated to act on: answer without calling the tool
            await updater.add_artifact([new_text_part("no delegation was forwarded; "
                                                      "nothing to research on your behalf")])
            await updater.complete()
            return
        self.audit.add("research agent", "accepted delegation", depth=forwarded.chain.depth,
                       scopes=list(forwarded.chain.effective_scopes))
        # No passthrough: the research agent calls the tool with the chain delegated to it,
        # extended by its own invocation block (ChainedSigner), never with the token it got.
        signer = ChainedSigner(forwarded.token, self.key, self.resolver)
        async with httpx2.AsyncClient(auth=AIPMcpAuth(signer, self.tool_id)) as http, \
                streamable_http_client(self.tool_url, http_client=http) as (read, write), \
                ClientSession(read, write) as session:
            await session.initialize()
            self.audit.add("research agent", "calls MCP tool search")
            result = await session.call_tool("search", {"q": "llamas"})
        text = "".join(c.text for c in result.content if isinstance(c, types.TextContent))
        tool_record = (result.meta or {}).get(META_COMPLETION)
        own = completion_record(self.key.identity, call, {"text": text})
        await updater.add_artifact([new_text_part(text)], name="findings",
                                   metadata={"aip_completion": own,
                                             "aip_tool_completion": tool_record})
        self.audit.add("research agent", "completed", result_hash=own["result_hash"])
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise NotImplementedError


def research_agent(principal: str, key: SigningKey, url: str, tool_url: str, tool_id: str,
                   audit: Audit) -> Any:
    check = verifier(principal, key.identity)
    card = with_aip_extension(AgentCard(
        name="research agent", description="finds facts", version="1.0",
        supported_interfaces=[AgentInterface(url=url + "/a2a", protocol_binding="JSONRPC",
                                           protocol_version="1.0")],
        capabilities=AgentCapabilities(streaming=False),
        default_input_modes=["text/plain"], default_output_modes=["text/plain"],
        skills=[AgentSkill(id="research", name="research", description="research a topic",
                           tags=["research"])]), check)
    handler = DefaultRequestHandler(
        agent_executor=ResearchExecutor(key, check.resolver, tool_url, tool_id, audit),
        task_store=InMemoryTaskStore(), agent_card=card)
    app = Starlette(routes=[
        *agent_card_routes(card, aip_identity={"id": key.identity}),
        *create_jsonrpc_routes(handler, "/a2a", context_builder=AIPCallContextBuilder())])
    return AIPAgentGuard(app, check, skills=["research"])
