"""MCP ``tools/call`` round trip over streamable HTTP with the real ``mcp`` SDK (client and
server, uvicorn on loopback): no auth vs compact mode vs chained mode at depth 2, in one run.

Each AIP mode is measured twice: verification only (a server without its signing key), and
``+record``: a server configured with its signing key, which also signs a completion record
for every result (a receipt JWT in compact mode; in chained mode the chain re-opened and
extended by a completion block) and returns it in ``_meta["aip/completion"]``.

Prints the median round trip of each and the added latency as a ratio of the no-auth round
trip (target: AIP adds at most 10%). Client-side work (making the proof or the invocation
block) is included, since a real caller pays it too; the chained client work is also shown
separately, as is the caller's optional check of the record (audit verification), which is
not part of the round trip. Usage: ``python bench/bench_mcp.py [--calls N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import httpx2
from mcp import types
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.server.lowlevel.server import Server

from aip import Resolver, TrustStore, generate_key
from aip._chained import chain_delegate, chain_mint
from aip._compact import issue_token
from aip._replay import MemoryReplayCache
from aip.bindings import BindingVerifier, ChainedSigner, CompactSigner
from aip.bindings._serve import LoopbackServer
from aip.bindings.mcp import AIPMcpAuth, streamable_http_app


def _server() -> Server[Any]:
    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[types.Tool(name="search", input_schema={"type": "object"})])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        return types.CallToolResult(content=[types.TextContent(type="text", text="ok")])

    return Server("bench", on_list_tools=list_tools, on_call_tool=call_tool)


async def _measure(url: str, auth: httpx2.Auth | None, calls: int,
                   records: list[Any] | None = None) -> list[float]:
    async with httpx2.AsyncClient(auth=auth) as http, \
            streamable_http_client(url, http_client=http) as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()
        for i in range(20):  # warm up
            await session.call_tool("search", {"q": f"warm {i}"})
        out = []
        for i in range(calls):
            t0 = time.perf_counter()
            result = await session.call_tool("search", {"q": f"query {i}", "n": i})
            out.append(time.perf_counter() - t0)
            assert not result.is_error
            if records is not None:  # the last 50 (the client remembers its last 256 calls)
                records.append(result)
                del records[:-50]
        return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    issuer, a, b, c, server_id = (generate_key() for _ in range(5))
    resolver = Resolver(TrustStore(trusted_issuers=[issuer.identity]))
    now = int(time.time())
    verifier = BindingVerifier(resolver, audience=server_id.identity,
                               replay_cache=MemoryReplayCache(trusted_since=0))
    signing = BindingVerifier(resolver, audience=server_id.identity, signing_key=server_id,
                              replay_cache=MemoryReplayCache(trusted_since=0))
    compact = issue_token(issuer, subject=a.identity, audience=server_id.identity,
                          scopes=["tool:search"], lifetime=3600)
    chain = chain_mint(issuer, holder=a.identity, scopes=["tool:search"], expires=now + 3600)
    chain = chain_delegate(chain, a, delegate=b.identity, context="bench hop 1",
                           resolver=resolver, now=now)
    chain = chain_delegate(chain, b, delegate=c.identity, context="bench hop 2",
                           resolver=resolver, now=now)
    plain = _server()
    guarded = streamable_http_app(_server(), verifier)
    completing = streamable_http_app(_server(), signing)
    auths: dict[str, httpx2.Auth | None] = {
        "no auth": None,
        "compact": AIPMcpAuth(CompactSigner(compact, a), server_id.identity),
        "compact+record": AIPMcpAuth(CompactSigner(compact, a), server_id.identity),
        "chained d2": AIPMcpAuth(ChainedSigner(chain, c, resolver), server_id.identity),
        "chained+record": AIPMcpAuth(ChainedSigner(chain, c, resolver), server_id.identity),
    }
    results: dict[str, list[float]] = {name: [] for name in auths}
    kept: dict[str, list[Any]] = {"compact+record": [], "chained+record": []}
    with LoopbackServer(plain.streamable_http_app()) as plain_url, \
            LoopbackServer(guarded) as aip_url, LoopbackServer(completing) as record_url:
        for _ in range(args.rounds):  # interleave, so drift hits every variant alike
            for name, auth in auths.items():
                base_url = (plain_url if auth is None else
                            record_url if name.endswith("+record") else aip_url)
                results[name] += asyncio.run(_measure(base_url + "/mcp", auth, args.calls,
                                                      kept.get(name)))
    # The caller's optional check of each record (audit verification against what it sent and
    # the result it received), outside the round trip.
    check_ms: dict[str, float] = {}
    for name, sample in kept.items():
        auth = auths[name]
        assert isinstance(auth, AIPMcpAuth) and sample
        t0 = time.perf_counter()
        for result in sample:
            auth.verify_result(result, resolver=resolver)
        check_ms[name] = (time.perf_counter() - t0) / len(sample) * 1000
    # Client-side cost of chained mode alone (appending the invocation block).
    signer = ChainedSigner(chain, c, resolver)
    from aip._proof import Invocation
    t0 = time.perf_counter()
    for i in range(50):
        signer.credentials(Invocation("tools/call", "search", {"q": i}), server_id.identity)
    chained_client_ms = (time.perf_counter() - t0) / 50 * 1000
    # Server-side work of the record alone: digest, sign, (chained) open and extend the chain.
    from aip import result_digest_mcp
    from aip._compact import issue_token as _issue
    record_ms: dict[str, float] = {}
    fresh = BindingVerifier(resolver, signing_key=server_id,
                            replay_cache=MemoryReplayCache(trusted_since=0))
    one = {"content": [{"type": "text", "text": "ok"}], "isError": False}
    for name, make in (("compact", CompactSigner(_issue(issuer, subject=a.identity,
                                                         audience=server_id.identity,
                                                         scopes=["tool:search"]), a)),
                       ("chained", ChainedSigner(chain, c, resolver))):
        calls = []
        for i in range(100):
            inv = Invocation("tools/call", "search", {"q": i})
            creds = make.credentials(inv, server_id.identity)
            calls.append(fresh.verify(creds.token, creds.proof, inv))
        t0 = time.perf_counter()
        for call in calls:
            fresh.complete(call, status="completed", result_hash=result_digest_mcp(one))
        record_ms[name] = (time.perf_counter() - t0) / len(calls) * 1000
    base = statistics.median(results["no auth"])
    print(f"MCP tools/call round trip over streamable HTTP (mcp SDK, uvicorn, loopback), "
          f"{args.calls * args.rounds} calls each")
    print(f"{'variant':<15} {'median ms':>10} {'p90 ms':>8} {'added ms':>9} {'ratio':>7}")
    for name, samples in results.items():
        med = statistics.median(samples)
        p90 = statistics.quantiles(samples, n=10)[-1]
        print(f"{name:<15} {med * 1000:>10.3f} {p90 * 1000:>8.3f} {(med - base) * 1000:>9.3f} "
              f"{med / base:>6.3f}x")
    print("(+record: the server also signs and returns a completion record with every result)")
    print(f"chained client work (invocation block) alone: {chained_client_ms:.3f} ms per call")
    for name, ms in record_ms.items():
        print(f"server's record work alone ({name}): {ms:.3f} ms per result")
    for name, ms in check_ms.items():
        print(f"caller's check of the record ({name.split('+')[0]}, audit verification): "
              f"{ms:.3f} ms per result, outside the round trip")
    print("target: AIP adds at most 10% (ratio <= 1.10)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
