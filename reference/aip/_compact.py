"""Compact mode (spec/compact.md): the one-hop IBCT as a JWT (``typ: aip+jwt``, ``alg: EdDSA``).

* :func:`issue_token` / :func:`encode_token` sign a token with the issuer's key;
* :class:`CompactVerifier` runs the verification algorithm V1..V14 of the spec, including the
  invocation proof (:mod:`aip._proof`) and replay protection (:mod:`aip._replay`), and returns a
  typed :class:`VerifiedToken`; every failure is an :class:`~aip.AIPError` with its code;
* :func:`inspect_token` decodes a token for humans without trusting it.

The hot path avoids pyjwt: it is three strict base64url decodes (the header's result is
cached), one strict JSON decode, a handful of type checks, a cached key lookup and one Ed25519
verification.
"""

from __future__ import annotations

import functools
import math
import secrets
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ._encoding import b64url_decode, b64url_encode
from ._errors import AIPError
from ._identifiers import KeyIdentifier, parse_identifier
from ._json import loads_strict
from ._keys import SigningKey
from ._proof import (
    DEFAULT_PROOF_MAX_AGE,
    MAX_JTI_LENGTH,
    MAX_JWT_BYTES,
    MAX_PROOF_MAX_AGE,
    Invocation,
    KeyCache,
    VerifiedProof,
    check_header,
    is_int,
    is_short_string,
    jws_encode,
    jws_json,
    jws_signature,
    jws_split,
    verify_proof,
)
from ._replay import MemoryReplayCache, ReplayCache
from ._resolver import Resolver
from ._scope import check_scopes, require_scope, tool_scope
from ._time import DEFAULT_SKEW, check_skew, format_time

__all__ = [
    "MAX_LIFETIME",
    "MAX_TOKEN_DEPTH",
    "RECOMMENDED_LIFETIME",
    "TOKEN_TYP",
    "CompactVerifier",
    "VerifiedToken",
    "encode_token",
    "inspect_token",
    "issue_token",
]

TOKEN_TYP = "aip+jwt"  # noqa: S105 (a media type, not a secret)
MAX_LIFETIME = 86_400  # AIP-TOK-014
RECOMMENDED_LIFETIME = 3_600  # AIP-TOK-015
MAX_TOKEN_DEPTH = 16  # AIP-TOK-012
MAX_AUDIENCES = 16
MAX_BUDGET_USD = 1e9
_BAD = "aip_token_malformed"
_DECODED_ENTRIES = 512


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """A compact token that passed verification, and the proof that came with it (if any)."""

    issuer: str
    holder: str
    audience: tuple[str, ...]
    scopes: tuple[str, ...]
    issued_at: int
    expires_at: int
    not_before: int | None
    jti: str | None
    max_depth: int
    budget_usd: int | float | None
    kid: str | None
    draft01: bool
    proof: VerifiedProof | None = None
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


# --- claims -----------------------------------------------------------------------------------

# Identifier parsing (base58 for aip:key) is pure and costs more than the signature check;
# successful parses are memoised (failures are never cached, so they are always re-checked).
_parse_identifier = functools.lru_cache(maxsize=4096)(parse_identifier)


def _identifier_claim(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if value is None:
        raise AIPError(_BAD, f"token has no {name!r} claim")
    try:
        _parse_identifier(value)
    except TypeError:  # unhashable (a list or object): not an identifier
        raise AIPError(_BAD, f"token {name!r} is not an AIP identifier") from None
    except AIPError as exc:
        raise AIPError(_BAD, f"token {name!r} is not an AIP identifier: {exc.reason}") from None
    assert isinstance(value, str)
    return value


def _time_claim(claims: Mapping[str, Any], name: str, *, required: bool) -> int | None:
    if name not in claims:
        if required:
            raise AIPError(_BAD, f"token has no {name!r} claim")
        return None
    value = claims[name]
    if not is_int(value) or not 0 <= value <= 2**53:
        raise AIPError(_BAD, f"token {name!r} is not an integer NumericDate")
    result: int = value
    return result


def _audience_claim(claims: Mapping[str, Any], draft01: bool) -> tuple[str, ...]:
    if "aud" not in claims:
        if draft01:
            return ()
        raise AIPError(_BAD, "token has no 'aud' claim (a draft-01 token?)")
    aud = claims["aud"]
    if is_short_string(aud):
        return (aud,)
    if (isinstance(aud, list) and 1 <= len(aud) <= MAX_AUDIENCES
            and all(is_short_string(a) for a in aud) and len(set(aud)) == len(aud)):
        return tuple(aud)
    raise AIPError(_BAD, f"token 'aud' is not a string or an array of 1..{MAX_AUDIENCES} "
                         "distinct non-empty strings")


def check_claims(claims: Mapping[str, Any], *, draft01: bool = False) -> VerifiedToken:
    """Check the claim set's members, types and ranges (step V5, AIP-TOK-009..018).

    Returns an (unverified) :class:`VerifiedToken` view of the claims.
    """
    issuer = _identifier_claim(claims, "iss")
    holder = _identifier_claim(claims, "sub")
    audience = _audience_claim(claims, draft01)
    if "scope" not in claims:
        raise AIPError(_BAD, "token has no 'scope' claim")
    scopes = check_scopes(claims["scope"], code=_BAD, what="token 'scope'")
    max_depth = claims.get("max_depth")
    if max_depth is None:
        raise AIPError(_BAD, "token has no 'max_depth' claim")
    if not is_int(max_depth) or not 0 <= max_depth <= MAX_TOKEN_DEPTH:
        raise AIPError(_BAD, f"token 'max_depth' is not an integer 0..{MAX_TOKEN_DEPTH}")
    iat = _time_claim(claims, "iat", required=True)
    exp = _time_claim(claims, "exp", required=True)
    nbf = _time_claim(claims, "nbf", required=False)
    assert iat is not None and exp is not None
    if exp <= iat:
        raise AIPError(_BAD, "token 'exp' is not after 'iat'")
    if exp - iat > MAX_LIFETIME:
        raise AIPError(_BAD, f"token lifetime {exp - iat} s exceeds {MAX_LIFETIME} s")
    if nbf is not None and nbf >= exp:
        raise AIPError(_BAD, "token 'nbf' is not before 'exp'")
    jti: str | None = None
    if "jti" in claims:
        if not is_short_string(claims["jti"], MAX_JTI_LENGTH):
            raise AIPError(_BAD, f"token 'jti' is not a string of 1..{MAX_JTI_LENGTH} characters")
        jti = claims["jti"]
    elif not draft01:
        raise AIPError(_BAD, "token has no 'jti' claim (a draft-01 token?)")
    budget = claims.get("budget_usd")
    if "budget_usd" in claims and (
        isinstance(budget, bool) or not isinstance(budget, int | float)
        or not math.isfinite(budget) or not 0 <= budget <= MAX_BUDGET_USD
    ):
        raise AIPError(_BAD, "token 'budget_usd' is not a number 0..1e9")
    return VerifiedToken(
        issuer=issuer, holder=holder, audience=audience, scopes=scopes, issued_at=iat,
        expires_at=exp, not_before=nbf, jti=jti, max_depth=max_depth, budget_usd=budget,
        kid=None, draft01=draft01 and ("aud" not in claims or "jti" not in claims),
        claims=claims,
    )


# --- issuing ----------------------------------------------------------------------------------

def encode_token(claims: Mapping[str, Any], key: SigningKey) -> str:
    """Sign ``claims`` as a compact token with ``key`` (AIP-TOK-032).

    The claims must be a valid, current-version claim set issued by ``key.identity``; an
    issuer never produces a token a verifier would reject as malformed.
    """
    view = check_claims(claims)
    if view.issuer != key.identity:
        raise AIPError("aip_input_invalid", f"the key belongs to {key.identity}, not to the "
                                            f"token's issuer {view.issuer}")
    parsed = parse_identifier(view.issuer)
    if isinstance(parsed, KeyIdentifier):
        if parsed.public_key != key.public_key:
            raise AIPError("aip_input_invalid", "the key is not the key of the aip:key issuer")
        if key.kid != view.issuer:
            raise AIPError("aip_input_invalid", "an aip:key issuer's kid is its identifier")
    header = {"alg": "EdDSA", "typ": TOKEN_TYP, "kid": key.kid}
    try:
        return jws_encode(header, dict(claims), key.private_key)
    except ValueError:  # NaN or Infinity in a claim the checks above do not read (AIP-TOK-003)
        raise AIPError(_BAD, "the claims hold a number JSON cannot carry (NaN or Infinity)") from None


def issue_token(
    key: SigningKey,
    *,
    subject: str,
    audience: str | Sequence[str],
    scopes: Sequence[str],
    now: int | None = None,
    lifetime: int = RECOMMENDED_LIFETIME,
    max_depth: int = 0,
    budget_usd: float | None = None,
    jti: str | None = None,
    not_before: int | None = None,
) -> str:
    """Issue a compact token from ``key.identity`` to ``subject``."""
    issued = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "iss": key.identity,
        "sub": subject,
        "aud": audience if isinstance(audience, str) else list(audience),
        "scope": list(scopes),
        "max_depth": max_depth,
        "iat": issued,
        "nbf": issued if not_before is None else not_before,
        "exp": issued + lifetime,
        "jti": jti if jti is not None else b64url_encode(secrets.token_bytes(16)),
    }
    if budget_usd is not None:
        claims["budget_usd"] = budget_usd
    return encode_token(claims, key)


# --- verifying ---------------------------------------------------------------------------------

_Decoded = tuple[str | None, VerifiedToken, bytes, bytes]


class CompactVerifier:
    """Verifies compact tokens and their invocation proofs for one audience (spec V1..V14).

    ``audience`` is this verifier's own identifier (the value tokens and proofs must name).
    ``trusted_issuers`` defaults to the resolver's trust store. Proofs are required unless
    ``require_proof`` is False (bearer use, AIP-PRF-011). ``draft01_compat`` accepts tokens
    without ``kid``, ``aud`` and ``jti`` (AIP-TOK-030); it is off by default.
    """

    def __init__(
        self,
        resolver: Resolver,
        *,
        audience: str,
        trusted_issuers: Iterable[str] | None = None,
        skew: int = DEFAULT_SKEW,
        require_proof: bool = True,
        proof_max_age: int = DEFAULT_PROOF_MAX_AGE,
        replay_cache: ReplayCache | None = None,
        draft01_compat: bool = False,
    ) -> None:
        if not is_short_string(audience):
            raise ValueError("audience must be a non-empty string of at most 256 characters")
        if not 1 <= proof_max_age <= MAX_PROOF_MAX_AGE:
            raise ValueError(f"proof_max_age must be 1..{MAX_PROOF_MAX_AGE} seconds")
        self.resolver = resolver
        self.audience = audience
        self.trusted_issuers = frozenset(
            resolver.trust_store.trusted_issuers if trusted_issuers is None else trusted_issuers)
        self.skew = check_skew(skew)
        self.require_proof = require_proof
        self.proof_max_age = proof_max_age
        self.replay_cache: ReplayCache = replay_cache if replay_cache is not None else MemoryReplayCache()
        self.draft01_compat = draft01_compat
        self._keys = KeyCache()
        self._headers: dict[str, str | None] = {}
        self._decoded: dict[str, _Decoded] = {}
        self._lock = threading.Lock()

    def _header(self, h64: str) -> str | None:
        """Steps V2-V3 (cached per header segment: a header's verdict never changes)."""
        try:
            return self._headers[h64]
        except KeyError:
            pass
        header = jws_json(h64, code=_BAD, what="token header")
        kid = check_header(header, typ=TOKEN_TYP, code=_BAD, what="token header",
                           kid_required=not self.draft01_compat)
        with self._lock:
            if len(self._headers) >= 256:
                self._headers.clear()
            self._headers[h64] = kid
        return kid

    def _decode(self, token: str) -> _Decoded:
        """Steps V1-V5: everything that depends only on the token's text.

        A token is presented once per invocation during its life, so the outcome of a
        successful decode is memoised per token string (bounded). The signature, trust, key,
        time, audience, proof and scope checks are never memoised.
        """
        h64, p64, s64 = jws_split(token, code=_BAD, what="token")
        # V2-V3: header.
        kid = self._header(h64)
        # V4: payload and signature decode.
        claims = loads_strict(b64url_decode(p64, code=_BAD, what="token payload"), code=_BAD,
                              what="token payload", max_bytes=MAX_JWT_BYTES)
        if not isinstance(claims, dict):
            raise AIPError(_BAD, "token payload is not a JSON object")
        signature = jws_signature(s64, code=_BAD, what="token signature")
        # V5: claims.
        view = check_claims(claims, draft01=self.draft01_compat)
        decoded = (kid, view, signature, f"{h64}.{p64}".encode("ascii"))
        with self._lock:
            if len(self._decoded) >= _DECODED_ENTRIES:
                self._decoded.clear()
            self._decoded[token] = decoded
        return decoded

    def _key(self, issuer: str, kid: str | None, now: int) -> Ed25519PublicKey:
        if kid is None:  # draft-01 compatibility only: the issuer's one active key
            resolved = self.resolver.resolve(issuer, now=now)
            if resolved.document is not None:
                active = [k for k in resolved.document.keys
                          if k.public_key is not None and k.active_at(now, self.skew)]
                if len(active) != 1:
                    raise AIPError("aip_key_unknown", "token has no kid and the issuer does not "
                                                      "have exactly one active key")
                kid = active[0].kid
        return self._keys.get(self.resolver, issuer, kid, now, self.skew)

    def verify(
        self,
        token: str | None,
        *,
        proof: str | None = None,
        invocation: Invocation | None = None,
        now: int | None = None,
        cost_usd: float | None = None,
    ) -> VerifiedToken:
        """Run V1..V14 on ``token`` (and ``proof``) for the request ``invocation``."""
        if now is None:
            now = int(time.time())
        skew = self.skew
        # V1: presence.
        if token is None or token == "":
            raise AIPError("aip_token_missing", "no token was presented")
        if not isinstance(token, str):
            raise AIPError(_BAD, "token is not a string")
        decoded = self._decoded.get(token)
        if decoded is None:
            decoded = self._decode(token)
        kid, view, signature, signing_input = decoded
        issuer = view.issuer
        # V6: trusted issuer.
        if issuer not in self.trusted_issuers:
            raise AIPError("aip_identity_unresolvable", f"issuer {issuer[:80]} is not trusted")
        # V7: the issuer's key, from iss and kid only.
        key = self._key(issuer, kid, now)
        # V8: signature.
        try:
            key.verify(signature, signing_input)
        except InvalidSignature:
            raise AIPError("aip_signature_invalid",
                           "token signature does not verify under the issuer's key") from None
        # V9-V10: time.
        if now - skew > view.expires_at:
            raise AIPError("aip_token_expired", "token is expired")
        if view.not_before is not None and now + skew < view.not_before:
            raise AIPError("aip_token_not_yet_valid", "token nbf is in the future")
        if now + skew < view.issued_at:
            raise AIPError("aip_token_not_yet_valid", "token iat is in the future")
        # V11: audience.
        if view.audience and self.audience not in view.audience:
            raise AIPError("aip_audience_mismatch", "token is not addressed to this verifier")
        # V12: invocation proof.
        verified_proof: VerifiedProof | None = None
        if proof is None or proof == "":
            if self.require_proof:
                raise AIPError("aip_proof_missing", "an invocation proof is required")
        else:
            if invocation is None:
                raise AIPError("aip_input_invalid", "a proof can only be checked against a request")
            verified_proof = verify_proof(
                proof, token=token, holder=view.holder, audience=self.audience,
                invocation=invocation, resolver=self.resolver, now=now, skew=skew,
                max_age=self.proof_max_age, replay_cache=self.replay_cache, keys=self._keys)
        # V13: scope.
        if invocation is not None and invocation.tool is not None:
            require_scope(view.scopes, tool_scope(invocation.tool))
        # V14: budget.
        if cost_usd is not None and view.budget_usd is not None and cost_usd > view.budget_usd:
            raise AIPError("aip_budget_exceeded", f"cost {cost_usd} exceeds the token's budget")
        return VerifiedToken(
            issuer=issuer, holder=view.holder, audience=view.audience, scopes=view.scopes,
            issued_at=view.issued_at, expires_at=view.expires_at, not_before=view.not_before,
            jti=view.jti, max_depth=view.max_depth, budget_usd=view.budget_usd, kid=kid,
            draft01=view.draft01 or kid is None, proof=verified_proof, claims=view.claims)


# --- inspecting -------------------------------------------------------------------------------

def inspect_token(token: str, *, now: int | None = None) -> dict[str, Any]:
    """Decode a compact token (or proof) WITHOUT verifying it, with notes for a human.

    Raises ``aip_token_malformed`` only when the token cannot be decoded at all.
    """
    moment = int(time.time()) if now is None else now
    token = token.strip()
    h64, p64, s64 = jws_split(token, code=_BAD, what="token")
    header = jws_json(h64, code=_BAD, what="token header")
    claims = jws_json(p64, code=_BAD, what="token payload")
    signature = b64url_decode(s64, code=_BAD, what="token signature")
    notes: list[str] = ["NOT VERIFIED: decoded only; nothing here is trusted"]
    try:
        check_header(header, typ=str(header.get("typ", TOKEN_TYP)), code=_BAD,
                     what="header", kid_required=False)
    except AIPError as exc:
        notes.append(f"{exc.code}: {exc.reason}")
    typ = header.get("typ")
    if typ not in (TOKEN_TYP, "aip-proof+jwt"):
        notes.append(f"typ {typ!r} is neither {TOKEN_TYP!r} nor 'aip-proof+jwt'")
    if "kid" not in header:
        notes.append("no kid: a draft-01 token (accepted only in draft-01 compatibility mode)")
    if len(signature) != 64:
        notes.append(f"signature is {len(signature)} bytes, not 64")
    if typ == TOKEN_TYP:
        try:
            check_claims(claims)
        except AIPError as exc:
            notes.append(f"{exc.code}: {exc.reason}")
    times: dict[str, str] = {}
    for name in ("iat", "nbf", "exp"):
        value = claims.get(name)
        if is_int(value):
            times[name] = format_time(value)
    exp = claims.get("exp")
    if is_int(exp):
        left = exp - moment
        notes.append(f"expires in {left} s" if left >= 0 else f"expired {-left} s ago")
    return {"header": header, "claims": claims, "times": times,
            "signature_bytes": len(signature), "notes": notes}
