"""Making completion records (spec/completion.md).

* :func:`complete_chained` — the executor appends the completion block to the chain it
  received (a Biscuit third-party block signed with the executor's identity key).
* :func:`attest_chained` — the delegator of the last hop (``countersignature``) or any other
  identity (``third_party``) appends an attestation block after the completion.
* :func:`create_receipt` — compact mode: the executor signs a receipt JWT binding the token,
  the invocation proof and the result digest.

The result digest helpers (``result_digest_mcp`` etc.) live in ``_completion_wire``.
"""

from __future__ import annotations

import time
from typing import Any

from biscuit_auth import Biscuit

from ._chained import (
    ChainLimits,
    VerifiedChain,
    _decode_token,
    _encode,
    _private,
    _public,
    _raw,
    verify_chain,
)
from ._completion_wire import (
    ATTESTATION_KINDS,
    MAX_NOTE,
    attestation_block,
    check_completion_values,
    completion_block,
)
from ._errors import AIPError
from ._keys import SigningKey
from ._proof import (
    MAX_JWT_BYTES,
    PROOF_TYP,
    is_digest,
    jws_encode,
    jws_json,
    jws_split,
    token_hash,
)
from ._resolver import Resolver
from ._time import DEFAULT_SKEW

__all__ = ["RECEIPT_TYP", "attest_chained", "complete_chained", "create_receipt"]

RECEIPT_TYP = "aip-receipt+jwt"
_LIMITS = ChainLimits()
_IN = "aip_input_invalid"


def _open(token: str, resolver: Resolver, now: int, skew: int,
          limits: ChainLimits) -> tuple[Biscuit, Any]:
    chain = verify_chain(token, resolver=resolver, now=now, skew=skew, limits=limits)
    root = resolver.resolve(chain.issuer, now=now).key(chain.root_kid, now, skew)
    return Biscuit.from_bytes(_decode_token(token, limits), _public(_raw(root))), chain


def complete_chained(token: str, executor: SigningKey, *, status: str, result_hash: str,
                     resolver: Resolver, now: int | None = None,
                     verification_status: str = "verified", tokens_used: int | None = None,
                     cost_usd: str | None = None, duration_ms: int | None = None,
                     ldp_provenance_id: str | None = None, skew: int = DEFAULT_SKEW,
                     limits: ChainLimits = _LIMITS, verified: VerifiedChain | None = None) -> str:
    """Append the completion block to ``token`` (the chain exactly as the executor received
    it, ending in its invocation block), signed by ``executor`` (AIP-CMP-001..007).

    ``executor.identity`` must be the invocation's audience. ``result_hash`` is a result
    digest (``result_digest_mcp`` and friends). Returns the completed chain.

    ``verified`` is the result of the executor's own verification of ``token`` (a binding
    has it): the chain is then not walked again, only its signatures are checked on opening.
    """
    moment = int(time.time()) if now is None else now
    check_completion_values(status=status, result_hash=result_hash,
                            verification_status=verification_status, tokens_used=tokens_used,
                            cost_usd=cost_usd, duration_ms=duration_ms,
                            ldp_provenance_id=ldp_provenance_id, code=_IN)
    if verified is None:
        biscuit, chain = _open(token, resolver, moment, skew, limits)
    else:
        chain = verified
        root = resolver.resolve(chain.issuer, now=moment).key(chain.root_kid, moment, skew)
        biscuit = Biscuit.from_bytes(_decode_token(token, limits), _public(_raw(root)))
    call = chain.invocation
    if call is None or biscuit.block_count() != call.index + 1:
        raise AIPError("aip_completion_invalid", "the chain does not end in an invocation block")
    if executor.identity != call.audience:
        raise AIPError("aip_completion_invalid", f"{executor.identity} is not the executor the "
                       f"invocation names ({call.audience[:128]})")
    block = completion_block(seq=biscuit.block_count(), executor=executor.identity,
                             kid=executor.kid, jti=call.jti, token_hash=token_hash(token),
                             status=status, result_hash=result_hash,
                             verification_status=verification_status, tokens_used=tokens_used,
                             cost_usd=cost_usd, duration_ms=duration_ms,
                             ldp_provenance_id=ldp_provenance_id, completed_at=moment)
    signed = biscuit.third_party_request().create_block(_private(executor), block)
    return _encode(biscuit.append_third_party(_public(executor.public_key), signed))


def attest_chained(token: str, attester: SigningKey, *, resolver: Resolver,
                   now: int | None = None, kind: str = "countersignature",
                   verified: bool = True, note: str = "", skew: int = DEFAULT_SKEW,
                   limits: ChainLimits = _LIMITS) -> str:
    """Append an attestation block after the completion (AIP-AUD-010..016).

    ``countersignature``: ``attester`` must be the delegator of the last hop (block 0's
    identity when the chain has no delegation block). ``third_party``: any identity.
    """
    moment = int(time.time()) if now is None else now
    if kind not in ATTESTATION_KINDS:
        raise AIPError(_IN, f"attestation kind is one of {', '.join(ATTESTATION_KINDS)}")
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise AIPError(_IN, f"note is a string of at most {MAX_NOTE} characters")
    biscuit, chain = _open(token, resolver, moment, skew, limits)
    if chain.completion is None:
        raise AIPError("aip_attestation_invalid", "the chain has no completion to attest")
    if kind == "countersignature":
        entitled = chain.hops[-1].delegator if chain.hops else chain.issuer
        if attester.identity != entitled:
            raise AIPError("aip_attestation_invalid", f"only {entitled} (the delegator of the "
                           "last hop) can countersign")
    block = attestation_block(seq=biscuit.block_count(), kind=kind, attester=attester.identity,
                              kid=attester.kid, verified=verified,
                              result_hash=chain.completion.result_hash, note=note,
                              attested_at=moment)
    signed = biscuit.third_party_request().create_block(_private(attester), block)
    return _encode(biscuit.append_third_party(_public(attester.public_key), signed))


def create_receipt(executor: SigningKey, token: str, proof: str, *, status: str,
                   result_hash: str, now: int | None = None,
                   verification_status: str = "verified", tokens_used: int | None = None,
                   cost_usd: str | None = None, duration_ms: int | None = None,
                   ldp_provenance_id: str | None = None) -> str:
    """Sign a compact-mode completion receipt (AIP-CMP-040..) for the call made with
    ``token`` and ``proof`` (both exactly as received, already verified by the caller).

    ``executor.identity`` must be the proof's ``aud``.
    """
    check_completion_values(status=status, result_hash=result_hash,
                            verification_status=verification_status, tokens_used=tokens_used,
                            cost_usd=cost_usd, duration_ms=duration_ms,
                            ldp_provenance_id=ldp_provenance_id, code=_IN)
    h64, p64, _ = jws_split(proof, code=_IN, what="proof")
    header = jws_json(h64, code=_IN, what="proof header")
    claims = jws_json(p64, code=_IN, what="proof payload")
    if header.get("typ") != PROOF_TYP or not isinstance(claims.get("jti"), str):
        raise AIPError(_IN, "proof is not an AIP invocation proof")
    if claims.get("aud") != executor.identity:
        raise AIPError("aip_completion_invalid", f"{executor.identity} is not the audience the "
                       "proof names")
    payload: dict[str, Any] = {
        "iss": executor.identity,
        "iat": int(time.time()) if now is None else now,
        "token_hash": token_hash(token),
        "proof_jti": claims["jti"],
        "proof_hash": token_hash(proof),
        "status": status,
        "result_hash": result_hash,
        "verification_status": verification_status,
    }
    for name, value in (("tokens_used", tokens_used), ("cost_usd", cost_usd),
                        ("duration_ms", duration_ms), ("ldp_provenance_id", ldp_provenance_id)):
        if value is not None:
            payload[name] = value
    assert is_digest(payload["token_hash"])
    receipt = jws_encode({"alg": "EdDSA", "typ": RECEIPT_TYP, "kid": executor.kid}, payload,
                         executor.private_key)
    if len(receipt) > MAX_JWT_BYTES:
        raise AIPError("aip_limit_exceeded", "the receipt would exceed 8192 characters")
    return receipt
