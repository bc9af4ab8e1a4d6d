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

from aip import AIPError, Resolver, TrustStore, generate_key, render_timeline
from aip._chained import chain_delegate, chain_mint
from aip._compact import issue_token
from aip._keys import dumps_key
from aip.bindings import BindingVerifier, ChainedSigner, CompactSigner, VerifiedCall
from aip.bindings._serve import LoopbackServer
from aip.bindings.mcp import (
    META_COMPLETION,
    AIPMcpAuth,
    credentials_of,
    stdio_meta,
    verify_tool_result,
)

ISSUER, HOLDER, SERVER = generate_key(), generate_key(), generate_key()
SEEN: list[VerifiedCall] = []
STDIO_SERVER = Path(__file__).parent / "weak_servers" / "stdio_server.py"
RESOLVER = Resolver(TrustStore(trusted_issuers=[ISSUER.identity]))


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with LoopbackServer(reference_mcp_app(ISSUER.identity, SERVER, SEEN)) as base:
        yield base + "/mcp"


@pytest.fixture(scope="module")
def hook_url() -> Iterator[str]:
    with LoopbackServer(reference_mcp_app(ISSUER.identity, SERVER, hook=True)) as base:
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
    auth = AIPMcpAuth(_compact(), SERVER.identity)
    result = anyio.run(_http_call, url, auth)
    assert not result.is_error
    record = result.meta[META_COMPLETION]
    assert set(record) == {"receipt"}  # compact mode: a receipt JWT (AIP-MCP-042)
    call = SEEN[-1]
    assert call.caller == HOLDER.identity and call.tool == "search" and call.mode == "compact"
    audit = auth.verify_result(result, resolver=RESOLVER)
    assert audit.mode == "compact" and audit.result_checked
    assert audit.invocation["jti"] == call.jti and audit.invocation["tool"] == "search"
    assert audit.completion is not None
    assert audit.completion["executor"] == SERVER.identity
    assert audit.completion["status"] == "completed"
    assert audit.completion["verification_status"] == "verified"
    assert isinstance(audit.completion["duration_ms"], int)


def test_chained_depth_2_over_streamable_http(url: str) -> None:
    a, b = generate_key(), generate_key()
    now = int(time.time())
    token = chain_mint(ISSUER, holder=HOLDER.identity, scopes=["tool:*"], expires=now + 600,
                       budget_ceiling=100)
    token = chain_delegate(token, HOLDER, delegate=a.identity, context="hop 1",
                           scopes=["tool:search"], resolver=RESOLVER, now=now)
    token = chain_delegate(token, a, delegate=b.identity, context="hop 2", resolver=RESOLVER,
                           now=now)
    auth = AIPMcpAuth(ChainedSigner(token, b, RESOLVER), SERVER.identity)
    result = anyio.run(_http_call, url, auth, "search", {"q": "llamas", "cost": "0.0042"})
    assert not result.is_error
    assert SEEN[-1].delegation_path == (ISSUER.identity, HOLDER.identity, a.identity, b.identity)
    assert set(result.meta[META_COMPLETION]) == {"token"}  # chained: the completed chain
    audit = auth.verify_result(result, resolver=RESOLVER)
    assert audit.mode == "chained" and audit.result_checked
    assert [h["context"] for h in audit.hops] == ["hop 1", "hop 2"]
    assert audit.completion is not None and audit.completion["cost_usd"] == "0.0042"
    assert audit.completion["tokens_used"] == 812 and audit.within_budget is True
    assert audit.aip_token_hash == SEEN[-1].token_hash
    timeline = render_timeline(audit)
    assert '"hop 2"' in timeline and "result COMPLETED" in timeline and "cost $0.0042" in timeline


def test_an_error_result_is_completed_as_failed_and_a_tool_can_say_partial(url: str) -> None:
    auth = AIPMcpAuth(_compact(), SERVER.identity)
    failed = anyio.run(_http_call, url, auth, "search", {"fail": True})
    assert failed.is_error
    audit = auth.verify_result(failed, resolver=RESOLVER)
    assert audit.completion is not None and audit.completion["status"] == "failed"
    partial = anyio.run(_http_call, url, auth, "search", {"cost": "1.5", "partial": True})
    audit = auth.verify_result(partial, resolver=RESOLVER)
    assert audit.completion is not None and audit.completion["status"] == "partial"
    assert audit.completion["cost_usd"] == "1.5"


def test_a_changed_result_or_foreign_record_does_not_verify(url: str) -> None:
    auth = AIPMcpAuth(_compact(), SERVER.identity)
    result = anyio.run(_http_call, url, auth)
    sent = auth.sent.last
    assert sent is not None
    changed = result.model_copy(update={"content": [*result.content, result.content[0]]})
    with pytest.raises(AIPError) as err:
        verify_tool_result(changed, sent, resolver=RESOLVER)
    assert err.value.code == "aip_completion_invalid"
    other = AIPMcpAuth(_compact(), SERVER.identity)  # never sent that call
    with pytest.raises(AIPError) as err:
        other.verify_result(result, resolver=RESOLVER)
    assert err.value.code == "aip_completion_invalid"
    bare = result.model_copy(update={"meta": {}})
    with pytest.raises(AIPError):
        verify_tool_result(bare, sent, resolver=RESOLVER)
    assert verify_tool_result(bare, sent, resolver=RESOLVER, require=False) is None


def test_a_completion_hook_replaces_the_default_record(hook_url: str) -> None:
    result = anyio.run(_http_call, hook_url, AIPMcpAuth(_compact(), SERVER.identity))
    record = result.meta[META_COMPLETION]
    assert record["status"] == "completed" and "invocation_jti" in record


def test_the_signing_key_must_be_the_audience() -> None:
    with pytest.raises(ValueError, match="AIP-CMP-002"):
        BindingVerifier(RESOLVER, audience=SERVER.identity, signing_key=HOLDER)
    assert BindingVerifier(RESOLVER, signing_key=SERVER).audience == SERVER.identity
    with pytest.raises(ValueError):
        BindingVerifier(RESOLVER)


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


async def _stdio(key_file: Path,
                 calls: list[tuple[str, dict[str, Any], dict[str, Any] | None]]) -> list[Any]:
    params = StdioServerParameters(command=sys.executable, args=[
        str(STDIO_SERVER), ISSUER.identity, str(key_file)])
    out: list[Any] = []
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        for name, arguments, meta in calls:
            try:
                out.append(await session.call_tool(name, arguments, meta=meta))
            except MCPError as exc:
                out.append(exc)
    return out


def test_stdio_binding_reads_meta_and_answers_jsonrpc_errors(tmp_path: Path) -> None:
    key_file = tmp_path / "server.json"
    key_file.write_text(dumps_key(SERVER))
    signer = _compact()
    good = stdio_meta(signer, SERVER.identity, "search", {"q": "x"})
    tampered = stdio_meta(signer, SERVER.identity, "search", {"q": "x"})
    results = anyio.run(_stdio, key_file, [
        ("search", {"q": "x"}, good),
        ("search", {"q": "x"}, good),  # replay
        ("search", {"q": "y"}, tampered),
        ("search", {"q": "x"}, None),
    ])
    assert not results[0].is_error
    audit = verify_tool_result(results[0], credentials_of(good), resolver=RESOLVER)
    assert audit is not None and audit.completion is not None
    assert audit.completion["status"] == "completed" and audit.result_checked
    codes = [(r.error.code, r.error.data["code"]) for r in results[1:]]
    assert codes == [(-32001, "aip_replay_detected"), (-32003, "aip_invocation_mismatch"),
                     (-32001, "aip_token_missing")]


def test_report_completion_outside_a_call_and_with_bad_values() -> None:
    from aip.bindings import report_completion
    assert report_completion(cost_usd="0.01") is False  # no binding is collecting
    with pytest.raises(AIPError) as err:
        report_completion(cost_usd="1e-3")
    assert err.value.code == "aip_input_invalid"
    with pytest.raises(AIPError):
        report_completion(status="done")
