"""Crafting tokens, proofs and chains for the live probes, from primitives only
(cryptography, biscuit-python, rfc8785); never from ``aip``, so a server is checked against
bytes its own library did not make."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import base58
import biscuit_auth
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .._errors import ConformanceError
from ..generators._common import b64url, jcs, key_id, public_raw

__all__ = [
    "Hop",
    "Identity",
    "args_digest",
    "b64decode",
    "chain",
    "compact_token",
    "fresh_identity",
    "load_identity",
    "proof",
    "public_key_of",
    "sign_jws",
    "token_digest",
    "token_digest_bytes",
]

_B: Any = biscuit_auth
TOKEN_TYP = "aip+jwt"  # noqa: S105
PROOF_TYP = "aip-proof+jwt"


@dataclass(frozen=True)
class Identity:
    """A signing identity: its identifier, key id and private key."""

    id: str
    kid: str
    key: Ed25519PrivateKey


def fresh_identity() -> Identity:
    key = Ed25519PrivateKey.generate()
    ident = key_id(key)
    return Identity(ident, ident, key)


def _b64decode(text: str) -> bytes:
    import base64
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_identity(path: Path) -> Identity:
    """Read an ``aip keygen`` key file (an Ed25519 JWK with ``aip_id`` and ``kid``)."""
    try:
        jwk = json.loads(path.read_text(encoding="utf-8"))
        seed = _b64decode(jwk["d"])
        key = Ed25519PrivateKey.from_private_bytes(seed)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConformanceError(f"cannot read the key file {path}: {exc}") from None
    ident = jwk.get("aip_id") or key_id(key)
    kid = jwk.get("kid") or ident
    if not isinstance(ident, str) or not isinstance(kid, str):
        raise ConformanceError(f"key file {path}: aip_id and kid must be strings")
    return Identity(ident, kid, key)


def public_key_of(identifier: str) -> bytes | None:
    """The Ed25519 public key an ``aip:key:ed25519:z…`` identifier carries (None for any other
    identifier: an ``aip:web`` key needs its identity document)."""
    prefix = "aip:key:ed25519:z"
    if not identifier.startswith(prefix):
        return None
    try:
        raw: bytes = base58.b58decode(identifier[len(prefix):])
    except ValueError:
        return None
    return raw[2:] if len(raw) == 34 and raw[:2] == b"\xed\x01" else None


def _segment(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def sign_jws(header: Mapping[str, Any], claims: Mapping[str, Any],
             key: Ed25519PrivateKey | None) -> str:
    """A JWS compact serialization; ``key=None`` gives an empty signature (``alg: none``)."""
    signing_input = f"{_segment(dict(header))}.{_segment(dict(claims))}"
    signature = b"" if key is None else key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url(signature)}"


def token_digest(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_digest_bytes(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def b64decode(text: str) -> bytes:
    return _b64decode(text)


def args_digest(arguments: Mapping[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(jcs(dict(arguments))).hexdigest()


def compact_token(issuer: Identity, *, subject: str, audience: str, scopes: Sequence[str],
                  now: int, lifetime: int = 600, signer: Ed25519PrivateKey | None = None,
                  alg: str = "EdDSA", iat: int | None = None, **extra: Any) -> str:
    issued = now if iat is None else iat
    claims: dict[str, Any] = {
        "iss": issuer.id, "sub": subject, "aud": audience, "scope": list(scopes),
        "max_depth": 0, "iat": issued, "nbf": issued, "exp": issued + lifetime,
        "jti": b64url(secrets.token_bytes(16)),
    }
    claims.update(extra)
    header = {"alg": alg, "typ": TOKEN_TYP, "kid": issuer.kid}
    key = None if alg == "none" else (signer or issuer.key)
    return sign_jws(header, claims, key)


def proof(holder: Identity, token: str, *, audience: str, operation: str, tool: str | None,
          arguments: Mapping[str, Any], now: int, signer: Ed25519PrivateKey | None = None,
          jti: str | None = None) -> str:
    claims: dict[str, Any] = {
        "iss": holder.id, "aud": audience, "iat": now,
        "jti": jti or b64url(secrets.token_bytes(16)), "token_hash": token_digest(token),
        "op": operation,
    }
    if tool is not None:
        claims["tool"] = tool
    claims["args_hash"] = args_digest(arguments)
    header = {"alg": "EdDSA", "typ": PROOF_TYP, "kid": holder.kid}
    return sign_jws(header, claims, signer or holder.key)


# --- chained mode (Biscuit v3, third-party blocks) ------------------------------------------

AUTHORITY = ("aip_authority({identity}, {kid}, {holder}, {scopes}, {max_depth}, {expires}, "
             "{budget_ceiling}, {principal});")
DELEGATION = ("aip_delegation({seq}, {delegator}, {kid}, {delegate}, {context}, {scopes}, "
              "{expires}, {budget_ceiling}, {principal});")
INVOCATION = ("aip_invocation({seq}, {invoker}, {kid}, {audience}, {operation}, {tool}, "
              "{args_hash}, {jti}, {iat});")


def _when(seconds: int) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(seconds, tz=_dt.UTC)


def _priv(key: Ed25519PrivateKey) -> Any:
    return _B.PrivateKey.from_bytes(key.private_bytes_raw(), _B.Algorithm.Ed25519)


def _pub(key: Ed25519PrivateKey) -> Any:
    return _B.PublicKey.from_bytes(public_raw(key), _B.Algorithm.Ed25519)


def _checked(code: str, params: dict[str, Any], scopes: Sequence[str], expires: int) -> Any:
    block = _B.BlockBuilder(code, params)
    exact = {s for s in scopes if not s.endswith("*")}
    prefixes = sorted(s[:-1] for s in scopes if s.endswith("*"))
    if "*" in scopes:
        block.add_code("check if tool($t);")
    else:
        parts: list[str] = []
        cparams: dict[str, Any] = {}
        if exact:
            cparams["aip_exact"] = exact
            parts.append("tool($t), {aip_exact}.contains($t)")
        for i, prefix in enumerate(prefixes):
            cparams[f"aip_prefix{i}"] = prefix
            parts.append(f"tool($t), $t.starts_with({{aip_prefix{i}}})")
        block.add_code("check if " + " or ".join(parts) + ";", cparams)
    block.add_code("check if time($t), $t <= {aip_expires};", {"aip_expires": _when(expires)})
    return block


@dataclass(frozen=True)
class Hop:
    """One delegation: ``delegator`` hands ``scopes`` to ``delegate``; ``signer`` signs the
    block (normally the delegator's own key; another key forges the hop)."""

    delegator: Identity
    delegate: Identity
    scopes: Sequence[str]
    context: str = "probe delegation"
    signer: Identity | None = None


def chain(issuer: Identity, *, holder: Identity, scopes: Sequence[str], expires: int,
          max_depth: int = 3, hops: Sequence[Hop] = (),
          invocation: Mapping[str, Any] | None = None, invoker: Identity | None = None,
          plain_append: bool = False) -> str:
    """A chained token: block 0 by ``issuer``, then ``hops``, then an optional invocation
    block (``invocation`` holds audience, operation, tool, arguments, iat) signed by
    ``invoker``. ``plain_append`` adds the last hop as a draft-01 style plain block."""
    builder = _B.BiscuitBuilder()
    builder.merge(_checked(AUTHORITY, {
        "identity": issuer.id, "kid": issuer.kid, "holder": holder.id,
        "scopes": " ".join(scopes), "max_depth": max_depth, "expires": _when(expires),
        "budget_ceiling": -1, "principal": ""}, scopes, expires))
    token = builder.build(_priv(issuer.key))
    for index, hop in enumerate(hops, start=1):
        block = _checked(DELEGATION, {
            "seq": index, "delegator": hop.delegator.id, "kid": hop.delegator.kid,
            "delegate": hop.delegate.id, "context": hop.context, "scopes": " ".join(hop.scopes),
            "expires": _when(expires), "budget_ceiling": -1, "principal": ""},
            hop.scopes, expires)
        signer = hop.signer or hop.delegator
        if plain_append and index == len(hops):
            token = token.append(block)
        else:
            request = token.third_party_request()
            token = token.append_third_party(_pub(signer.key),
                                             request.create_block(_priv(signer.key), block))
    if invocation is not None:
        assert invoker is not None
        block = _B.BlockBuilder(INVOCATION, {
            "seq": len(hops) + 1, "invoker": invoker.id, "kid": invoker.kid,
            "audience": invocation["audience"], "operation": invocation["operation"],
            "tool": invocation["tool"], "args_hash": args_digest(invocation["arguments"]),
            "jti": b64url(secrets.token_bytes(16)), "iat": _when(int(invocation["iat"]))})
        request = token.third_party_request()
        token = token.append_third_party(_pub(invoker.key),
                                         request.create_block(_priv(invoker.key), block))
    return b64url(bytes(token.to_bytes()))
