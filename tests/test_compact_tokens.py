"""Compact tokens through the reference API: issue, verify (V1..V14), draft-01, inspect."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aip import (
    AIPError,
    CompactVerifier,
    Invocation,
    MemoryReplayCache,
    Resolver,
    TrustStore,
    build_document,
    encode_token,
    generate_key,
    inspect_token,
    issue_token,
)
from aip._encoding import b64url_encode

NOW = 1767225600
AUD = "https://tools.example.com/mcp"
WEB = "aip:web:issuer.example.com/agents/a"

ISSUER = generate_key()
HOLDER = generate_key()
WEB_KEY = generate_key(WEB, "key-1")
SHORT_KEY = generate_key(WEB, "key-short")
WEB_DOC = build_document(WEB, [("key-1", WEB_KEY.public_key, NOW - 86400, None),
                               ("key-short", SHORT_KEY.public_key, NOW - 86400, NOW + 600)],
                         expires=NOW + 30 * 86400, signer=("key-1", WEB_KEY.private_key))


def verifier(**options: Any) -> CompactVerifier:
    options.setdefault("require_proof", False)
    store = TrustStore({WEB: WEB_DOC}, [ISSUER.identity, WEB])
    return CompactVerifier(Resolver(store), audience=AUD,
                           replay_cache=MemoryReplayCache(trusted_since=0), **options)


def claims(**changes: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"iss": ISSUER.identity, "sub": HOLDER.identity, "aud": AUD,
                           "scope": ["tool:search", "tool:fs:*"], "max_depth": 0, "iat": NOW,
                           "exp": NOW + 3600, "jti": "t-1"}
    for name, value in changes.items():
        if value is None:
            out.pop(name)
        else:
            out[name] = value
    return out


def code_of(fn: Any) -> str:
    with pytest.raises(AIPError) as info:
        fn()
    return info.value.code


def forge(header: dict[str, Any], payload: dict[str, Any], key: Any = ISSUER) -> str:
    h = b64url_encode(json.dumps(header).encode())
    p = b64url_encode(json.dumps(payload).encode())
    return f"{h}.{p}.{b64url_encode(key.private_key.sign(f'{h}.{p}'.encode()))}"


def test_issued_token_verifies_and_reports_issuer_holder_scopes_and_expiry() -> None:
    token = issue_token(ISSUER, subject=HOLDER.identity, audience=AUD, scopes=["tool:*"], now=NOW)
    result = verifier().verify(token, now=NOW + 10)
    assert (result.issuer, result.holder, result.audience, result.scopes) == (
        ISSUER.identity, HOLDER.identity, (AUD,), ("tool:*",))
    assert result.expires_at == NOW + 3600 and result.jti and not result.draft01


def test_web_issuer_token_is_verified_with_the_key_its_document_names() -> None:
    token = encode_token(claims(iss=WEB), WEB_KEY)
    assert verifier().verify(token, now=NOW).kid == "key-1"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), [1, float("-inf")]])
def test_issuer_refuses_claims_json_cannot_carry(value: Any) -> None:
    # An unknown claim that is NaN or infinite (json.loads reads 1e400 as inf) would make a
    # payload every verifier rejects as malformed: refused with the code, never a ValueError.
    assert code_of(lambda: encode_token(claims(note=value), ISSUER)) == "aip_token_malformed"


def test_memoised_decoding_never_skips_the_time_checks() -> None:
    v = verifier()
    token = encode_token(claims(), ISSUER)
    v.verify(token, now=NOW)
    assert code_of(lambda: v.verify(token, now=NOW + 3661)) == "aip_token_expired"


def test_cached_key_still_honours_the_key_validity_window() -> None:
    v = verifier()
    token = encode_token(claims(iss=WEB), SHORT_KEY)
    v.verify(token, now=NOW)
    late = claims(iss=WEB, iat=NOW + 700, exp=NOW + 800, jti="late")
    assert code_of(lambda: v.verify(encode_token(late, SHORT_KEY), now=NOW + 700)) == "aip_key_inactive"


@pytest.mark.parametrize(("header", "code"), [
    ({"alg": "none", "typ": "aip+jwt"}, "aip_algorithm_unsupported"),
    ({"alg": "HS256", "typ": "aip+jwt"}, "aip_algorithm_unsupported"),
    ({"alg": "EdDSA", "typ": "JWT"}, "aip_token_malformed"),
    ({"alg": "EdDSA", "typ": "aip+jwt", "jwk": {}}, "aip_token_malformed"),
    ({"alg": "EdDSA", "typ": "aip+jwt", "crit": ["exp"]}, "aip_token_malformed"),
    ({"alg": "EdDSA", "typ": "aip+jwt"}, "aip_token_malformed"),  # no kid
])
def test_hostile_headers_are_rejected_with_their_code(header: dict[str, Any], code: str) -> None:
    header = {**header}
    if "kid" not in header and header.get("alg") != "EdDSA":
        header["kid"] = ISSUER.identity
    if "jwk" in header or "crit" in header:
        header["kid"] = ISSUER.identity
    assert code_of(lambda: verifier().verify(forge(header, claims()), now=NOW)) == code


@pytest.mark.parametrize(("change", "code"), [
    ({"aud": "https://elsewhere/mcp"}, "aip_audience_mismatch"),
    ({"exp": NOW - 61, "iat": NOW - 3600}, "aip_token_expired"),
    ({"nbf": NOW + 61}, "aip_token_not_yet_valid"),
    ({"scope": []}, "aip_token_malformed"),
    ({"jti": None}, "aip_token_malformed"),
    ({"exp": NOW + 86401}, "aip_token_malformed"),
])
def test_claim_failures_name_the_registry_code(change: dict[str, Any], code: str) -> None:
    token = forge({"alg": "EdDSA", "typ": "aip+jwt", "kid": ISSUER.identity}, claims(**change))
    assert code_of(lambda: verifier().verify(token, now=NOW)) == code


def test_token_signed_by_another_trusted_identity_fails_the_signature_check() -> None:
    token = forge({"alg": "EdDSA", "typ": "aip+jwt", "kid": ISSUER.identity}, claims(), key=WEB_KEY)
    assert code_of(lambda: verifier().verify(token, now=NOW)) == "aip_signature_invalid"


def test_untrusted_issuer_is_unresolvable_even_with_a_good_signature() -> None:
    stranger = generate_key()
    token = encode_token(claims(iss=stranger.identity), stranger)
    assert code_of(lambda: verifier().verify(token, now=NOW)) == "aip_identity_unresolvable"


def test_scope_is_checked_against_the_tool_called() -> None:
    token = encode_token(claims(), ISSUER)
    v = verifier()
    v.verify(token, invocation=Invocation("tools/call", "fs:read"), now=NOW)
    assert code_of(lambda: v.verify(token, invocation=Invocation("tools/call", "delete"), now=NOW)) \
        == "aip_scope_insufficient"


def test_proofs_are_required_by_default() -> None:
    token = encode_token(claims(), ISSUER)
    strict = verifier(require_proof=True)
    assert code_of(lambda: strict.verify(token, now=NOW)) == "aip_proof_missing"


def test_missing_token_is_reported_as_missing() -> None:
    assert code_of(lambda: verifier().verify(None, now=NOW)) == "aip_token_missing"


def test_oversized_token_hits_the_size_limit() -> None:
    token = encode_token(claims(note="x" * 9000), ISSUER)
    assert code_of(lambda: verifier().verify(token, now=NOW)) == "aip_limit_exceeded"


def test_draft01_token_is_rejected_by_default_and_accepted_in_compatibility_mode() -> None:
    draft = forge({"alg": "EdDSA", "typ": "aip+jwt"}, claims(aud=None, jti=None))
    assert code_of(lambda: verifier().verify(draft, now=NOW)) == "aip_token_malformed"
    result = verifier(draft01_compat=True).verify(draft, now=NOW)
    assert result.draft01 and result.audience == () and result.jti is None


def test_issuer_refuses_to_sign_a_malformed_claim_set() -> None:
    assert code_of(lambda: encode_token(claims(scope=["tool:"]), ISSUER)) == "aip_token_malformed"
    assert code_of(lambda: encode_token(claims(iss=WEB), ISSUER)) == "aip_input_invalid"


def test_inspect_decodes_without_verifying_and_says_so() -> None:
    forged = forge({"alg": "EdDSA", "typ": "aip+jwt", "kid": "x"}, claims(), key=HOLDER)
    out = inspect_token(forged, now=NOW + 4000)
    assert out["claims"]["iss"] == ISSUER.identity
    assert out["notes"][0].startswith("NOT VERIFIED")
    assert any("expired" in n for n in out["notes"])
