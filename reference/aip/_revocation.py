"""Signed revocation lists (spec/chained.md, AIP-REV-*).

A revocation list is a compact JWS (RFC 7515), ``alg`` EdDSA, ``typ`` ``aip-revocation+jws``,
``kid`` naming a key of the list's issuer identity, whose payload is the JSON object::

    {"aip_revocation": "1.0", "issuer": "<aip identifier>", "issued_at": <int>,
     "next_update": <int>, "revoked_ids": ["<hex revocation id>", ...],
     "revoked_keys": [{"identity": "<aip identifier>", "kid": "<key id>"}, ...]}

Revocation ids are Biscuit revocation identifiers (the lowercase hex of a block's signature);
revoking one block revokes every token that contains it. A list is usable from ``issued_at``
until ``next_update`` (both with the clock skew); after that the verifier fails closed with
``aip_revocation_stale``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature

from ._encoding import b64url_decode, b64url_encode
from ._errors import AIPError
from ._identifiers import parse_identifier
from ._json import loads_strict
from ._keys import SigningKey
from ._resolver import Resolver
from ._time import DEFAULT_SKEW

__all__ = [
    "MAX_LIST_BYTES",
    "MAX_LIST_LIFETIME",
    "REVOCATION_TYP",
    "RevocationList",
    "RevocationPolicy",
    "sign_revocation_list",
    "verify_revocation_list",
]

REVOCATION_TYP = "aip-revocation+jws"
MAX_LIST_BYTES = 1024 * 1024
MAX_LIST_LIFETIME = 7 * 86400  # AIP-REV-006
_BAD = "aip_token_malformed"
_HEX_ID = re.compile(r"[0-9a-f]{2,256}")
_KID = re.compile(r"[A-Za-z0-9._:-]{1,256}")


@dataclass(frozen=True, slots=True)
class RevocationList:
    issuer: str
    kid: str
    issued_at: int
    next_update: int
    revoked_ids: frozenset[str]
    revoked_keys: frozenset[tuple[str, str]]


def sign_revocation_list(signer: SigningKey, *, issued_at: int, next_update: int,
                         revoked_ids: Iterable[str] = (),
                         revoked_keys: Iterable[tuple[str, str]] = ()) -> str:
    payload = {"aip_revocation": "1.0", "issuer": signer.identity, "issued_at": issued_at,
               "next_update": next_update, "revoked_ids": sorted(set(revoked_ids)),
               "revoked_keys": [{"identity": i, "kid": k} for i, k in sorted(set(revoked_keys))]}
    header = {"alg": "EdDSA", "typ": REVOCATION_TYP, "kid": signer.kid}
    head = b64url_encode(json.dumps(header, separators=(",", ":")).encode())
    body = b64url_encode(json.dumps(payload, separators=(",", ":")).encode())
    signature = signer.private_key.sign(f"{head}.{body}".encode("ascii"))
    return f"{head}.{body}.{b64url_encode(signature)}"


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53


def verify_revocation_list(jws: str, *, resolver: Resolver, now: int,
                           skew: int = DEFAULT_SKEW) -> RevocationList:
    """Verify a revocation list (AIP-REV-003..007, 009). The issuer must be a trusted issuer."""
    if not isinstance(jws, str):
        raise AIPError(_BAD, "revocation list is not a string")
    if len(jws) > MAX_LIST_BYTES:  # AIP-REV-009, before any decoding
        raise AIPError("aip_limit_exceeded", f"revocation list is {len(jws)} characters, "
                                             f"limit {MAX_LIST_BYTES}")
    parts = jws.split(".")
    if len(parts) != 3:
        raise AIPError(_BAD, "revocation list is not a compact JWS")
    header = loads_strict(b64url_decode(parts[0], code=_BAD, what="revocation list header"),
                          code=_BAD, what="revocation list header", max_bytes=1024)
    if not isinstance(header, dict) or set(header) != {"alg", "typ", "kid"}:
        raise AIPError(_BAD, "revocation list header must have exactly alg, typ, kid")
    if header["alg"] != "EdDSA":
        raise AIPError("aip_algorithm_unsupported", "revocation list alg is not EdDSA")
    if header["typ"] != REVOCATION_TYP or not isinstance(header["kid"], str):
        raise AIPError(_BAD, f"revocation list typ is not {REVOCATION_TYP!r}")
    body = loads_strict(b64url_decode(parts[1], code=_BAD, what="revocation list payload"),
                        code=_BAD, what="revocation list payload", max_bytes=MAX_LIST_BYTES)
    if not isinstance(body, dict) or body.get("aip_revocation") != "1.0" or set(body) != {
            "aip_revocation", "issuer", "issued_at", "next_update", "revoked_ids",
            "revoked_keys"}:
        raise AIPError(_BAD, "revocation list payload does not have the required members")
    issuer = body["issuer"]
    if not isinstance(issuer, str):
        raise AIPError(_BAD, "revocation list issuer is not a string")
    try:
        parse_identifier(issuer)
    except AIPError as exc:
        raise AIPError(_BAD, f"revocation list issuer: {exc.reason}") from None
    issued_at, next_update = body["issued_at"], body["next_update"]
    if not _int(issued_at) or not _int(next_update) or not (
            issued_at < next_update <= issued_at + MAX_LIST_LIFETIME):
        raise AIPError(_BAD, "revocation list needs issued_at < next_update <= issued_at + 7 days")
    ids = body["revoked_ids"]
    if not isinstance(ids, list) or not all(isinstance(i, str) and _HEX_ID.fullmatch(i)
                                            for i in ids):
        raise AIPError(_BAD, "revoked_ids is not a list of lowercase hex revocation ids")
    keys = body["revoked_keys"]
    pairs: set[tuple[str, str]] = set()
    if not isinstance(keys, list):
        raise AIPError(_BAD, "revoked_keys is not a list")
    for entry in keys:
        if not isinstance(entry, dict) or set(entry) != {"identity", "kid"} or not isinstance(
                entry["identity"], str) or not isinstance(entry["kid"], str) or not \
                _KID.fullmatch(entry["kid"]):
            raise AIPError(_BAD, "a revoked_keys entry is not {identity, kid}")
        pairs.add((entry["identity"], entry["kid"]))
    if issuer not in resolver.trust_store.trusted_issuers:
        raise AIPError("aip_identity_unresolvable",
                       f"revocation list issuer {issuer} is not a trusted issuer")
    key = resolver.resolve(issuer, now=now).key(header["kid"], now, skew)
    signature = b64url_decode(parts[2], code=_BAD, what="revocation list signature")
    try:
        key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except InvalidSignature:
        raise AIPError("aip_signature_invalid", "revocation list signature does not verify") \
            from None
    if now + skew < issued_at:
        raise AIPError("aip_revocation_stale", "revocation list is issued in the future")
    if now - skew > next_update:
        raise AIPError("aip_revocation_stale", "revocation list is past its next_update")
    return RevocationList(issuer, header["kid"], issued_at, next_update, frozenset(ids),
                          frozenset(pairs))


@dataclass(frozen=True, slots=True)
class RevocationPolicy:
    """The revocation data a verifier holds (already verified lists) and whether it must
    have a current list from a token's root issuer (AIP-REV-008)."""

    lists: Sequence[RevocationList] = ()
    required: bool = False

    def check(self, *, root: str, revocation_ids: Sequence[str],
              keys: Sequence[tuple[str, str]]) -> None:
        if self.required and not any(lst.issuer == root for lst in self.lists):
            raise AIPError("aip_revocation_stale",
                           f"no current revocation list from {root}; failing closed")
        for lst in self.lists:
            for index, rid in enumerate(revocation_ids):
                if rid in lst.revoked_ids:
                    raise AIPError("aip_key_revoked", f"block {index} is revoked by {lst.issuer}")
            for identity, kid in keys:
                if (identity, kid) in lst.revoked_keys:
                    raise AIPError("aip_key_revoked",
                                   f"key {kid[:64]!r} of {identity} is revoked by {lst.issuer}")
