"""Identity documents for ``aip:web`` identities: verification, key selection and signing.

The self-signature is a detached JWS (RFC 7515 appendix F) over the RFC 8785 canonical form
of the document without its ``document_signature`` member. It proves the document is whole
and names the key that made it; it does not by itself make the document trustworthy; see
AIP-DOC-020 for what anchors trust.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ._encoding import b64url_decode, b64url_encode, canonical_json, multibase_encode
from ._errors import AIPError
from ._identifiers import (
    ED25519_MULTICODEC,
    WebIdentifier,
    decode_ed25519_multibase,
    parse_identifier,
)
from ._json import loads_strict
from ._time import DEFAULT_SKEW, format_time, parse_time

__all__ = [
    "DOCUMENT_SIGNATURE_TYP",
    "MAX_DOCUMENT_BYTES",
    "IdentityDocument",
    "PublicKeyEntry",
    "build_document",
    "sign_document",
    "verify_document",
]

MAX_DOCUMENT_BYTES = 64 * 1024
MAX_KEYS = 32
DOCUMENT_SIGNATURE_TYP = "aip-document+jws"
_BAD = "aip_document_invalid"
_KEY_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


@dataclass(frozen=True, slots=True)
class PublicKeyEntry:
    """One key of an identity. ``public_key`` is None for a key type this version ignores."""

    kid: str
    type: str
    public_key: bytes | None
    valid_from: int
    valid_until: int | None

    def active_at(self, moment: int, skew: int = DEFAULT_SKEW) -> bool:
        if moment + skew < self.valid_from:
            return False
        return self.valid_until is None or moment - skew <= self.valid_until


@dataclass(frozen=True, slots=True)
class IdentityDocument:
    """A verified identity document."""

    id: str
    keys: tuple[PublicKeyEntry, ...]
    expires: int
    signed_by: str
    max_depth: int
    raw: dict[str, Any] = field(repr=False, compare=False)

    def select_key(self, kid: str, moment: int, skew: int = DEFAULT_SKEW) -> Ed25519PublicKey:
        """The Ed25519 key named ``kid``, usable at ``moment`` (AIP-DOC-030..032)."""
        for entry in self.keys:
            if entry.kid == kid:
                return _usable(entry, moment, skew)
        raise AIPError("aip_key_unknown", f"{self.id} has no key with id {kid[:64]!r}")


def _usable(entry: PublicKeyEntry, moment: int, skew: int) -> Ed25519PublicKey:
    if entry.public_key is None:
        raise AIPError("aip_algorithm_unsupported", f"key {entry.kid!r} has type {entry.type!r}")
    if not entry.active_at(moment, skew):
        raise AIPError("aip_key_inactive", f"key {entry.kid!r} is outside its validity window")
    return Ed25519PublicKey.from_public_bytes(entry.public_key)


def _require(cond: bool, reason: str) -> None:
    if not cond:
        raise AIPError(_BAD, reason)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_keys(value: object) -> tuple[PublicKeyEntry, ...]:
    _require(isinstance(value, list) and 1 <= len(value) <= MAX_KEYS,
             f"public_keys is a list of 1..{MAX_KEYS} keys")
    assert isinstance(value, list)
    seen: set[str] = set()
    out: list[PublicKeyEntry] = []
    for index, item in enumerate(value):
        where = f"public_keys[{index}]"
        _require(isinstance(item, dict), f"{where} is not an object")
        kid = item.get("id")
        _require(isinstance(kid, str) and 1 <= len(kid) <= 64 and set(kid) <= _KEY_ID_CHARS,
                 f"{where}.id is not 1..64 characters of [A-Za-z0-9._-]")
        _require(kid not in seen, f"key id {kid!r} appears twice")
        seen.add(kid)
        key_type = item.get("type")
        _require(isinstance(key_type, str) and key_type != "", f"{where}.type is not a string")
        encoded = item.get("public_key_multibase")
        _require(isinstance(encoded, str), f"{where}.public_key_multibase is not a string")
        raw: bytes | None = None
        if key_type == "Ed25519":
            raw = decode_ed25519_multibase(encoded, code=_BAD, what=f"{where}.public_key_multibase")
        valid_from = parse_time(item.get("valid_from"), code=_BAD, what=f"{where}.valid_from")
        valid_until = None
        if "valid_until" in item:
            valid_until = parse_time(item["valid_until"], code=_BAD, what=f"{where}.valid_until")
            _require(valid_until > valid_from, f"{where} ends before it starts")
        out.append(PublicKeyEntry(kid, key_type, raw, valid_from, valid_until))
    return tuple(out)


def _signing_input(document: dict[str, Any], header_b64: str) -> bytes:
    body = {k: v for k, v in document.items() if k != "document_signature"}
    payload = canonical_json(body, code=_BAD, what="identity document")
    return header_b64.encode("ascii") + b"." + b64url_encode(payload).encode("ascii")


def verify_document(
    document: bytes | str | dict[str, Any],
    *,
    now: int,
    expected_id: str | None = None,
    skew: int = DEFAULT_SKEW,
) -> IdentityDocument:
    """Verify an identity document (AIP-DOC-010 steps 1..8) and return its keys.

    ``document`` is the raw bytes as received (preferred: duplicate member names are then
    detectable) or an already-decoded object.
    """
    if isinstance(document, dict):
        doc = document
    else:
        doc = loads_strict(document, code=_BAD, what="identity document",
                           max_bytes=MAX_DOCUMENT_BYTES)
    _require(isinstance(doc, dict), "identity document is not a JSON object")
    _require(doc.get("aip") == "1.0", "identity document 'aip' is not \"1.0\"")
    ident = doc.get("id")
    try:
        parsed = parse_identifier(ident)
    except AIPError as exc:
        raise AIPError(_BAD, f"document id: {exc.reason}") from None
    _require(isinstance(parsed, WebIdentifier), "only aip:web identities have documents")
    if expected_id is not None and ident != expected_id:
        raise AIPError(_BAD, f"document is for {ident!r}, not {expected_id!r}")
    assert isinstance(ident, str)
    keys = _parse_keys(doc.get("public_keys"))
    expires = parse_time(doc.get("expires"), code=_BAD, what="expires")
    max_depth = 3
    delegation = doc.get("delegation", {})
    _require(isinstance(delegation, dict), "delegation is not an object")
    if "max_depth" in delegation:
        max_depth = delegation["max_depth"]
        _require(_is_int(max_depth) and 0 <= max_depth <= 16, "delegation.max_depth not 0..16")
    for name in ("name",):
        if name in doc:
            _require(isinstance(doc[name], str) and len(doc[name]) <= 256, f"{name} is not text")
    for name in ("protocols", "revocation", "extensions"):
        if name in doc:
            _require(isinstance(doc[name], dict), f"{name} is not an object")
    signed_by = _verify_self_signature(doc, keys, now, skew)
    _check_expiry(ident, expires, now, skew)
    return IdentityDocument(ident, keys, expires, signed_by, max_depth, doc)


def _check_expiry(ident: str, expires: int, now: int, skew: int) -> None:
    """Step 7: the not-after check of ``expires`` (AIP-DOC-008)."""
    if now - skew > expires:
        raise AIPError("aip_document_expired", f"identity document of {ident} expired")


def _verify_self_signature(
    doc: dict[str, Any], keys: tuple[PublicKeyEntry, ...], now: int, skew: int
) -> str:
    jws = doc.get("document_signature")
    _require(isinstance(jws, str), "document_signature is missing or not a string")
    assert isinstance(jws, str)
    parts = jws.split(".")
    _require(len(parts) == 3 and parts[1] == "",
             "document_signature is not a detached JWS 'header..signature'")
    header_bytes = b64url_decode(parts[0], code=_BAD, what="document_signature header")
    header = loads_strict(header_bytes, code=_BAD, what="document_signature header",
                          max_bytes=1024)
    _require(isinstance(header, dict), "document_signature header is not an object")
    _require(set(header) == {"alg", "kid", "typ"},
             "document_signature header has members other than alg, kid, typ")
    if header["alg"] != "EdDSA":
        raise AIPError("aip_algorithm_unsupported",
                       f"document_signature alg {str(header['alg'])[:16]!r} is not EdDSA")
    _require(header["typ"] == DOCUMENT_SIGNATURE_TYP,
             f"document_signature typ is not {DOCUMENT_SIGNATURE_TYP!r}")
    kid = header["kid"]
    entry = next((k for k in keys if k.kid == kid), None)
    _require(entry is not None, f"document_signature names unknown key {str(kid)[:64]!r}")
    assert entry is not None
    if entry.public_key is None:
        raise AIPError("aip_algorithm_unsupported", f"signing key {kid!r} is not Ed25519")
    _require(entry.active_at(now, skew), f"signing key {kid!r} is outside its validity window")
    signature = b64url_decode(parts[2], code=_BAD, what="document_signature signature")
    _require(len(signature) == 64, "document_signature signature is not 64 bytes")
    try:
        Ed25519PublicKey.from_public_bytes(entry.public_key).verify(
            signature, _signing_input(doc, parts[0])
        )
    except InvalidSignature:
        raise AIPError(_BAD, "document_signature does not verify") from None
    return str(kid)


def sign_document(document: dict[str, Any], kid: str, private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """Return a copy of ``document`` with a fresh ``document_signature`` by ``kid``."""
    header = {"alg": "EdDSA", "kid": kid, "typ": DOCUMENT_SIGNATURE_TYP}
    header_b64 = b64url_encode(json.dumps(header, separators=(",", ":")).encode("utf-8"))
    body = {k: v for k, v in document.items() if k != "document_signature"}
    signature = private_key.sign(_signing_input(body, header_b64))
    return {**body, "document_signature": f"{header_b64}..{b64url_encode(signature)}"}


def build_document(
    identifier: str,
    keys: Sequence[tuple[str, bytes, int, int | None]],
    *,
    expires: int,
    signer: tuple[str, Ed25519PrivateKey],
    name: str | None = None,
    max_depth: int | None = None,
) -> dict[str, Any]:
    """Make and sign an identity document.

    ``keys`` holds ``(kid, raw public key, valid_from, valid_until or None)``; ``signer`` is
    ``(kid, private key)`` of one of them.
    """
    if not isinstance(parse_identifier(identifier), WebIdentifier):
        raise AIPError("aip_identifier_invalid", "only aip:web identities have documents")
    document: dict[str, Any] = {"aip": "1.0", "id": identifier}
    if name is not None:
        document["name"] = name
    entries = []
    for kid, raw, valid_from, valid_until in keys:
        entry = {"id": kid, "type": "Ed25519",
                 "public_key_multibase": multibase_encode(ED25519_MULTICODEC + raw),
                 "valid_from": format_time(valid_from)}
        if valid_until is not None:
            entry["valid_until"] = format_time(valid_until)
        entries.append(entry)
    document["public_keys"] = entries
    if max_depth is not None:
        document["delegation"] = {"max_depth": max_depth}
    document["expires"] = format_time(expires)
    return sign_document(document, signer[0], signer[1])
