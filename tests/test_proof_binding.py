"""Invocation proofs: digests, binding to the request received, freshness, replay."""

from __future__ import annotations

from typing import Any

import pytest

from aip import (
    AIPError,
    CompactVerifier,
    Invocation,
    MemoryReplayCache,
    Resolver,
    TrustStore,
    args_hash,
    create_proof,
    generate_key,
    issue_token,
    token_hash,
)
from aip._proof import args_hash_of_json

NOW = 1767225600
AUD = "https://tools.example.com/mcp"
ISSUER = generate_key()
HOLDER = generate_key()
TOKEN = issue_token(ISSUER, subject=HOLDER.identity, audience=AUD, scopes=["tool:*"], now=NOW)
CALL = Invocation("tools/call", "search", {"q": "aip", "limit": 10})


def verifier(cache: MemoryReplayCache | None = None, **options: Any) -> CompactVerifier:
    return CompactVerifier(Resolver(TrustStore({}, [ISSUER.identity])), audience=AUD,
                           replay_cache=cache if cache is not None else MemoryReplayCache(trusted_since=0),
                           **options)


def code_of(fn: Any) -> str:
    with pytest.raises(AIPError) as info:
        fn()
    return info.value.code


def test_args_hash_is_sha256_hex_of_the_rfc8785_form() -> None:
    assert args_hash({"b": 1, "a": "x"}) == \
        "sha256:" + __import__("hashlib").sha256(b'{"a":"x","b":1}').hexdigest()


def test_member_order_whitespace_and_number_spelling_do_not_change_the_digest() -> None:
    assert args_hash_of_json('{ "limit": 1.0E1, "q": "aip" }') == args_hash({"q": "aip", "limit": 10})


def test_absent_arguments_hash_like_an_empty_object() -> None:
    assert args_hash(None) == args_hash({})


def test_unrepresentable_arguments_are_input_errors() -> None:
    assert code_of(lambda: args_hash({"n": 2**60})) == "aip_input_invalid"
    assert code_of(lambda: args_hash_of_json('{"a":1,"a":2}')) == "aip_input_invalid"


def test_token_hash_covers_the_exact_token_text() -> None:
    assert token_hash(TOKEN) != token_hash(TOKEN + " ")


def test_a_bound_proof_verifies_and_is_reported() -> None:
    proof = create_proof(HOLDER, TOKEN, audience=AUD, invocation=CALL, now=NOW, jti="p1")
    result = verifier().verify(TOKEN, proof=proof, invocation=CALL, now=NOW)
    assert result.proof is not None and result.proof.jti == "p1"


@pytest.mark.parametrize(("received", "code"), [
    (Invocation("tools/call", "fs:read", {"q": "aip", "limit": 10}), "aip_invocation_mismatch"),
    (Invocation("tools/call", "search", {"q": "aip", "limit": 11}), "aip_invocation_mismatch"),
    (Invocation("resources/read", "search", {"q": "aip", "limit": 10}), "aip_invocation_mismatch"),
])
def test_a_proof_must_match_the_request_actually_received(received: Invocation, code: str) -> None:
    proof = create_proof(HOLDER, TOKEN, audience=AUD, invocation=CALL, now=NOW)
    assert code_of(lambda: verifier().verify(TOKEN, proof=proof, invocation=received, now=NOW)) == code


def test_a_proof_signed_by_another_key_fails_its_signature() -> None:
    impostor = generate_key()
    forged = create_proof(type(HOLDER)(impostor.private_key, HOLDER.identity, HOLDER.identity),
                          TOKEN, audience=AUD, invocation=CALL, now=NOW)
    assert code_of(lambda: verifier().verify(TOKEN, proof=forged, invocation=CALL, now=NOW)) \
        == "aip_signature_invalid"


def test_a_proof_for_another_token_is_not_bound() -> None:
    other = issue_token(ISSUER, subject=HOLDER.identity, audience=AUD, scopes=["tool:*"], now=NOW)
    proof = create_proof(HOLDER, other, audience=AUD, invocation=CALL, now=NOW)
    assert code_of(lambda: verifier().verify(TOKEN, proof=proof, invocation=CALL, now=NOW)) \
        == "aip_proof_invalid"


def test_stale_and_future_proofs_are_refused_at_one_second_past_the_edge() -> None:
    v = verifier()
    for iat, ok in [(NOW - 360, True), (NOW - 361, False), (NOW + 60, True), (NOW + 61, False)]:
        proof = create_proof(HOLDER, TOKEN, audience=AUD, invocation=CALL, now=iat)
        if ok:
            v.verify(TOKEN, proof=proof, invocation=CALL, now=NOW)
        else:
            assert code_of(lambda p=proof: v.verify(TOKEN, proof=p, invocation=CALL, now=NOW)) \
                == "aip_proof_invalid"


def test_a_replayed_proof_is_detected() -> None:
    v = verifier()
    proof = create_proof(HOLDER, TOKEN, audience=AUD, invocation=CALL, now=NOW)
    v.verify(TOKEN, proof=proof, invocation=CALL, now=NOW)
    assert code_of(lambda: v.verify(TOKEN, proof=proof, invocation=CALL, now=NOW + 1)) \
        == "aip_replay_detected"


def test_a_rejected_request_does_not_consume_the_jti() -> None:
    v = verifier()
    proof = create_proof(HOLDER, TOKEN, audience=AUD, invocation=CALL, now=NOW)
    wrong = Invocation("tools/call", "other", CALL.arguments)
    assert code_of(lambda: v.verify(TOKEN, proof=proof, invocation=wrong, now=NOW)) \
        == "aip_invocation_mismatch"
    v.verify(TOKEN, proof=proof, invocation=CALL, now=NOW)


def test_after_a_restart_proofs_older_than_the_new_memory_are_refused() -> None:
    restarted = verifier(MemoryReplayCache(trusted_since=NOW - 10))
    old = create_proof(HOLDER, TOKEN, audience=AUD, invocation=CALL, now=NOW - 20)
    assert code_of(lambda: restarted.verify(TOKEN, proof=old, invocation=CALL, now=NOW)) \
        == "aip_replay_detected"
    fresh = create_proof(HOLDER, TOKEN, audience=AUD, invocation=CALL, now=NOW + 50)
    restarted.verify(TOKEN, proof=fresh, invocation=CALL, now=NOW + 50)
