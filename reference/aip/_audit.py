"""Audit verification (spec/completion.md, "Audit verification"): from one artifact — a
completed chain, or a compact token with its invocation proof and completion receipt — to a
verified :class:`AuditRecord` that answers who authorized, through whom, under what limits,
what was asked, and what came back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cryptography.exceptions import InvalidSignature

from ._chained import ChainLimits, verify_chain
from ._compact import CompactVerifier
from ._completion import RECEIPT_TYP
from ._completion_wire import check_completion_values, cost_within
from ._errors import AIPError
from ._proof import (
    PROOF_TYP,
    KeyCache,
    _check_proof_claims,
    check_header,
    digest_equal,
    is_digest,
    is_int,
    jws_json,
    jws_signature,
    jws_split,
    token_hash,
)
from ._resolver import Resolver
from ._revocation import RevocationPolicy
from ._time import DEFAULT_SKEW, check_skew
from ._time import now as _clock

__all__ = ["AuditRecord", "VerifiedReceipt", "verify_audit", "verify_receipt"]

_CMP = "aip_completion_invalid"
_PRF = "aip_proof_invalid"
_RECEIPT_REQUIRED = frozenset({"iss", "iat", "token_hash", "proof_jti", "proof_hash", "status",
                               "result_hash", "verification_status"})
_RECEIPT_OPTIONAL = frozenset({"tokens_used", "cost_usd", "duration_ms", "ldp_provenance_id"})


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """A verified audit record (schemas/audit-record.schema.json)."""

    mode: str
    issuer: str
    kid: str | None
    principal: str | None
    holder: str
    scopes: tuple[str, ...]
    expires: int
    budget_ceiling: int | None  # cents
    hops: tuple[dict[str, Any], ...]
    invocation: dict[str, Any]
    completion: dict[str, Any] | None
    attestations: tuple[dict[str, Any], ...] = ()
    aip_token_hash: str | None = None
    within_budget: bool | None = None
    result_checked: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "issuer": self.issuer, "kid": self.kid,
                "principal": self.principal, "holder": self.holder,
                "scopes": list(self.scopes), "expires": self.expires,
                "budget_ceiling": self.budget_ceiling, "hops": [dict(h) for h in self.hops],
                "invocation": dict(self.invocation),
                "completion": None if self.completion is None else dict(self.completion),
                "attestations": [dict(a) for a in self.attestations],
                "aip_token_hash": self.aip_token_hash, "within_budget": self.within_budget,
                "result_checked": self.result_checked}


@dataclass(frozen=True, slots=True)
class VerifiedReceipt:
    """A compact-mode completion receipt that passed verification."""

    executor: str
    kid: str
    issued_at: int
    token_hash: str
    proof_jti: str
    proof_hash: str
    status: str
    result_hash: str
    verification_status: str
    tokens_used: int | None
    cost_usd: str | None
    duration_ms: int | None
    ldp_provenance_id: str | None

    def to_json(self) -> dict[str, Any]:
        return {"executor": self.executor, "kid": self.kid, "status": self.status,
                "result_hash": self.result_hash,
                "verification_status": self.verification_status,
                "tokens_used": self.tokens_used, "cost_usd": self.cost_usd,
                "duration_ms": self.duration_ms, "ldp_provenance_id": self.ldp_provenance_id,
                "completed_at": self.issued_at, "aip_token_hash": self.token_hash,
                "proof_jti": self.proof_jti, "proof_hash": self.proof_hash}


# --- compact mode ----------------------------------------------------------------------------

def _receipt_parts(receipt: str) -> tuple[str, str, bytes, str, dict[str, Any]]:
    """R1..R3: structure, header and claims of a receipt (no signature yet)."""
    if not isinstance(receipt, str) or not receipt:
        raise AIPError(_CMP, "receipt is empty or not a string")
    h64, p64, s64 = jws_split(receipt, code=_CMP, what="receipt")
    header = jws_json(h64, code=_CMP, what="receipt header")
    kid = check_header(header, typ=RECEIPT_TYP, code=_CMP, what="receipt header",
                       kid_required=True)
    assert kid is not None
    claims = jws_json(p64, code=_CMP, what="receipt payload")
    names = set(claims)
    if not _RECEIPT_REQUIRED <= names or not names <= _RECEIPT_REQUIRED | _RECEIPT_OPTIONAL:
        raise AIPError(_CMP, "receipt payload does not have exactly the members of "
                       "AIP-CMP-042")
    if not isinstance(claims["iss"], str) or not is_int(claims["iat"]) or claims["iat"] < 0:
        raise AIPError(_CMP, "receipt iss or iat is malformed")
    for name in ("token_hash", "proof_hash"):
        if not is_digest(claims[name]):
            raise AIPError(_CMP, f"receipt {name} is not sha256:<64 hex>")
    if not isinstance(claims["proof_jti"], str) or not 1 <= len(claims["proof_jti"]) <= 128:
        raise AIPError(_CMP, "receipt proof_jti is not a string of 1..128 characters")
    check_completion_values(status=claims["status"], result_hash=claims["result_hash"],
                            verification_status=claims["verification_status"],
                            tokens_used=claims.get("tokens_used"),
                            cost_usd=claims.get("cost_usd"),
                            duration_ms=claims.get("duration_ms"),
                            ldp_provenance_id=claims.get("ldp_provenance_id"))
    signature = jws_signature(s64, code=_CMP, what="receipt signature")
    return f"{h64}.{p64}", kid, signature, claims["iss"], claims


def _proof_claims(proof: str, *, token: str, holder: str, resolver: Resolver, keys: KeyCache,
                  now: int, skew: int) -> dict[str, Any]:
    """The proof's claims after its structure, signer and token binding are checked (the
    request binding and freshness were the executor's to check, at the time of the call)."""
    if not isinstance(proof, str) or not proof:
        raise AIPError("aip_proof_missing", "the receipt needs the invocation proof")
    h64, p64, s64 = jws_split(proof, code=_PRF, what="proof")
    kid = check_header(jws_json(h64, code=_PRF, what="proof header"), typ=PROOF_TYP, code=_PRF,
                       what="proof header", kid_required=False)
    claims = jws_json(p64, code=_PRF, what="proof payload")
    _check_proof_claims(claims, code=_PRF)
    signature = jws_signature(s64, code=_PRF, what="proof signature")
    if claims["iss"] != holder:
        raise AIPError(_PRF, "proof iss is not the token's sub (the holder)")
    try:
        keys.get(resolver, holder, kid, now, skew).verify(signature,
                                                          f"{h64}.{p64}".encode("ascii"))
    except InvalidSignature:
        raise AIPError("aip_signature_invalid", "proof signature does not verify under the "
                       "holder's key") from None
    if not digest_equal(claims["token_hash"], token_hash(token)):
        raise AIPError(_PRF, "proof token_hash does not match the token")
    return claims


def verify_receipt(receipt: str, *, token: str, proof: str, resolver: Resolver,
                   now: int | None = None, skew: int = DEFAULT_SKEW,
                   proof_claims: dict[str, Any] | None = None,
                   keys: KeyCache | None = None) -> VerifiedReceipt:
    """Verify a completion receipt against the token and proof it claims to complete
    (steps K1, K4..K7 of spec/completion.md). ``proof_claims`` are the proof's verified
    claims when the caller already has them (otherwise only the binding is checked)."""
    moment = _clock() if now is None else now
    keys = keys or KeyCache()
    signing_input, kid, signature, executor, claims = _receipt_parts(receipt)
    if proof_claims is None:
        h64 = jws_split(proof, code=_PRF, what="proof")[1]
        proof_claims = jws_json(h64, code=_PRF, what="proof payload")
    # K4. The executor is the party the invocation proof addressed.
    if executor != proof_claims.get("aud"):
        raise AIPError(_CMP, f"receipt iss {executor[:128]} is not the audience the proof names")
    # K5. Signed by a key of the executor.
    try:
        keys.get(resolver, executor, kid, moment, skew).verify(
            signature, signing_input.encode("ascii"))
    except InvalidSignature:
        raise AIPError("aip_signature_invalid", "receipt signature does not verify under the "
                       "executor's key") from None
    # K6. Bound to this token, this proof, this invocation.
    if not digest_equal(claims["token_hash"], token_hash(token)):
        raise AIPError(_CMP, "receipt token_hash is not the digest of the token")
    if claims["proof_jti"] != proof_claims.get("jti"):
        raise AIPError(_CMP, "receipt proof_jti is not the proof's jti")
    if not digest_equal(claims["proof_hash"], token_hash(proof)):
        raise AIPError(_CMP, "receipt proof_hash is not the digest of the proof")
    # K7. Time.
    iat = claims["iat"]
    proof_iat = proof_claims.get("iat")
    if (is_int(proof_iat) and iat + skew < proof_iat) or iat > moment + skew:
        raise AIPError(_CMP, "receipt iat is before the invocation or in the future")
    return VerifiedReceipt(executor, kid, iat, claims["token_hash"], claims["proof_jti"],
                           claims["proof_hash"], claims["status"], claims["result_hash"],
                           claims["verification_status"], claims.get("tokens_used"),
                           claims.get("cost_usd"), claims.get("duration_ms"),
                           claims.get("ldp_provenance_id"))


def _cents(budget_usd: int | float | None) -> int | None:
    if budget_usd is None:
        return None
    return int(Decimal(str(budget_usd)) * 100)


def _audit_compact(token: str, *, proof: str | None, receipt: str | None, resolver: Resolver,
                   now: int, skew: int, require_completion: bool) -> AuditRecord:
    if not proof:
        raise AIPError("aip_proof_missing", "a compact audit needs the invocation proof")
    if receipt is None:
        if require_completion:
            raise AIPError(_CMP, "no completion receipt")
    else:
        _receipt_parts(receipt)  # K1
    # K2. The token, for the audience the proof addressed (the executor, AIP-CMP-002).
    executor = jws_json(jws_split(proof, code=_PRF, what="proof")[1], code=_PRF,
                        what="proof payload").get("aud")
    if not isinstance(executor, str) or not 1 <= len(executor) <= 256:
        raise AIPError(_PRF, "proof aud is missing or not a string of 1..256 characters")
    verifier = CompactVerifier(resolver, audience=executor, skew=skew,
                               require_proof=False)
    view = verifier.verify(token, now=now)
    keys = KeyCache()
    # K3. The proof.
    claims = _proof_claims(proof, token=token, holder=view.holder, resolver=resolver, keys=keys,
                           now=now, skew=skew)
    invocation = {"block": None, "invoker": view.holder, "kid": None,
                  "audience": claims["aud"], "operation": claims["op"],
                  "tool": claims.get("tool"), "args_hash": claims["args_hash"],
                  "jti": claims["jti"], "iat": claims["iat"]}
    completion = None
    within = None
    ceiling = _cents(view.budget_usd)
    if receipt is not None:
        verified = verify_receipt(receipt, token=token, proof=proof, resolver=resolver,
                                  now=now, skew=skew, proof_claims=claims, keys=keys)
        completion = verified.to_json()
        within = cost_within(verified.cost_usd, ceiling)
    return AuditRecord("compact", view.issuer, view.kid, None, view.holder, view.scopes,
                       view.expires_at, ceiling, (), invocation, completion, (),
                       token_hash(token), within)


# --- chained mode ----------------------------------------------------------------------------

def _audit_chained(token: str, *, invoked_token: str | None, resolver: Resolver, now: int,
                   skew: int, require_completion: bool, revocation: RevocationPolicy | None,
                   trusted_attesters: frozenset[str] | None) -> AuditRecord:
    # A1. The chain, with its completion and attestation blocks (C1..C5, T1..T4).
    chain = verify_chain(token, resolver=resolver, now=now, skew=skew, revocation=revocation,
                         trusted_attesters=trusted_attesters, limits=ChainLimits())
    # A2. An invocation and, when required, its completion.
    if chain.invocation is None:
        raise AIPError("aip_proof_missing", "the chain has no invocation block")
    if chain.completion is None and require_completion:
        raise AIPError(_CMP, "the chain has no completion block")
    # A3. The audit link to the token as the executor received it.
    if invoked_token is not None:
        if chain.completion is None or not digest_equal(chain.completion.token_hash,
                                                        token_hash(invoked_token)):
            raise AIPError(_CMP, "aip_token_hash is not the digest of the invoked token")
        before = verify_chain(invoked_token, resolver=resolver, now=now, skew=skew)
        count = len(before.revocation_ids)
        if before.completion is not None or chain.revocation_ids[:count] != before.revocation_ids:
            raise AIPError(_CMP, "the completed chain does not extend the invoked token")
    hops = tuple({**h.to_json(), "principal": h.principal} for h in chain.hops)
    completion = chain.completion.to_json() if chain.completion else None
    ceilings = [c for c in (chain.budget_ceiling, *(h.budget_ceiling for h in chain.hops))
                if c is not None]
    ceiling = min(ceilings) if ceilings else None
    within = cost_within(chain.completion.cost_usd, ceiling) if chain.completion else None
    return AuditRecord("chained", chain.issuer, chain.root_kid, chain.principal, chain.holder,
                       chain.scopes, chain.expires, ceiling, hops,
                       chain.invocation.to_json(), completion,
                       tuple(a.to_json() for a in chain.attestations),
                       chain.completion.token_hash if chain.completion else None, within)


def _is_compact(token: str) -> bool:
    """A JWS whose header says ``typ: aip+jwt`` is compact; anything else chained (AIP-CHN-002)."""
    if token.count(".") != 2:
        return False
    try:
        header = jws_json(token.split(".")[0], code="aip_token_malformed", what="token header")
    except AIPError:
        return False
    return header.get("typ") == "aip+jwt"


def verify_audit(
    token: str,
    *,
    resolver: Resolver,
    now: int | None = None,
    skew: int = DEFAULT_SKEW,
    proof: str | None = None,
    receipt: str | None = None,
    invoked_token: str | None = None,
    result_hash: str | None = None,
    require_completion: bool = True,
    revocation: RevocationPolicy | None = None,
    trusted_attesters: Iterable[str] | None = None,
) -> AuditRecord:
    """Verify one artifact into an audit record (spec/completion.md, "Audit verification").

    Chained: ``token`` is the completed chain; ``invoked_token`` (optional) is the chain as the
    executor received it, checked against the completion's ``aip_token_hash``. Compact:
    ``token`` with its ``proof`` and ``receipt``. ``result_hash`` (optional) is the digest of
    the result the auditor holds, which must equal the recorded one.
    """
    check_skew(skew)
    moment = _clock() if now is None else now
    if not isinstance(token, str) or not token:
        raise AIPError("aip_token_missing", "no token to audit")
    if _is_compact(token):
        record = _audit_compact(token, proof=proof, receipt=receipt, resolver=resolver,
                                now=moment, skew=skew, require_completion=require_completion)
    else:
        if proof is not None or receipt is not None:
            raise AIPError("aip_input_invalid", "a chained token carries its own invocation "
                           "and completion; proof and receipt are for compact tokens")
        record = _audit_chained(
            token, invoked_token=invoked_token, resolver=resolver, now=moment, skew=skew,
            require_completion=require_completion, revocation=revocation,
            trusted_attesters=None if trusted_attesters is None else frozenset(trusted_attesters))
    # A4 / K8. The result the auditor holds.
    if result_hash is not None:
        if record.completion is None or not digest_equal(record.completion["result_hash"],
                                                         result_hash):
            raise AIPError(_CMP, "the result digest does not match the completion record")
        return AuditRecord(record.mode, record.issuer, record.kid, record.principal,
                           record.holder, record.scopes, record.expires, record.budget_ceiling,
                           record.hops, record.invocation, record.completion,
                           record.attestations, record.aip_token_hash, record.within_budget,
                           True)
    return record
