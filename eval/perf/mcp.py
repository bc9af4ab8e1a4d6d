"""MCP ``tools/call`` round trip with the real ``mcp`` SDK over streamable HTTP (uvicorn on
loopback): no authentication vs AIP compact (token + per-call proof) vs AIP chained (depth 2 +
per-call invocation block), in one run, interleaved. Reuses ``bench/bench_mcp.py``'s server and
client loop; the client-side work (making the proof or the invocation block) is included."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx2

from aip import Resolver, TrustStore, generate_key
from aip._chained import chain_delegate, chain_mint
from aip._compact import issue_token
from aip._replay import MemoryReplayCache
from aip.bindings import BindingVerifier, ChainedSigner, CompactSigner
from aip.bindings._serve import LoopbackServer
from aip.bindings.mcp import AIPMcpAuth, streamable_http_app
from bench.bench_mcp import _measure, _server

from .measure import Figure, figure


@dataclass(frozen=True)
class McpResult:
    calls: int
    figures: dict[str, Figure]  # per call, microseconds


def measure_mcp(*, calls: int, rounds: int) -> McpResult:
    issuer, a, b, c, server_id = (generate_key() for _ in range(5))
    resolver = Resolver(TrustStore(trusted_issuers=[issuer.identity]))
    now = int(time.time())
    verifier = BindingVerifier(resolver, audience=server_id.identity,
                               replay_cache=MemoryReplayCache(trusted_since=0))
    compact = issue_token(issuer, subject=a.identity, audience=server_id.identity,
                          scopes=["tool:search"], lifetime=3600)
    chain = chain_mint(issuer, holder=a.identity, scopes=["tool:search"], expires=now + 3600)
    chain = chain_delegate(chain, a, delegate=b.identity, context="perf hop 1",
                           resolver=resolver, now=now)
    chain = chain_delegate(chain, b, delegate=c.identity, context="perf hop 2",
                           resolver=resolver, now=now)
    auths: dict[str, httpx2.Auth | None] = {
        "no auth": None,
        "AIP compact + proof": AIPMcpAuth(CompactSigner(compact, a), server_id.identity),
        "AIP chained d2 + invocation": AIPMcpAuth(ChainedSigner(chain, c, resolver),
                                                  server_id.identity),
    }
    samples: dict[str, list[float]] = {name: [] for name in auths}
    with LoopbackServer(_server().streamable_http_app()) as plain_url, \
            LoopbackServer(streamable_http_app(_server(), verifier)) as aip_url:
        for _ in range(rounds):  # interleave, so drift hits every variant alike
            for name, auth in auths.items():
                url = (plain_url if auth is None else aip_url) + "/mcp"
                samples[name] += [s * 1e6 for s in asyncio.run(_measure(url, auth, calls))]
    return McpResult(calls * rounds, {name: figure(v, 1) for name, v in samples.items()})
