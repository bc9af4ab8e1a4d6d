"""Structure-aware property tests: wire objects whose signature is VALID (made with a trusted
key) but whose header, claims or Datalog facts are arbitrary, so that every check after the
signature is reached. Any of them gives a result or an AIP error with a registry code, never
another exception (issue 7, fuzzing; spec/errors.md AIP-ERR-001)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import biscuit_auth
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aip import (
    ERROR_CODES,
    AIPError,
    ChainRequest,
    CompactVerifier,
    Invocation,
    MemoryReplayCache,
    Resolver,
    TrustStore,
    chain_mint,
    generate_key,
    issue_token,
    verify_chain,
    verify_receipt,
    verify_revocation_list,
)
from aip._encoding import b64url_encode
from aip._proof import jws_encode, token_hash

NOW = 1767225600
AUD = "aip:web:tools.example.com"
ISSUER = generate_key()
HOLDER = generate_key()
EXECUTOR = generate_key()
RESOLVER = Resolver(TrustStore({}, [ISSUER.identity]))
CALL = Invocation("tools/call", "search", {"q": "x"})
TOKEN = issue_token(ISSUER, subject=HOLDER.identity, audience=AUD, scopes=["tool:search"],
                    now=NOW, jti="fuzz-token-0001")
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_B: Any = biscuit_auth


def only_aip_errors(fn: Any) -> None:
    try:
        fn()
    except AIPError as exc:
        assert exc.code in ERROR_CODES, exc.code
        assert "\n" not in exc.reason and "\r" not in exc.reason, exc.reason


scalars = (st.none() | st.booleans() | st.integers(-2**64, 2**64)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=24)
           | st.sampled_from([NOW, NOW + 60, NOW - 60, NOW + 3600, 0, -1, 2**53, 2**53 + 1,
                              ISSUER.identity, HOLDER.identity, AUD, "tool:search", "*",
                              "sha256:" + "0" * 64, "EdDSA", "tools/call", "search"]))
values = st.recursive(scalars, lambda c: st.lists(c, max_size=3)
                      | st.dictionaries(st.text(max_size=8), c, max_size=3), max_leaves=8)


def claims_like(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``base`` with some members replaced by arbitrary values, some dropped, some added."""
    names = sorted(base)

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        out = dict(base)
        for name in draw(st.lists(st.sampled_from(names), max_size=4, unique=True)):
            if draw(st.booleans()):
                out[name] = draw(values)
            else:
                del out[name]
        out.update(draw(st.dictionaries(st.text(max_size=6), values, max_size=2)))
        return out

    return build()


TOKEN_CLAIMS = {"iss": ISSUER.identity, "sub": HOLDER.identity, "aud": AUD,
                "scope": ["tool:search"], "max_depth": 0, "iat": NOW, "exp": NOW + 600,
                "jti": "fuzz-token-0002"}
TOKEN_HEADER = {"alg": "EdDSA", "typ": "aip+jwt", "kid": ISSUER.kid}


@SETTINGS
@given(header=claims_like(TOKEN_HEADER), claims=claims_like(TOKEN_CLAIMS))
def test_signed_tokens_with_arbitrary_claims_give_a_registry_code(
        header: dict[str, Any], claims: dict[str, Any]) -> None:
    token = jws_encode(header, claims, ISSUER.private_key)
    verifier = CompactVerifier(RESOLVER, audience=AUD, require_proof=False)
    only_aip_errors(lambda: verifier.verify(token, invocation=CALL, now=NOW, cost_usd=0.5))
    draft = CompactVerifier(RESOLVER, audience=AUD, require_proof=False, draft01_compat=True)
    only_aip_errors(lambda: draft.verify(token, invocation=CALL, now=NOW))


PROOF_CLAIMS = {"iss": HOLDER.identity, "aud": AUD, "iat": NOW, "jti": "fuzz-proof-00001",
                "token_hash": token_hash(TOKEN), "op": "tools/call", "tool": "search",
                "args_hash": "sha256:" + "0" * 64}
PROOF_HEADER = {"alg": "EdDSA", "typ": "aip-proof+jwt", "kid": HOLDER.kid}


@SETTINGS
@given(header=claims_like(PROOF_HEADER), claims=claims_like(PROOF_CLAIMS))
def test_signed_proofs_with_arbitrary_claims_give_a_registry_code(
        header: dict[str, Any], claims: dict[str, Any]) -> None:
    proof = jws_encode(header, claims, HOLDER.private_key)
    verifier = CompactVerifier(RESOLVER, audience=AUD, require_proof=True,
                               replay_cache=MemoryReplayCache(trusted_since=0))
    only_aip_errors(lambda: verifier.verify(TOKEN, proof=proof, invocation=CALL, now=NOW))


LIST_BODY = {"aip_revocation": "1.0", "issuer": ISSUER.identity, "issued_at": NOW - 10,
             "next_update": NOW + 600, "revoked_ids": ["ab" * 32],
             "revoked_keys": [{"identity": HOLDER.identity, "kid": HOLDER.kid}]}
LIST_HEADER = {"alg": "EdDSA", "typ": "aip-revocation+jws", "kid": ISSUER.kid}


@SETTINGS
@given(header=claims_like(LIST_HEADER), body=claims_like(LIST_BODY))
def test_signed_revocation_lists_with_arbitrary_members_give_a_registry_code(
        header: dict[str, Any], body: dict[str, Any]) -> None:
    jws = jws_encode(header, body, ISSUER.private_key)
    only_aip_errors(lambda: verify_revocation_list(jws, resolver=RESOLVER, now=NOW))


PROOF = jws_encode(PROOF_HEADER, {**PROOF_CLAIMS, "aud": EXECUTOR.identity}, HOLDER.private_key)
RECEIPT_CLAIMS = {"iss": EXECUTOR.identity, "iat": NOW, "token_hash": token_hash(TOKEN),
                  "proof_jti": "fuzz-proof-00001", "proof_hash": token_hash(PROOF),
                  "status": "success", "result_hash": "sha256:" + "1" * 64,
                  "verification_status": "unverified", "tokens_used": 10, "cost_usd": "0.01",
                  "duration_ms": 5}
RECEIPT_HEADER = {"alg": "EdDSA", "typ": "aip-receipt+jwt", "kid": EXECUTOR.kid}


@SETTINGS
@given(header=claims_like(RECEIPT_HEADER), claims=claims_like(RECEIPT_CLAIMS))
def test_signed_receipts_with_arbitrary_claims_give_a_registry_code(
        header: dict[str, Any], claims: dict[str, Any]) -> None:
    receipt = jws_encode(header, claims, EXECUTOR.private_key)
    only_aip_errors(lambda: verify_receipt(receipt, token=TOKEN, proof=PROOF, resolver=RESOLVER,
                                           now=NOW))


# --- chained: arbitrary Datalog terms in blocks signed by the trusted root --------------------

terms = (st.text(max_size=30) | st.integers(-2**63, 2**63 - 1) | st.booleans()
         | st.sampled_from([ISSUER.identity, ISSUER.kid, HOLDER.identity, "tool:search", "*",
                            datetime.fromtimestamp(NOW + 600, tz=UTC),
                            datetime.fromtimestamp(0, tz=UTC), 0, 8, -1, 2**31])
         | st.binary(max_size=8))
AUTHORITY = [ISSUER.identity, ISSUER.kid, HOLDER.identity, "tool:search", 3,
             datetime.fromtimestamp(NOW + 600, tz=UTC), -1, ""]


@SETTINGS
@given(data=st.data())
def test_chained_blocks_with_arbitrary_facts_give_a_registry_code(data: st.DataObject) -> None:
    """An authority block (signed by the trusted root) carrying ``aip_authority`` and other AIP
    facts of any arity and term types, optionally followed by a valid-looking invocation."""
    facts = []
    for name in data.draw(st.lists(st.sampled_from(["aip_authority", "aip_delegation",
                                                    "aip_invocation", "aip_completion",
                                                    "aip_attestation", "other"]),
                                   min_size=1, max_size=3)):
        if name == "aip_authority" and data.draw(st.booleans()):
            row = list(AUTHORITY)
            for i in data.draw(st.lists(st.integers(0, 7), max_size=3)):
                row[i] = data.draw(terms)
        else:
            row = data.draw(st.lists(terms, max_size=10))
        facts.append((name, row))
    source = " ".join(
        f"{name}({', '.join('{' + f'p{i}_{j}' + '}' for j in range(len(row)))});"
        for i, (name, row) in enumerate(facts) if row)
    params = {f"p{i}_{j}": v for i, (_, row) in enumerate(facts) for j, v in enumerate(row)}
    if not source:
        return
    builder = _B.BiscuitBuilder(source, params)
    root = _B.PrivateKey.from_bytes(ISSUER.private_key.private_bytes_raw(), _B.Algorithm.Ed25519)
    token = b64url_encode(bytes(builder.build(root).to_bytes()))
    request = ChainRequest(AUD, "tools/call", "search", {"q": "x"})
    only_aip_errors(lambda: verify_chain(token, resolver=RESOLVER, now=NOW, request=request))
    only_aip_errors(lambda: verify_chain(token, resolver=RESOLVER, now=NOW))


@settings(max_examples=60, deadline=None)
@given(context=st.text(max_size=60), scopes=st.lists(st.text(max_size=12), max_size=3))
def test_honest_library_refuses_bad_inputs_with_registry_codes(context: str,
                                                               scopes: list[str]) -> None:
    only_aip_errors(lambda: chain_mint(ISSUER, holder=HOLDER.identity, scopes=scopes,
                                       expires=NOW + 600))
    only_aip_errors(lambda: json.dumps(issue_token(ISSUER, subject=HOLDER.identity,
                                                   audience=context or AUD, scopes=scopes,
                                                   now=NOW)))
