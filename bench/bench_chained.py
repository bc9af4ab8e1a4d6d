"""Chained-mode size and verify time at depths 0..8, as ratios to bare biscuit-python.

The baseline, measured in the same run on the same token bytes, is what biscuit-python does
by itself: ``Biscuit.from_bytes`` (every signature) plus an authorizer with the ``time`` and
``tool`` facts and ``allow if true`` (every check). AIP's verify adds the wire hint, identity
resolution of every hop, the per-block fact queries, the structural walk and the invocation
binding. Medians of many runs; no wall-clock assertion anywhere (house rule 6).

    python bench/bench_chained.py [--runs 300]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import biscuit_auth

from aip import (
    ChainRequest,
    Resolver,
    SigningKey,
    TrustStore,
    chain_delegate,
    chain_invoke,
    chain_mint,
    generate_key,
    verify_chain,
)
from aip._encoding import b64url_decode

NOW = 1767225600
AUD = "https://tools.example/mcp"
_B: Any = biscuit_auth


def _median_us(fn: Callable[[], object], runs: int) -> float:
    for _ in range(20):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def build_chain(keys: list[SigningKey], resolver: Resolver, depth: int, *,
                invoke: bool = True, arguments: Mapping[str, Any] | None = None) -> str:
    """A chain minted by ``keys[0]`` with ``depth`` delegation blocks (``keys[1]`` ->
    ``keys[2]`` -> ...), ending in an invocation block by the last delegate when ``invoke``."""
    root = keys[0]
    token = chain_mint(root, holder=keys[1].identity, scopes=["tool:search", "tool:fs:*"],
                       expires=NOW + 3600, max_depth=8)
    for i in range(depth):
        token = chain_delegate(token, keys[1 + i], delegate=keys[2 + i].identity,
                               context=f"hop {i + 1}", resolver=resolver, now=NOW,
                               scopes=["tool:search"])
    if invoke:
        token = chain_invoke(token, keys[1 + depth], audience=AUD, operation="tools/call",
                             tool="search", arguments=arguments or {"q": "agent identity"},
                             resolver=resolver, now=NOW)
    return token


def bare_authorize(data: bytes, root_pub: Any) -> None:
    """What biscuit-python does by itself: parse (every signature) and authorize."""
    biscuit = _B.Biscuit.from_bytes(data, root_pub)
    builder = _B.AuthorizerBuilder(
        "time({t}); tool({tool}); allow if true;",
        {"t": datetime.fromtimestamp(NOW - 60, tz=UTC), "tool": "tool:search"})
    limits = builder.limits()  # the same run limits AIP uses (default time is 1 ms)
    limits.max_time = timedelta(milliseconds=50)
    builder.set_limits(limits)
    builder.build(biscuit).authorize()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    keys = [generate_key() for _ in range(10)]
    root = keys[0]
    resolver = Resolver(TrustStore({}, [root.identity]))
    root_pub = _B.PublicKey.from_bytes(root.public_key, _B.Algorithm.Ed25519)
    request = ChainRequest(AUD, "tools/call", "search", {"q": "agent identity"})
    rows = []
    for depth in range(9):
        token = build_chain(keys, resolver, depth, arguments=request.arguments)
        data = b64url_decode(token, code="aip_token_malformed", what="token")

        def bare(data: bytes = data) -> None:
            bare_authorize(data, root_pub)

        def aip(token: str = token) -> None:
            verify_chain(token, resolver=resolver, now=NOW, request=request,
                         require_invocation=True)

        bare_us = _median_us(bare, args.runs)
        aip_us = _median_us(aip, args.runs)
        rows.append((depth, len(token), len(data), bare_us, aip_us))
    print("depth  token chars  bytes  biscuit verify (us)  aip verify (us)  ratio")
    for depth, chars, size, bare_us, aip_us in rows:
        print(f"{depth:5d}  {chars:11d}  {size:5d}  {bare_us:19.1f}  {aip_us:15.1f}  "
              f"{aip_us / bare_us:5.2f}x")
    first, last = rows[0], rows[-1]
    per_hop = (last[4] - first[4]) / 8
    print(f"aip verify grows {per_hop:.1f} us per hop; size grows "
          f"{(last[2] - first[2]) / 8:.0f} bytes per hop")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
