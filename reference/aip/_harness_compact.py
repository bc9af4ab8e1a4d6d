"""Harness operations of the compact profile (spec/compact.md, "Harness operations")."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ._compact import CompactVerifier, encode_token
from ._encoding import b64url_decode
from ._errors import AIPError
from ._harness_base import Case, operation
from ._identifiers import parse_identifier
from ._keys import SigningKey, public_bytes
from ._proof import (
    DEFAULT_PROOF_MAX_AGE,
    MAX_PROOF_MAX_AGE,
    Invocation,
    args_hash,
    args_hash_of_json,
    create_proof,
    is_short_string,
    token_hash,
)
from ._replay import MemoryReplayCache
from ._scope import check_scopes, scope_allows, scopes_within, tool_scope

__all__: list[str] = []

_IN = "aip_input_invalid"


def _opt_str(case: Case, name: str) -> str | None:
    value = case.input.get(name)
    if value is not None and not isinstance(value, str):
        raise AIPError(_IN, f"input.{name} is not a string")
    return value


def _opt_int(case: Case, name: str, default: int) -> int:
    value = case.input.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise AIPError(_IN, f"input.{name} is not an integer")
    return value


def _opt_bool(case: Case, name: str, default: bool) -> bool:
    value = case.input.get(name, default)
    if not isinstance(value, bool):
        raise AIPError(_IN, f"input.{name} is not a boolean")
    return value


def _invocation(case: Case) -> Invocation | None:
    op = _opt_str(case, "operation")
    tool = _opt_str(case, "tool")
    arguments = case.input.get("arguments")
    arguments_json = _opt_str(case, "arguments_json")
    if op is None:
        if tool is not None or arguments is not None or arguments_json is not None:
            raise AIPError(_IN, "input.tool/arguments given without input.operation")
        return None
    if arguments is not None and not isinstance(arguments, dict):
        raise AIPError(_IN, "input.arguments is not an object")
    return Invocation(operation=op, tool=tool, arguments=arguments, arguments_json=arguments_json)


def _signing_key(jwk: object, identity: object) -> SigningKey:
    if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise AIPError(_IN, "input.key is not an Ed25519 private JWK (kty OKP, crv Ed25519)")
    seed = b64url_decode(jwk.get("d", ""), code=_IN, what="input.key.d")
    if len(seed) != 32:
        raise AIPError(_IN, "input.key.d is not 32 bytes")
    private_key = Ed25519PrivateKey.from_private_bytes(seed)
    if "x" in jwk and b64url_decode(jwk["x"], code=_IN, what="input.key.x") != public_bytes(private_key):
        raise AIPError(_IN, "input.key.x does not match input.key.d")
    if not isinstance(identity, str):
        raise AIPError(_IN, "the signing identity is not a string")
    parse_identifier(identity)
    kid = jwk.get("kid", identity)
    if not isinstance(kid, str) or not kid:
        raise AIPError(_IN, "input.key.kid is not a non-empty string")
    return SigningKey(private_key, identity, kid)


@operation("compact.verify", profile="compact")
def compact_verify(case: Case) -> dict[str, Any]:
    audience = _opt_str(case, "audience")
    if audience is None:
        raise AIPError(_IN, "input.audience (this verifier's identifier) is required")
    cost = case.input.get("cost_usd")
    if cost is not None and (isinstance(cost, bool) or not isinstance(cost, int | float)):
        raise AIPError(_IN, "input.cost_usd is not a number")
    repeat = _opt_int(case, "repeat", 1)
    if not 1 <= repeat <= 3:
        raise AIPError(_IN, "input.repeat is 1..3")
    # The verifier's own settings: refused as input errors, not raised (found by fuzzing).
    if not is_short_string(audience):
        raise AIPError(_IN, "input.audience is not a string of 1..256 characters")
    max_age = _opt_int(case, "proof_max_age", DEFAULT_PROOF_MAX_AGE)
    if not 1 <= max_age <= MAX_PROOF_MAX_AGE:
        raise AIPError(_IN, f"input.proof_max_age is not 1..{MAX_PROOF_MAX_AGE}")
    cache = MemoryReplayCache(trusted_since=_opt_int(case, "replay_trusted_since", 0))
    verifier = CompactVerifier(
        case.resolver(), audience=audience, skew=case.skew,
        require_proof=_opt_bool(case, "require_proof", True),
        proof_max_age=max_age,
        replay_cache=cache, draft01_compat=_opt_bool(case, "draft01", False),
    )
    token = case.input.get("token")
    proof = case.input.get("proof")
    if proof is not None and not isinstance(proof, str):
        raise AIPError("aip_proof_invalid", "proof is not a string")
    invocation = _invocation(case)
    # Requests presented to the same verifier (same replay record) before the case's own, in
    # order; their answers are ignored (AIP-RPL-002 needs two different proofs).
    earlier = case.input.get("earlier", [])
    if not isinstance(earlier, list) or len(earlier) > 3 or not all(
            isinstance(item, dict) for item in earlier):
        raise AIPError(_IN, "input.earlier is not a list of at most 3 request objects")
    for item in earlier:
        before = Case(case.id, case.operation, case.now, item, case.trust)
        earlier_proof, earlier_invocation = _opt_str(before, "proof"), _invocation(before)
        try:
            verifier.verify(item.get("token"), proof=earlier_proof, invocation=earlier_invocation,
                            now=case.now)
        except AIPError:
            pass
    result = None
    for attempt in range(repeat):
        try:
            result = verifier.verify(token, proof=proof, invocation=invocation, now=case.now,
                                     cost_usd=cost)
        except AIPError:
            if attempt == repeat - 1:
                raise
    assert result is not None
    return {
        "iss": result.issuer,
        "sub": result.holder,
        "aud": list(result.audience),
        "scopes": list(result.scopes),
        "iat": result.issued_at,
        "exp": result.expires_at,
        "nbf": result.not_before,
        "jti": result.jti,
        "max_depth": result.max_depth,
        "budget_usd": result.budget_usd,
        "draft01": result.draft01,
        "proof": None if result.proof is None else {
            "jti": result.proof.jti, "iat": result.proof.issued_at,
            "op": result.proof.operation, "tool": result.proof.tool,
            "args_hash": result.proof.args_hash},
    }


@operation("compact.issue", profile="compact")
def compact_issue(case: Case) -> dict[str, Any]:
    claims = case.input.get("claims")
    if not isinstance(claims, dict):
        raise AIPError(_IN, "input.claims is not an object")
    key = _signing_key(case.input.get("key"), claims.get("iss"))
    return {"token": encode_token(claims, key)}


@operation("proof.create", profile="compact")
def proof_create(case: Case) -> dict[str, Any]:
    token = _opt_str(case, "token")
    audience = _opt_str(case, "audience")
    holder = _opt_str(case, "holder")
    jti = _opt_str(case, "jti")
    if token is None or audience is None or holder is None:
        raise AIPError(_IN, "input.token, input.audience and input.holder are required")
    invocation = _invocation(case)
    if invocation is None:
        raise AIPError(_IN, "input.operation is required")
    key = _signing_key(case.input.get("key"), holder)
    return {"proof": create_proof(key, token, audience=audience, invocation=invocation,
                                  now=_opt_int(case, "iat", case.now), jti=jti)}


@operation("proof.digest", profile="compact")
def proof_digest(case: Case) -> dict[str, Any]:
    arguments_json = _opt_str(case, "arguments_json")
    out: dict[str, Any] = {}
    if arguments_json is not None:
        out["args_hash"] = args_hash_of_json(arguments_json)
    else:
        arguments = case.input.get("arguments")
        if arguments is not None and not isinstance(arguments, dict):
            raise AIPError(_IN, "input.arguments is not an object")
        out["args_hash"] = args_hash(arguments)
    token = _opt_str(case, "token")
    if token is not None:
        out["token_hash"] = token_hash(token)
    return out


@operation("scope.check", profile="compact")
def scope_check(case: Case) -> dict[str, Any]:
    scopes = check_scopes(case.input.get("scope"), what="input.scope")
    out: dict[str, Any] = {"scope": list(scopes)}
    tool = case.input.get("tool")
    if tool is not None:
        out["allowed"] = scope_allows(scopes, tool_scope(tool))
    if "within" in case.input:
        wider = check_scopes(case.input["within"], what="input.within")
        out["within"] = scopes_within(scopes, wider)
    return out
