"""The MCP binding on the real `mcp` SDK: streamable HTTP (uvicorn) and stdio (a subprocess)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import StdioServerParameters, stdio_client
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from weak_servers.servers import reference_mcp_app

from aip import Resolver, TrustStore, generate_key
from aip._chained import chain_delegate, chain_mint
from aip._compact import issue_token
from aip.bindings import ChainedSigner, CompactSigner, VerifiedCall
from aip.bindings._serve import LoopbackServer
from aip.bindings.mcp import META_COMPLETION, AIPMcpAuth, stdio_meta

ISSUER, HOLDER, SERVER = generate_key(), generate_key(), generate_key()
SEEN: list[VerifiedCall] = []
STDIO_SERVER = Path(__file__).parent / "weak_servers" / "stdio_server.py"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with LoopbackServer(reference_mcp_app(ISSUER.identity, SERVER, SEEN)) as base:
        yield base + "/mcp"


def _compact(scopes: list[str] | None = None) -> CompactSigner:
    return CompactSigner(issue_token(ISSUER, subject=HOLDER.identity, audience=SERVER.identity,
                                     scopes=scopes or ["tool:search"]), HOLDER)


async def _http_call(url: str, auth: httpx2.Auth | None, name: str = "search",
                     arguments: dict[str, Any] | None = None) -> Any:
    async with httpx2.AsyncClient(auth=auth) as http, \
            streamable_http_client(url, http_client=http) as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()
        return await session.call_tool(name, arguments or {"q": "llamas"})


def test_streamable_http_call_is_verified_and_completed(url: str) -> None:
    result = anyio.run(_http_call, url, AIPMcpAuth(_compact(), SERVER.identity))
    assert not result.is_error
    record = result.meta[META_COMPLETION]
    assert record["status"] == "completed"
    call = SEEN[-1]
    assert call.caller == HOLDER.identity and call.tool == "search" and call.mode == "compact"
    assert record["invocation_jti"] == call.jti


def test_chained_depth_2_over_streamable_http(url: str) -> None:
    a, b = generate_key(), generate_key()
    resolver = Resolver(TrustStore(trusted_issuers=[ISSUER.identity]))
    now = int(time.time())
    token = chain_mint(ISSUER, holder=HOLDER.identity, scopes=["tool:*"], expires=now + 600)
    token = chain_delegate(token, HOLDER, delegate=a.identity, context="hop 1",
                           scopes=["tool:search"], resolver=resolver, now=now)
    token = chain_delegate(token, a, delegate=b.identity, context="hop 2", resolver=resolver,
                           now=now)
    result = anyio.run(_http_call, url, AIPMcpAuth(ChainedSigner(token, b, resolver),
                                                   SERVER.identity))
    assert not result.is_error
    assert SEEN[-1].delegation_path == (ISSUER.identity, HOLDER.identity, a.identity, b.identity)


def _post(url: str, message: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(url, content=json.dumps(message), headers={
        "accept": "application/json, text/event-stream", "content-type": "application/json",
        **(headers or {})})


def test_http_failure_has_registry_status_and_jsonrpc_error(url: str) -> None:
    r = _post(url, {"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                    "params": {"name": "search", "arguments": {}}})
    assert r.status_code == 401
    assert r.json() == {"jsonrpc": "2.0", "id": 9, "error": {
        "code": -32001, "message": "no AIP token was presented",
        "data": {"code": "aip_token_missing"}}}
    assert r.headers["www-authenticate"].startswith("AIP realm=")


def test_a_batch_carrying_tools_call_is_refused(url: str) -> None:
    r = _post(url, [{"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                     "params": {"name": "search"}}])
    assert r.status_code == 400
    assert r.json()["error"]["data"]["code"] == "aip_input_invalid"


def test_initialize_advertises_aip(url: str) -> None:
    r = _post(url, {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}})
    data = next(json.loads(line[5:]) for line in r.text.splitlines() if line.startswith("data:"))
    ad = data["result"]["capabilities"]["experimental"]["dev.aip/identity"]
    assert ad["audience"] == SERVER.identity and ad["required"] is True


async def _stdio(calls: list[tuple[str, dict[str, Any], dict[str, Any] | None]]) -> list[Any]:
    params = StdioServerParameters(command=sys.executable, args=[
        str(STDIO_SERVER), ISSUER.identity, SERVER.identity])
    out: list[Any] = []
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        for name, arguments, meta in calls:
            try:
                out.append(await session.call_tool(name, arguments, meta=meta))
            except MCPError as exc:
                out.append(exc)
    return out


def test_stdio_binding_reads_meta_and_answers_jsonrpc_errors() -> None:
    signer = _compact()
    good = stdio_meta(signer, SERVER.identity, "search", {"q": "x"})
    tampered = stdio_meta(signer, SERVER.identity, "search", {"q": "x"})
    results = anyio.run(_stdio, [
        ("search", {"q": "x"}, good),
        ("search", {"q": "x"}, good),  # replay
        ("search", {"q": "y"}, tampered),
        ("search", {"q": "x"}, None),
    ])
    assert not results[0].is_error and results[0].meta[META_COMPLETION]["status"] == "completed"
    codes = [(r.error.code, r.error.data["code"]) for r in results[1:]]
    assert codes == [(-32001, "aip_replay_detected"), (-32003, "aip_invocation_mismatch"),
                     (-32001, "aip_token_missing")]
