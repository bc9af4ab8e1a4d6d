"""Invocation binding (spec/compact.md, AIP-PRF-*): the digests that tie an invocation to the
request actually received. Chained mode's invocation block uses the same functions.

* ``args_hash`` = ``"sha256:"`` + lowercase hex of SHA-256 over the RFC 8785 (JCS) canonical
  UTF-8 form of the call's arguments (a JSON object; absent arguments are ``{}``). Two
  requests whose arguments differ only in member order, insignificant whitespace or number
  spelling (``1``, ``1.0``, ``1e0``) have the same digest.
* ``token_hash`` = ``"sha256:"`` + lowercase hex of SHA-256 over the token exactly as sent
  (its ASCII bytes).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ._encoding import b64url_decode, b64url_encode, canonical_json
from ._errors import AIPError
from ._json import loads_strict
from ._keys import SigningKey
from ._replay import ReplayCache, check_replay
from ._resolver import ResolvedIdentity, Resolver
from ._time import DEFAULT_SKEW

__all__ = [
    "DEFAULT_PROOF_MAX_AGE",
    "DIGEST_PREFIX",
    "MAX_ARGUMENTS_BYTES",
    "MAX_PROOF_MAX_AGE",
    "PROOF_TYP",
    "Invocation",
    "KeyCache",
    "VerifiedProof",
    "args_hash",
    "args_hash_of_json",
    "create_proof",
    "digest_equal",
    "is_digest",
    "token_hash",
    "verify_proof",
]

DIGEST_PREFIX = "sha256:"
MAX_ARGUMENTS_BYTES = 1024 * 1024
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def _sha256(data: bytes) -> str:
    return DIGEST_PREFIX + hashlib.sha256(data).hexdigest()


def args_hash(arguments: Mapping[str, Any] | None) -> str:
    """Digest of the arguments of an invocation (AIP-PRF-005).

    Raises ``aip_input_invalid`` when they are not a JSON object or cannot be put in
    RFC 8785 form (e.g. an integer outside the IEEE 754 double range, a lone surrogate).
    """
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, Mapping):
        raise AIPError("aip_input_invalid", "invocation arguments are not a JSON object")
    return _sha256(canonical_json(dict(arguments), code="aip_input_invalid",
                                  what="invocation arguments"))


def args_hash_of_json(text: str | bytes) -> str:
    """Digest of arguments received as JSON text, decoded strictly (duplicate member names,
    non-finite numbers, oversize and deep nesting are ``aip_input_invalid``)."""
    value = loads_strict(text, code="aip_input_invalid", what="invocation arguments",
                         max_bytes=MAX_ARGUMENTS_BYTES)
    return args_hash(value)


def token_hash(token: str) -> str:
    """Digest of a token exactly as it was sent (AIP-PRF-004)."""
    return _sha256(token.encode("utf-8", "surrogatepass"))


def is_digest(value: object) -> bool:
    return isinstance(value, str) and _DIGEST.fullmatch(value) is not None


def digest_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("ascii", "replace"), b.encode("ascii", "replace"))


# --- JWS compact serialization shared by tokens and proofs ----------------------------------

MAX_JWT_BYTES = 8192  # AIP-TOK-002, AIP-PRF-002
FORBIDDEN_HEADER_MEMBERS = ("jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256", "crit")
_MAX_STRING = 256


def jws_split(text: str, *, code: str, what: str) -> tuple[str, str, str]:
    """Split a JWS compact serialization into its three segments (no decoding yet)."""
    if len(text) > MAX_JWT_BYTES:
        raise AIPError("aip_limit_exceeded", f"{what} is {len(text)} characters, limit {MAX_JWT_BYTES}")
    if not text.isascii():
        raise AIPError(code, f"{what} contains non-ASCII characters")
    parts = text.split(".")
    if len(parts) != 3:
        raise AIPError(code, f"{what} has {len(parts)} segments, not 3 (JWS compact serialization)")
    return parts[0], parts[1], parts[2]


def jws_json(segment: str, *, code: str, what: str) -> dict[str, Any]:
    """Decode one base64url segment as a strict JSON object."""
    raw = b64url_decode(segment, code=code, what=what)
    value = loads_strict(raw, code=code, what=what, max_bytes=MAX_JWT_BYTES)
    if not isinstance(value, dict):
        raise AIPError(code, f"{what} is not a JSON object")
    return value


def jws_signature(segment: str, *, code: str, what: str) -> bytes:
    sig = b64url_decode(segment, code=code, what=what)
    if len(sig) != 64:
        raise AIPError(code, f"{what} is {len(sig)} bytes, an Ed25519 signature is 64")
    return sig


def check_header(header: dict[str, Any], *, typ: str, code: str, what: str,
                 kid_required: bool) -> str | None:
    """Header rules common to tokens and proofs; returns the ``kid`` (or None)."""
    alg = header.get("alg")
    if alg != "EdDSA":
        shown = alg[:32] if isinstance(alg, str) else alg
        raise AIPError("aip_algorithm_unsupported", f"{what} alg {shown!r} is not 'EdDSA'")
    if header.get("typ") != typ:
        shown = header.get("typ")
        shown = shown[:32] if isinstance(shown, str) else shown
        raise AIPError(code, f"{what} typ {shown!r} is not {typ!r}")
    for name in FORBIDDEN_HEADER_MEMBERS:
        if name in header:
            raise AIPError(code, f"{what} carries {name!r}; keys and extensions never come "
                                 "from the token")
    kid = header.get("kid")
    if kid is None:
        if kid_required:
            raise AIPError(code, f"{what} has no kid")
        return None
    if not isinstance(kid, str) or not 1 <= len(kid) <= _MAX_STRING:
        raise AIPError(code, f"{what} kid is not a string of 1..{_MAX_STRING} characters")
    return kid


def jws_encode(header: Mapping[str, Any], claims: Mapping[str, Any],
               private_key: Ed25519PrivateKey) -> str:
    h = b64url_encode(json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode())
    p = b64url_encode(json.dumps(claims, separators=(",", ":"), ensure_ascii=False,
                                 allow_nan=False).encode())
    signing_input = f"{h}.{p}".encode("ascii")
    return f"{h}.{p}.{b64url_encode(private_key.sign(signing_input))}"


def is_int(value: object) -> TypeGuard[int]:
    return type(value) is int


def is_short_string(value: object, limit: int = _MAX_STRING) -> TypeGuard[str]:
    return isinstance(value, str) and 1 <= len(value) <= limit


# --- invocation proofs ------------------------------------------------------------------------

PROOF_TYP = "aip-proof+jwt"
DEFAULT_PROOF_MAX_AGE = 300  # AIP-PRF-010
MAX_PROOF_MAX_AGE = 600
MAX_JTI_LENGTH = 128
_BAD_PROOF = "aip_proof_invalid"


@dataclass(frozen=True, slots=True)
class Invocation:
    """What a request actually received asks for (its audience is the verifier's own).

    ``operation`` is the protocol operation (``tools/call`` for an MCP tool call), ``tool`` the
    tool name when there is one, and the arguments either as a decoded object or as the JSON
    text received (``arguments_json``), whose digest is then computed from a strict decode.
    """

    operation: str
    tool: str | None = None
    arguments: Mapping[str, Any] | None = None
    arguments_json: str | bytes | None = None

    def args_hash(self) -> str:
        if self.arguments_json is not None:
            return args_hash_of_json(self.arguments_json)
        return args_hash(self.arguments)


@dataclass(frozen=True, slots=True)
class VerifiedProof:
    """An invocation proof that passed every check."""

    holder: str
    jti: str
    issued_at: int
    audience: str
    operation: str
    tool: str | None
    args_hash: str


def create_proof(key: SigningKey, token: str, *, audience: str, invocation: Invocation,
                 now: int | None = None, jti: str | None = None) -> str:
    """Sign an invocation proof for ``token`` with the holder's key (AIP-PRF-001..005).

    ``key.identity`` must be the token's ``sub``; a fresh random ``jti`` is used unless one is
    given.
    """
    if jti is None:
        jti = b64url_encode(secrets.token_bytes(16))
    if not is_short_string(jti, MAX_JTI_LENGTH):
        raise AIPError("aip_input_invalid", f"jti is not a string of 1..{MAX_JTI_LENGTH} characters")
    claims: dict[str, Any] = {
        "iss": key.identity,
        "aud": audience,
        "iat": int(time.time()) if now is None else now,
        "jti": jti,
        "token_hash": token_hash(token),
        "op": invocation.operation,
    }
    if invocation.tool is not None:
        claims["tool"] = invocation.tool
    claims["args_hash"] = invocation.args_hash()
    _check_proof_claims(claims, code="aip_input_invalid")
    header = {"alg": "EdDSA", "typ": PROOF_TYP, "kid": key.kid}
    return jws_encode(header, claims, key.private_key)


def _check_proof_claims(claims: dict[str, Any], *, code: str) -> None:
    if "iss" not in claims or not isinstance(claims["iss"], str):
        raise AIPError(code, "proof iss is missing or not a string")
    for name in ("aud", "op"):
        if not is_short_string(claims.get(name)):
            raise AIPError(code, f"proof {name} is missing or not a string of 1..{_MAX_STRING}")
    if not is_short_string(claims.get("jti"), MAX_JTI_LENGTH):
        raise AIPError(code, f"proof jti is missing or not a string of 1..{MAX_JTI_LENGTH}")
    if not is_int(claims.get("iat")) or claims["iat"] < 0:
        raise AIPError(code, "proof iat is missing or not a non-negative integer")
    for name in ("token_hash", "args_hash"):
        if not is_digest(claims.get(name)):
            raise AIPError(code, f"proof {name} is missing or not 'sha256:' + 64 lowercase hex")
    if "tool" in claims and not is_short_string(claims["tool"]):
        raise AIPError(code, f"proof tool is not a string of 1..{_MAX_STRING}")


def verify_proof(
    proof: str,
    *,
    token: str,
    holder: str,
    audience: str,
    invocation: Invocation,
    resolver: Resolver,
    now: int,
    skew: int = DEFAULT_SKEW,
    max_age: int = DEFAULT_PROOF_MAX_AGE,
    replay_cache: ReplayCache | None = None,
    keys: KeyCache | None = None,
) -> VerifiedProof:
    """Verify an invocation proof against the token it accompanies and the request received.

    Steps P1..P10 of spec/compact.md; each raises its registry code. The ``jti`` is recorded in
    ``replay_cache`` only after every other check passed (AIP-RPL-006).
    """
    # P1: structure.
    if not isinstance(proof, str) or not proof:
        raise AIPError(_BAD_PROOF, "proof is empty or not a string")
    h64, p64, s64 = jws_split(proof, code=_BAD_PROOF, what="proof")
    header = jws_json(h64, code=_BAD_PROOF, what="proof header")
    # P2: header.
    kid = check_header(header, typ=PROOF_TYP, code=_BAD_PROOF, what="proof header",
                       kid_required=False)
    # P3: claims.
    claims = jws_json(p64, code=_BAD_PROOF, what="proof payload")
    _check_proof_claims(claims, code=_BAD_PROOF)
    signature = jws_signature(s64, code=_BAD_PROOF, what="proof signature")
    # P4: the proof is made by the token's holder.
    if claims["iss"] != holder:
        raise AIPError(_BAD_PROOF, "proof iss is not the token's sub (the holder)")
    # P5: the holder's key, from the holder's identifier and kid only.
    key = (keys or KeyCache()).get(resolver, holder, kid, now, skew)
    # P6: signature.
    try:
        key.verify(signature, f"{h64}.{p64}".encode("ascii"))
    except InvalidSignature:
        raise AIPError("aip_signature_invalid", "proof signature does not verify under the "
                                                "holder's key") from None
    # P7: bound to this token.
    if not digest_equal(claims["token_hash"], token_hash(token)):
        raise AIPError(_BAD_PROOF, "proof token_hash does not match the token it accompanies")
    # P8: fresh.
    iat: int = claims["iat"]
    if now + skew < iat:
        raise AIPError(_BAD_PROOF, "proof iat is in the future beyond the clock skew")
    if now - skew > iat + max_age:
        raise AIPError(_BAD_PROOF, f"proof is older than {max_age} s (stale)")
    # P9: addressed to this verifier, for this request.
    if claims["aud"] != audience:
        raise AIPError("aip_audience_mismatch", "proof aud is not this verifier")
    if claims["op"] != invocation.operation:
        raise AIPError("aip_invocation_mismatch", "proof op is not the operation received")
    if claims.get("tool") != invocation.tool:
        raise AIPError("aip_invocation_mismatch", "proof tool is not the tool called")
    if not digest_equal(claims["args_hash"], invocation.args_hash()):
        raise AIPError("aip_invocation_mismatch",
                       "proof args_hash is not the digest of the arguments received")
    # P10: not seen before.
    if replay_cache is not None:
        check_replay(replay_cache, holder=holder, jti=claims["jti"], issued_at=iat,
                     expires_at=iat + max_age + skew, now=now, skew=skew)
    return VerifiedProof(holder=holder, jti=claims["jti"], issued_at=iat,
                         audience=claims["aud"], operation=claims["op"],
                         tool=claims.get("tool"), args_hash=claims["args_hash"])


class KeyCache:
    """Resolved Ed25519 keys by (identity, kid), so the hot path does not rebuild key objects.

    Every lookup still goes through :meth:`Resolver.resolve` and the key's validity window at
    ``now``; only the public-key object is reused.
    """

    def __init__(self, max_entries: int = 1024) -> None:
        self._keys: dict[tuple[str, str | None], tuple[bytes, Ed25519PublicKey]] = {}
        self._self_certifying: dict[str, ResolvedIdentity] = {}
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, resolver: Resolver, identity: str, kid: str | None, now: int,
            skew: int) -> Ed25519PublicKey:
        # An aip:key identity resolves to the key inside the identifier, the same at every
        # time, so its resolution is memoised; aip:web identities are resolved every time.
        resolved = self._self_certifying.get(identity)
        if resolved is None:
            resolved = resolver.resolve(identity, now=now)
            if resolved.document is None and len(self._self_certifying) < self._max:
                self._self_certifying[identity] = resolved
        raw = _raw_key(resolved, kid, now, skew)
        hit = self._keys.get((identity, kid))
        if hit is not None and hit[0] == raw:
            return hit[1]
        key = Ed25519PublicKey.from_public_bytes(raw)
        with self._lock:
            if len(self._keys) >= self._max:
                self._keys.clear()
            self._keys[(identity, kid)] = (raw, key)
        return key


def _raw_key(resolved: ResolvedIdentity, kid: str | None, now: int, skew: int) -> bytes:
    """The raw public key ``kid`` of ``resolved`` usable at ``now`` (AIP-TOK-021)."""
    if resolved.document is None:
        assert resolved.public_key is not None
        if kid is not None and kid != resolved.identifier:
            raise AIPError("aip_key_unknown", f"aip:key identity has no key {kid[:64]!r}")
        return resolved.public_key
    if kid is None:
        raise AIPError("aip_key_unknown", f"{resolved.identifier} needs a key id (kid)")
    for entry in resolved.document.keys:
        if entry.kid == kid:
            if entry.public_key is None:
                raise AIPError("aip_algorithm_unsupported",
                               f"key {entry.kid!r} has type {entry.type!r}")
            if not entry.active_at(now, skew):
                raise AIPError("aip_key_inactive", f"key {entry.kid!r} is outside its validity window")
            return entry.public_key
    raise AIPError("aip_key_unknown", f"{resolved.identifier} has no key with id {kid[:64]!r}")
