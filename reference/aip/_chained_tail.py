"""The tail of a chain after its invocation block: the completion block and the attestation
blocks that may follow it (spec/completion.md, "Chained mode").

``_chained.verify_chain`` calls these from its structural walk, in block order. ``signer`` is
the walk's key lookup: the raw public key of (identity, kid), resolved at the verification
time by the verifier's resolver, never taken from the token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._completion_wire import ChainAttestation, ChainCompletion, parse_attestation, parse_completion
from ._errors import AIPError

__all__ = ["check_attestation", "check_completion"]

Signer = Callable[[str, str], bytes]
_CMP = "aip_completion_invalid"
_ATT = "aip_attestation_invalid"


def check_completion(rows: list[list[Any]], index: int, *, invocation: Any,
                     previous: ChainCompletion | None, signer: Signer, external: bytes,
                     identifier_ok: Callable[[str], bool], now: int, skew: int) -> ChainCompletion:
    """Steps C1..C6 of spec/completion.md for the completion block at ``index``."""
    if len(rows) != 1:
        raise AIPError("aip_chain_invalid", f"block {index} carries more than one AIP fact")
    # C1. Placement: at most one, right after the invocation block.
    if previous is not None:
        raise AIPError(_CMP, f"block {index} is a second completion block")
    if invocation is None:
        raise AIPError(_CMP, f"block {index} completes nothing: the chain has no invocation")
    if invocation.index != index - 1:
        raise AIPError(_CMP, f"block {index} does not follow the invocation block directly")
    # C2. Values.
    completion = parse_completion(rows[0], index)
    if not identifier_ok(completion.executor):
        raise AIPError(_CMP, f"block {index} executor is not an AIP identifier")
    # C3. The executor is the party the invocation named.
    if completion.executor != invocation.audience:
        raise AIPError(_CMP, f"block {index} executor {completion.executor} is not the "
                       f"invocation's audience {invocation.audience[:128]}")
    # C4. Bound to that invocation.
    if completion.jti != invocation.jti:
        raise AIPError(_CMP, f"block {index} completes another invocation (jti differs)")
    if completion.completed_at + skew < invocation.iat or completion.completed_at > now + skew:
        raise AIPError(_CMP, f"block {index} completed_at is before the invocation or in the "
                       "future")
    # C5. Signed by a key of the executor.
    if signer(completion.executor, completion.kid) != external:
        raise AIPError("aip_signature_invalid", f"block {index} is not signed by a key of its "
                       f"executor {completion.executor}")
    return completion


def check_attestation(rows: list[list[Any]], index: int, *, completion: ChainCompletion | None,
                      last_delegator: str, signer: Signer, external: bytes,
                      identifier_ok: Callable[[str], bool], now: int, skew: int,
                      trusted_attesters: frozenset[str] | None) -> ChainAttestation:
    """Steps T1..T5 of spec/completion.md for the attestation block at ``index``."""
    if len(rows) != 1:
        raise AIPError("aip_chain_invalid", f"block {index} carries more than one AIP fact")
    # T1. Placement: only after the completion.
    if completion is None:
        raise AIPError(_ATT, f"block {index} attests nothing: no completion precedes it")
    # T2. Values.
    attestation = parse_attestation(rows[0], index)
    if not identifier_ok(attestation.attester):
        raise AIPError(_ATT, f"block {index} attester is not an AIP identifier")
    if attestation.result_hash != completion.result_hash:
        raise AIPError(_ATT, f"block {index} attests another result")
    if attestation.attested_at + skew < completion.completed_at \
            or attestation.attested_at > now + skew:
        raise AIPError(_ATT, f"block {index} attested_at is before the completion or in the "
                       "future")
    # T3. The party entitled to attest.
    if attestation.kind == "countersignature" and attestation.attester != last_delegator:
        raise AIPError(_ATT, f"block {index} countersignature is by {attestation.attester}, "
                       f"not the delegator of the last hop {last_delegator}")
    if attestation.kind == "third_party" and trusted_attesters is not None \
            and attestation.attester not in trusted_attesters:
        raise AIPError(_ATT, f"block {index} attester {attestation.attester} is not a trusted "
                       "attester")
    # T4. Signed by a key of the attester.
    if signer(attestation.attester, attestation.kid) != external:
        raise AIPError("aip_signature_invalid", f"block {index} is not signed by a key of its "
                       f"attester {attestation.attester}")
    return attestation
