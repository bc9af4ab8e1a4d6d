"""Harness operations of the chained profile (spec/chained.md, "Harness operations")."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ._chained import ChainRequest, VerifiedChain, chain_delegate, chain_invoke, chain_mint, verify_chain
from ._encoding import b64url_decode
from ._errors import AIPError
from ._harness_base import Case, operation
from ._identifiers import parse_identifier
from ._keys import SigningKey, public_bytes
from ._replay import MemoryReplayCache
from ._revocation import RevocationPolicy, verify_revocation_list

__all__ = ["chain_output"]

_IN = "aip_input_invalid"


def _str(case: Case, name: str, *, required: bool = True) -> str | None:
    value = case.input.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise AIPError(_IN, f"input.{name} is not a string")
    return value


def _int(case: Case, name: str, default: int | None = None) -> int | None:
    value = case.input.get(name, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise AIPError(_IN, f"input.{name} is not an integer")
    return value


def _bool(case: Case, name: str) -> bool:
    value = case.input.get(name, False)
    if not isinstance(value, bool):
        raise AIPError(_IN, f"input.{name} is not a boolean")
    return value


def _key(case: Case, name: str = "key") -> SigningKey:
    jwk = case.input.get(name)
    if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise AIPError(_IN, f"input.{name} is not an Ed25519 private JWK")
    seed = b64url_decode(jwk.get("d", ""), code=_IN, what=f"input.{name}.d")
    if len(seed) != 32:
        raise AIPError(_IN, f"input.{name}.d is not 32 bytes")
    private_key = Ed25519PrivateKey.from_private_bytes(seed)
    identity = jwk.get("aip_id")
    if not isinstance(identity, str):
        raise AIPError(_IN, f"input.{name}.aip_id (the identity it signs for) is missing")
    parse_identifier(identity)
    kid = jwk.get("kid", identity)
    if not isinstance(kid, str) or not kid:
        raise AIPError(_IN, f"input.{name}.kid is not a non-empty string")
    if "x" in jwk and b64url_decode(jwk["x"], code=_IN, what="x") != public_bytes(private_key):
        raise AIPError(_IN, f"input.{name}.x does not match its d")
    return SigningKey(private_key, identity, kid)


def _request(case: Case) -> ChainRequest | None:
    raw = case.input.get("request")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise AIPError(_IN, "input.request is not an object")
    audience, op, tool = raw.get("audience"), raw.get("operation"), raw.get("tool")
    arguments = raw.get("arguments", {})
    if not all(isinstance(v, str) for v in (audience, op, tool)) or not isinstance(arguments, dict):
        raise AIPError(_IN, "input.request needs audience, operation, tool (strings) and "
                       "arguments (object)")
    assert isinstance(audience, str) and isinstance(op, str) and isinstance(tool, str)
    return ChainRequest(audience, op, tool, arguments)


def chain_output(chain: VerifiedChain) -> dict[str, Any]:
    """The ``chained.verify`` output object (spec/chained.md, "Harness operations")."""
    out = chain.to_json()
    keep = ("issuer", "root_kid", "holder", "scopes", "max_depth", "depth", "expires",
            "budget_ceiling", "principal", "hops", "invocation", "revocation_ids", "authorized")
    return {k: out[k] for k in keep}


@operation("chained.verify", profile="chained")
def chained_verify(case: Case) -> dict[str, Any]:
    token = _str(case, "token")
    assert token is not None
    resolver = case.resolver()
    lists = case.input.get("revocation_lists", [])
    if not isinstance(lists, list):
        raise AIPError(_IN, "input.revocation_lists is not a list")
    policy = RevocationPolicy(
        tuple(verify_revocation_list(item, resolver=resolver, now=case.now, skew=case.skew)
              for item in lists), required=_bool(case, "require_revocation"))
    repeat = _int(case, "repeat", 1)
    if repeat is None or not 1 <= repeat <= 3:
        raise AIPError(_IN, "input.repeat is 1..3")
    cache = MemoryReplayCache(trusted_since=0)
    request = _request(case)
    chain: VerifiedChain | None = None
    for _ in range(repeat):
        chain = verify_chain(token, resolver=resolver, now=case.now, skew=case.skew,
                             request=request, require_invocation=_bool(case, "require_invocation"),
                             replay_cache=cache, revocation=policy)
    assert chain is not None
    return chain_output(chain)


@operation("chained.mint", profile="chained")
def chained_mint(case: Case) -> dict[str, Any]:
    key = _key(case)
    scopes = case.input.get("scopes")
    if not isinstance(scopes, list):
        raise AIPError(_IN, "input.scopes is not a list")
    holder = _str(case, "holder")
    assert holder is not None
    expires = _int(case, "expires", case.now + 3600)
    assert expires is not None
    token = chain_mint(key, holder=holder, scopes=scopes, expires=expires,
                       max_depth=_int(case, "max_depth", 3) or 0,
                       budget_ceiling=_int(case, "budget_ceiling"),
                       principal=_str(case, "principal", required=False))
    return {"token": token}


@operation("chained.delegate", profile="chained")
def chained_delegate(case: Case) -> dict[str, Any]:
    token, delegate, context = (_str(case, n) for n in ("token", "delegate", "context"))
    assert token is not None and delegate is not None and context is not None
    scopes = case.input.get("scopes")
    if scopes is not None and not isinstance(scopes, list):
        raise AIPError(_IN, "input.scopes is not a list")
    out = chain_delegate(token, _key(case), delegate=delegate, context=context,
                         resolver=case.resolver(), now=case.now, scopes=scopes,
                         expires=_int(case, "expires"),
                         budget_ceiling=_int(case, "budget_ceiling"), skew=case.skew)
    return {"token": out}


@operation("chained.invoke", profile="chained")
def chained_invoke(case: Case) -> dict[str, Any]:
    token = _str(case, "token")
    assert token is not None
    request = _request(case)
    if request is None:
        raise AIPError(_IN, "input.request is required")
    out = chain_invoke(token, _key(case), audience=request.audience, operation=request.operation,
                       tool=request.tool, arguments=request.arguments, resolver=case.resolver(),
                       now=case.now, jti=_str(case, "jti", required=False), skew=case.skew)
    return {"token": out}
