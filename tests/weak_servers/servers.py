"""Reference servers for the binding and probe tests (real SDKs, real uvicorn on loopback)."""

from __future__ import annotations

from typing import Any

from mcp import types
from mcp.server.lowlevel.server import Server

from aip import Resolver, SigningKey, TrustStore
from aip._replay import MemoryReplayCache
from aip.bindings import BindingVerifier, VerifiedCall, current_call, report_completion
from aip.bindings.mcp import streamable_http_app


def verifier_for(issuer_id: str, audience: str,
                 signing_key: SigningKey | None = None) -> BindingVerifier:
    # A fresh test server: no verifier of this audience ever accepted a proof before it, so
    # its replay record is complete since time 0 (AIP-RPL-005's T).
    resolver = Resolver(TrustStore(trusted_issuers=[issuer_id]))
    return BindingVerifier(resolver, audience=audience, signing_key=signing_key,
                           replay_cache=MemoryReplayCache(trusted_since=0))


def mcp_server(seen: list[VerifiedCall] | None = None) -> Server[Any]:
    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[
            types.Tool(name="search", input_schema={"type": "object"})])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        call = current_call.get()
        if seen is not None and call is not None:
            seen.append(call)
        who = call.caller if call else "nobody"
        arguments = params.arguments or {}
        if arguments.get("fail"):
            return types.CallToolResult(is_error=True, content=[types.TextContent(
                type="text", text="the tool failed")])
        if arguments.get("cost"):
            report_completion(cost_usd=str(arguments["cost"]), tokens_used=812,
                              status="partial" if arguments.get("partial") else None)
        return types.CallToolResult(content=[types.TextContent(
            type="text", text=f"results for {params.arguments} as {who}")])

    return Server("aip-reference-tools", on_list_tools=list_tools, on_call_tool=call_tool)


def completion_hook(call: VerifiedCall, result: Any) -> dict[str, Any]:
    """A custom completion hook (replaces the default signed record)."""
    return {"status": "completed", "invocation_jti": call.jti, "args_hash": call.args_hash}


def reference_mcp_app(issuer_id: str, server_key: SigningKey,
                      seen: list[VerifiedCall] | None = None, *, hook: bool = False) -> Any:
    """The reference MCP server; it signs completion records with ``server_key`` (the default),
    or uses :func:`completion_hook` when ``hook``."""
    return streamable_http_app(mcp_server(seen),
                               verifier_for(issuer_id, server_key.identity, server_key),
                               completion=completion_hook if hook else None)
