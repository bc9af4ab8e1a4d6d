"""Compact-mode benchmark: token size, and issue / verify / verify-with-proof times as ratios to
a raw Ed25519 verification measured in the same run (medians over many runs, interleaved so
that machine noise hits baseline and subject alike).

    python bench/bench_compact.py [--runs 41] [--number 200]

Not a test: it prints figures; nothing asserts wall-clock times.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from aip import (
    CompactVerifier,
    Invocation,
    MemoryReplayCache,
    Resolver,
    TrustStore,
    build_document,
    create_proof,
    generate_key,
    issue_token,
)

NOW = 1767225600
AUD = "https://tools.example.com/mcp"
ISSUER_ID = "aip:web:issuer.example.com/agents/orchestrator"


def _per_call_us(fn: Callable[[], object], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=41)
    parser.add_argument("--number", type=int, default=200)
    args = parser.parse_args(argv)

    issuer = generate_key(ISSUER_ID, "key-1")
    holder = generate_key()
    document = build_document(ISSUER_ID, [("key-1", issuer.public_key, NOW - 86400, None)],
                              expires=NOW + 30 * 86400, signer=("key-1", issuer.private_key))
    resolver = Resolver(TrustStore({ISSUER_ID: document}, [ISSUER_ID]))
    call = Invocation("tools/call", "search", {"q": "agent identity", "limit": 10})

    def new_token(jti: str) -> str:
        return issue_token(issuer, subject=holder.identity, audience=AUD,
                           scopes=["tool:search", "tool:fs:*"], now=NOW, jti=jti)

    token = new_token("bench-token-0001")
    bearer = CompactVerifier(resolver, audience=AUD, require_proof=False)
    # A large fresh-token pool: every verification sees a token it has never decoded.
    fresh_pool = [new_token(f"fresh-{i:06d}") for i in range(args.runs * args.number + 10)]
    fresh_iter = iter(fresh_pool)
    fresh_verifier = CompactVerifier(resolver, audience=AUD, require_proof=False)

    proofs = (create_proof(holder, token, audience=AUD, invocation=call, now=NOW, jti=f"p{i}")
              for i in itertools.count())
    proving = CompactVerifier(resolver, audience=AUD, require_proof=True,
                              replay_cache=MemoryReplayCache(max_entries=10**7, trusted_since=0))
    proof_pool = [next(proofs) for _ in range(args.runs * args.number + 10)]
    proof_iter = iter(proof_pool)

    raw_key = Ed25519PrivateKey.generate()
    raw_pub = raw_key.public_key()
    message = token.rsplit(".", 1)[0].encode()
    raw_sig = raw_key.sign(message)

    subjects: dict[str, Callable[[], object]] = {
        "raw Ed25519 verify": lambda: raw_pub.verify(raw_sig, message),
        "issue": lambda: new_token("bench-token-0002"),
        "verify (token seen before)": lambda: bearer.verify(token, now=NOW),
        "verify (first sight)": lambda: fresh_verifier.verify(next(fresh_iter), now=NOW),
        "verify with proof": lambda: proving.verify(token, proof=next(proof_iter), invocation=call,
                                                    now=NOW),
    }
    for fn in subjects.values():  # warm up (and fail loudly if anything is wrong)
        fn()
    samples: dict[str, list[float]] = {name: [] for name in subjects}
    for _ in range(args.runs):
        for name, fn in subjects.items():
            samples[name].append(_per_call_us(fn, args.number))

    base = statistics.median(samples["raw Ed25519 verify"])
    print(f"compact token size: {len(token)} octets; proof size: {len(proof_pool[0])} octets")
    print(f"python {sys.version.split()[0]}; medians of {args.runs} runs x {args.number} calls")
    print(f"{'measure':32} {'median us':>10} {'ratio':>7}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:32} {median:10.1f} {median / base:6.2f}x")
    ratio = statistics.median(samples["verify (token seen before)"]) / base
    print(f"target verify <= 1.30x raw Ed25519 verify: {'met' if ratio <= 1.3 else 'NOT met'} "
          f"({ratio:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
