"""The loopback system of the end-to-end example: an MCP tool server and an A2A research agent,
both built on the real SDKs, served by uvicorn, verifying every hop with AIP.

Both servers hold their own identity key, so each result comes back with a signed completion
record (spec/completion.md): the tool server completes the research agent's chain with a
completion block (``_meta["aip/completion"]``), the research agent checks it, passes it on in
its artifact's metadata (``aip_tool_completion``), and its own binding (``AIPAgentExecutor``)
completes the A2A task (``metadata.aip_completion``). Each server also notes what it saw in a
small event log (``Audit``).
"""

from __future__ import annotations

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
from aip.bindings import BindingVerifier, ChainedSigner, current_call, report_completion
from aip.bindings.a2a import (
    AIPAgentExecutor,
    AIPAgentGuard,
    AIPCallContextBuilder,
    agent_card_routes,
    forwarded_delegation,
    verified_call,
    with_aip_extension,
)
from aip.bindings.mcp import AIPMcpAuth, completion_of, streamable_http_app

TOOL_COST = "0.0042"  # what the tool server reports for one search (its signed claim)


@dataclass
class Audit:
    events: list[dict[str, Any]] = field(default_factory=list)

    def add(self, actor: str, what: str, **details: Any) -> None:
        self.events.append({"t": time.time(), "actor": actor, "what": what, **details})


def verifier(principal: str, key: SigningKey) -> BindingVerifier:
    # A fresh process whose replay record is complete since it started empty (AIP-RPL-005).
    # With its signing key, the server signs a completion record for every call it serves.
    return BindingVerifier(Resolver(TrustStore(trusted_issuers=[principal])),
                           audience=key.identity, signing_key=key,
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
        report_completion(tokens_used=812, cost_usd=TOOL_COST)  # goes into the signed record
        return types.CallToolResult(content=[types.TextContent(
            type="text", text=f"3 facts about {q}: they hum; they spit; they guard sheep")])

    server = Server("llama-facts", on_list_tools=list_tools, on_call_tool=call_tool)
    return streamable_http_app(server, verifier(principal, key))


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
        auth = AIPMcpAuth(signer, self.tool_id)
        async with httpx2.AsyncClient(auth=auth) as http, \
                streamable_http_client(self.tool_url, http_client=http) as (read, write), \
                ClientSession(read, write) as session:
            await session.initialize()
            self.audit.add("research agent", "calls MCP tool search")
            result = await session.call_tool("search", {"q": "llamas"})
        # The tool server's signed completion record, checked against the invocation this agent
        # sent and the result it received (raises AIPError when it does not verify).
        checked = auth.verify_result(result, resolver=self.resolver)
        assert checked.completion is not None
        self.audit.add("research agent", "verified the tool's completion record",
                       status=checked.completion["status"])
        text = "".join(c.text for c in result.content if isinstance(c, types.TextContent))
        report_completion(cost_usd=checked.completion["cost_usd"])  # passed on at cost
        await updater.add_artifact([new_text_part(text)], name="findings",
                                   metadata={"aip_tool_completion": completion_of(result)})
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise NotImplementedError


def research_agent(principal: str, key: SigningKey, url: str, tool_url: str, tool_id: str,
                   audit: Audit) -> Any:
    check = verifier(principal, key)
    card = with_aip_extension(AgentCard(
        name="research agent", description="finds facts", version="1.0",
        supported_interfaces=[AgentInterface(url=url + "/a2a", protocol_binding="JSONRPC",
                                           protocol_version="1.0")],
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"], default_output_modes=["text/plain"],
        skills=[AgentSkill(id="research", name="research", description="research a topic",
                           tags=["research"])]), check)
    handler = DefaultRequestHandler(
        # AIPAgentExecutor adds the signed completion record to the task's events, so the
        # answer, a stream and a later GetTask all carry the same record.
        agent_executor=AIPAgentExecutor(
            ResearchExecutor(key, check.resolver, tool_url, tool_id, audit), check),
        task_store=InMemoryTaskStore(), agent_card=card)
    app = Starlette(routes=[
        *agent_card_routes(card, aip_identity={"id": key.identity}),
        *create_jsonrpc_routes(handler, "/a2a", context_builder=AIPCallContextBuilder())])
    return AIPAgentGuard(app, check, skills=["research"])
