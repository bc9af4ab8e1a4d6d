"""Fixtures for the compact-mode vectors: seeded identities, pinned documents and a JWS
crafter that can produce any header, payload or signature bytes, honest or hostile.

Built on cryptography, hmac, rfc8785 and hashlib only; nothing comes from ``aip``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ._common import (
    NOW,
    b64url,
    compact_json,
    ed25519_multibase,
    jcs,
    key_id,
    public_raw,
    rfc3339,
    seeded_key,
)

__all__ = [
    "AUD",
    "DRAFT_WEB",
    "HOLDER",
    "HOLDER_WEB",
    "ISS_KEY",
    "ISS_WEB",
    "MISSING_WEB",
    "OTHER_WEB",
    "TRUST",
    "args_digest",
    "base_claims",
    "craft",
    "jwk",
    "token_digest",
]

DAY = 86400
AUD = "https://tools.example.com/mcp"
ISS_WEB = "aip:web:issuer.example.com/agents/orchestrator"
OTHER_WEB = "aip:web:other.example.net/agents/peer"
HOLDER_WEB = "aip:web:agent.example.com/agents/worker"
DRAFT_WEB = "aip:web:legacy.example.com/agents/old"
MISSING_WEB = "aip:web:missing.example.com/agents/x"  # trusted, but no document is pinned

K_ISS1 = seeded_key("compact/issuer-key-1")
K_ISS2 = seeded_key("compact/issuer-key-2")
K_ISS_OLD = seeded_key("compact/issuer-key-old")
K_ISS_NEXT = seeded_key("compact/issuer-key-next")
K_ISSK = seeded_key("compact/issuer-aip-key")
K_OTHER = seeded_key("compact/other-key-1")
K_HOLDER = seeded_key("compact/holder")
K_HOLDER_WEB = seeded_key("compact/holder-web-key-1")
K_DRAFT = seeded_key("compact/legacy-key-1")
K_ATTACKER = seeded_key("compact/attacker")
K_UNTRUSTED = seeded_key("compact/untrusted-issuer")

ISS_KEY = key_id(K_ISSK)
HOLDER = key_id(K_HOLDER)
ATTACKER = key_id(K_ATTACKER)
UNTRUSTED = key_id(K_UNTRUSTED)

EC_KEY = ec.derive_private_key(int.from_bytes(hashlib.sha256(b"aip-vectors/compact/p256").digest(), "big"),
                               ec.SECP256R1())


def _key_entry(kid: str, key: Ed25519PrivateKey, valid_from: int = NOW - 30 * DAY,
               valid_until: int | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": kid, "type": "Ed25519",
                             "public_key_multibase": ed25519_multibase(public_raw(key)),
                             "valid_from": rfc3339(valid_from)}
    if valid_until is not None:
        entry["valid_until"] = rfc3339(valid_until)
    return entry


def _document(ident: str, keys: list[dict[str, Any]], signer: tuple[str, Ed25519PrivateKey]) -> dict[str, Any]:
    """A signed identity document (detached JWS over the RFC 8785 form, spec identities)."""
    body: dict[str, Any] = {"aip": "1.0", "id": ident, "public_keys": keys,
                            "delegation": {"max_depth": 3}, "expires": rfc3339(NOW + 30 * DAY)}
    kid, key = signer
    header = b64url(compact_json({"alg": "EdDSA", "kid": kid, "typ": "aip-document+jws"}).encode())
    signature = key.sign(header.encode() + b"." + b64url(jcs(body)).encode())
    return {**body, "document_signature": f"{header}..{b64url(signature)}"}


DOCUMENTS: dict[str, Any] = {
    ISS_WEB: _document(ISS_WEB, [
        _key_entry("key-1", K_ISS1),
        _key_entry("key-2", K_ISS2),
        _key_entry("key-old", K_ISS_OLD, NOW - 60 * DAY, NOW - 10 * DAY),
        _key_entry("key-next", K_ISS_NEXT, NOW + 10 * DAY),
    ], ("key-1", K_ISS1)),
    OTHER_WEB: _document(OTHER_WEB, [_key_entry("key-1", K_OTHER)], ("key-1", K_OTHER)),
    HOLDER_WEB: _document(HOLDER_WEB, [_key_entry("key-1", K_HOLDER_WEB)], ("key-1", K_HOLDER_WEB)),
    DRAFT_WEB: _document(DRAFT_WEB, [_key_entry("key-1", K_DRAFT)], ("key-1", K_DRAFT)),
}

TRUST: dict[str, Any] = {
    "documents": DOCUMENTS,
    "trusted_issuers": [ISS_WEB, ISS_KEY, OTHER_WEB, DRAFT_WEB, MISSING_WEB],
    "skew": 60,
}


def jwk(key: Ed25519PrivateKey, kid: str | None = None) -> dict[str, str]:
    out = {"kty": "OKP", "crv": "Ed25519", "d": b64url(key.private_bytes_raw()),
           "x": b64url(public_raw(key))}
    if kid is not None:
        out["kid"] = kid
    return out


def public_jwk(key: Ed25519PrivateKey) -> dict[str, str]:
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(public_raw(key))}


def base_claims(**changes: Any) -> dict[str, Any]:
    """An honest claim set from ISS_WEB to HOLDER for AUD; ``changes`` set (None deletes)."""
    claims: dict[str, Any] = {
        "iss": ISS_WEB, "sub": HOLDER, "aud": AUD, "scope": ["tool:search", "tool:fs:*"],
        "max_depth": 0, "iat": NOW - 60, "nbf": NOW - 60, "exp": NOW + 3540, "jti": "tok-0001",
    }
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def _segment(value: Any) -> str:
    if isinstance(value, bytes):
        return b64url(value)
    if isinstance(value, str):
        return value  # already encoded (hostile spellings)
    return b64url(compact_json(value).encode())


def craft(header: Any, claims: Any, key: Ed25519PrivateKey | None, *, alg: str = "ed25519",
          hmac_key: bytes | None = None, signature: bytes | None = None) -> str:
    """A JWS compact serialization. ``header``/``claims`` are objects (compact JSON), raw
    bytes (any content) or pre-encoded strings. ``alg`` picks how to sign: ``ed25519``,
    ``hs256`` (with ``hmac_key``), ``es256``, or ``none`` (empty signature)."""
    h, p = _segment(header), _segment(claims)
    signing_input = f"{h}.{p}".encode("ascii")
    if signature is not None:
        sig = signature
    elif alg == "none":
        sig = b""
    elif alg == "hs256":
        assert hmac_key is not None
        sig = hmac.new(hmac_key, signing_input, hashlib.sha256).digest()
    elif alg == "es256":
        der = EC_KEY.sign(signing_input, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))  # RFC 6979
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        r, s = decode_dss_signature(der)
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        assert key is not None
        sig = key.sign(signing_input)
    return f"{h}.{p}.{b64url(sig)}"


def token(claims: dict[str, Any] | None = None, *, kid: str | None = "key-1",
          key: Ed25519PrivateKey = K_ISS1, **header_extra: Any) -> str:
    header: dict[str, Any] = {"alg": "EdDSA", "typ": "aip+jwt"}
    if kid is not None:
        header["kid"] = kid
    header.update(header_extra)
    return craft(header, claims if claims is not None else base_claims(), key)


def token_digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("ascii")).hexdigest()


def args_digest(arguments: Any) -> str:
    return "sha256:" + hashlib.sha256(jcs(arguments)).hexdigest()


def proof_claims(tok: str, **changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": HOLDER, "aud": AUD, "iat": NOW - 5, "jti": "prf-0001",
        "token_hash": token_digest(tok), "op": "tools/call", "tool": "search",
        "args_hash": args_digest({"q": "aip", "limit": 10}),
    }
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def proof(tok: str, claims: dict[str, Any] | None = None, *, kid: str | None = None,
          key: Ed25519PrivateKey = K_HOLDER, **header_extra: Any) -> str:
    header: dict[str, Any] = {"alg": "EdDSA", "typ": "aip-proof+jwt"}
    if kid is not None:
        header["kid"] = kid
    header.update(header_extra)
    return craft(header, claims if claims is not None else proof_claims(tok), key)


def raw_json(text: str) -> bytes:
    """JSON text exactly as given (duplicate members, odd spellings), UTF-8 encoded."""
    return text.encode("utf-8")


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
