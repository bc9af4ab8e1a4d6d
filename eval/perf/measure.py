"""Timing helpers and the compact / chained measurements of the performance table.

Every subject is measured interleaved with its baseline (baseline batch, subject batch,
baseline batch, ...), so that machine noise hits both alike; a sample is the mean time per call
over a batch of calls; a figure is the median of the samples with their 10th and 90th
percentiles, and its ratio is the subject's median over the baseline's median from the same run.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import biscuit_auth
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from aip import (
    ChainRequest,
    CompactVerifier,
    Invocation,
    MemoryReplayCache,
    Resolver,
    TrustStore,
    build_document,
    chain_delegate,
    chain_invoke,
    chain_mint,
    create_proof,
    generate_key,
    issue_token,
    verify_chain,
)
from aip._encoding import b64url_decode
from bench.bench_chained import AUD as CHAIN_AUD
from bench.bench_chained import NOW, bare_authorize, build_chain
from bench.bench_compact import AUD, ISSUER_ID

_B: Any = biscuit_auth
Fn = Callable[[], object]


@dataclass(frozen=True)
class Figure:
    """Per-call time of one subject: median and spread (microseconds) over the samples."""

    median_us: float
    p10_us: float
    p90_us: float
    q1_us: float
    q3_us: float
    samples: int
    calls_per_sample: int

    def to_json(self) -> dict[str, float | int]:
        return {"median_us": round(self.median_us, 2), "p10_us": round(self.p10_us, 2),
                "p90_us": round(self.p90_us, 2), "q1_us": round(self.q1_us, 2),
                "q3_us": round(self.q3_us, 2), "samples": self.samples,
                "calls_per_sample": self.calls_per_sample}


def figure(samples: list[float], number: int) -> Figure:
    deciles = statistics.quantiles(samples, n=10, method="inclusive")
    quartiles = statistics.quantiles(samples, n=4, method="inclusive")
    return Figure(statistics.median(samples), deciles[0], deciles[-1], quartiles[0],
                  quartiles[2], len(samples), number)


def _batch_us(fn: Fn, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number * 1e6


def interleaved(subjects: dict[str, Fn], *, runs: int, number: int,
                warmup: int = 5) -> dict[str, Figure]:
    """Measure every subject ``runs`` times in turn, ``number`` calls per sample."""
    for fn in subjects.values():  # warm up, and fail loudly if anything is wrong
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in subjects}
    for _ in range(runs):
        for name, fn in subjects.items():
            samples[name].append(_batch_us(fn, number))
    return {name: figure(values, number) for name, values in samples.items()}


# --- compact mode ------------------------------------------------------------------------------

@dataclass(frozen=True)
class CompactResult:
    token_bytes: int
    proof_bytes: int
    figures: dict[str, Figure]
    signatures: dict[str, int]  # Ed25519 verifications (or signatures) each subject makes


def measure_compact(*, runs: int, number: int) -> CompactResult:
    """Token and proof sizes; issue, proof creation, verify (seen before, first sight) and
    verify with an invocation proof, against a raw Ed25519 verify of the same signing input."""
    issuer = generate_key(ISSUER_ID, "key-1")
    holder = generate_key()
    document = build_document(ISSUER_ID, [("key-1", issuer.public_key, NOW - 86400, None)],
                              expires=NOW + 30 * 86400, signer=("key-1", issuer.private_key))
    resolver = Resolver(TrustStore({ISSUER_ID: document}, [ISSUER_ID]))
    call = Invocation("tools/call", "search", {"q": "agent identity", "limit": 10})
    counter = itertools.count()

    def new_token(jti: str | None = None) -> str:
        return issue_token(issuer, subject=holder.identity, audience=AUD,
                           scopes=["tool:search", "tool:fs:*"], now=NOW,
                           jti=jti or f"tok-{next(counter):08d}")

    token = new_token("perf-token-0001")
    pool_size = (runs + 1) * number + 10
    # Fresh tokens and proofs: every first-sight verification sees bytes it never decoded.
    fresh: Iterator[str] = iter([new_token(f"fresh-{i:07d}") for i in range(pool_size)])
    proofs: Iterator[str] = iter([
        create_proof(holder, token, audience=AUD, invocation=call, now=NOW, jti=f"p{i:07d}")
        for i in range(pool_size)])
    seen = CompactVerifier(resolver, audience=AUD, require_proof=False)
    first = CompactVerifier(resolver, audience=AUD, require_proof=False)
    proving = CompactVerifier(resolver, audience=AUD, require_proof=True,
                              replay_cache=MemoryReplayCache(max_entries=10**7, trusted_since=0))
    raw_key = Ed25519PrivateKey.generate()
    raw_pub = raw_key.public_key()
    message = token.rsplit(".", 1)[0].encode()
    raw_sig = raw_key.sign(message)
    proof_counter = itertools.count()
    subjects: dict[str, Fn] = {
        "raw Ed25519 verify": lambda: raw_pub.verify(raw_sig, message),
        "issue token": new_token,
        "create proof": lambda: create_proof(holder, token, audience=AUD, invocation=call,
                                             now=NOW, jti=f"c{next(proof_counter):08d}"),
        "verify (token seen before)": lambda: seen.verify(token, now=NOW),
        "verify (first sight)": lambda: first.verify(next(fresh), now=NOW),
        "verify + proof (invocation binding)": lambda: proving.verify(
            token, proof=next(proofs), invocation=call, now=NOW),
    }
    figures = interleaved(subjects, runs=runs, number=number)
    sizes_proof = create_proof(holder, token, audience=AUD, invocation=call, now=NOW,
                               jti="size-proof-0001")
    signatures = {"raw Ed25519 verify": 1, "issue token": 1, "create proof": 1,
                  "verify (token seen before)": 1, "verify (first sight)": 1,
                  "verify + proof (invocation binding)": 2}
    return CompactResult(len(token), len(sizes_proof), figures, signatures)


# --- chained mode ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainedRow:
    depth: int
    chars: int  # the token as sent (unpadded base64url)
    raw_bytes: int  # the Biscuit bytes
    invoked_chars: int
    invoked_raw_bytes: int
    figures: dict[str, Figure]


def measure_chained(*, runs: int, number: int, depths: range) -> list[ChainedRow]:
    """Per depth: size, the cost of appending the block that reaches it, verify without and with
    the invocation block (bound to the request), each against bare biscuit-python parse +
    authorize of the same token bytes."""
    keys = [generate_key() for _ in range(max(depths) + 3)]
    root = keys[0]
    resolver = Resolver(TrustStore({}, [root.identity]))
    root_pub = _B.PublicKey.from_bytes(root.public_key, _B.Algorithm.Ed25519)
    request = ChainRequest(CHAIN_AUD, "tools/call", "search", {"q": "agent identity"})
    rows = []
    for depth in depths:
        plain = build_chain(keys, resolver, depth, invoke=False)
        invoked = build_chain(keys, resolver, depth, arguments=request.arguments)
        plain_data = b64url_decode(plain, code="aip_token_malformed", what="token")
        invoked_data = b64url_decode(invoked, code="aip_token_malformed", what="token")
        parent = build_chain(keys, resolver, depth - 1, invoke=False) if depth else None

        def issue(parent: str | None = parent, depth: int = depth) -> str:
            if parent is None:
                return chain_mint(root, holder=keys[1].identity,
                                  scopes=["tool:search", "tool:fs:*"], expires=NOW + 3600,
                                  max_depth=8)
            return chain_delegate(parent, keys[depth], delegate=keys[depth + 1].identity,
                                  context=f"hop {depth}", resolver=resolver, now=NOW,
                                  scopes=["tool:search"])

        def invoke(plain: str = plain, depth: int = depth) -> str:
            return chain_invoke(plain, keys[1 + depth], audience=CHAIN_AUD,
                                operation="tools/call", tool="search",
                                arguments=request.arguments, resolver=resolver, now=NOW)

        def bare_chain(d: bytes = plain_data) -> None:
            bare_authorize(d, root_pub)

        def bare_invoked(d: bytes = invoked_data) -> None:
            bare_authorize(d, root_pub)

        def verify_plain(t: str = plain) -> object:
            return verify_chain(t, resolver=resolver, now=NOW)

        def verify_invoked(t: str = invoked) -> object:
            return verify_chain(t, resolver=resolver, now=NOW, request=request,
                                require_invocation=True)

        subjects: dict[str, Fn] = {
            "bare biscuit (chain)": bare_chain,
            "verify (chain)": verify_plain,
            "bare biscuit (invoked)": bare_invoked,
            "verify + invocation (bound to the request)": verify_invoked,
            "issue (mint or append a delegation)": issue,
            "append the invocation block": invoke,
        }
        rows.append(ChainedRow(depth, len(plain), len(plain_data), len(invoked),
                               len(invoked_data),
                               interleaved(subjects, runs=runs, number=number)))
    return rows
