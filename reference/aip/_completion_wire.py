"""Completion and attestation records on the wire (spec/completion.md).

Everything here is pure: the facts of chained completion and attestation blocks, the checks
of their values, and the result digests. ``_chained`` uses it during its walk; ``_completion``
uses it to make blocks and receipts.

Result digests (AIP-CMP-030..034) are ``"sha256:"`` + lowercase hex of SHA-256 over RFC 8785
(JCS) bytes:

* MCP: the ``CallToolResult`` object with its top-level ``_meta`` member removed;
* A2A: the ``Artifact`` object with its top-level ``metadata`` member removed;
* HTTP: the object ``{"status": <int>, "content_type": <str>, "body": <base64url>}``;
* any other JSON result: the value itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from biscuit_auth import BlockBuilder

from . import _chained_datalog as dl
from ._encoding import b64url_encode, canonical_json
from ._errors import AIPError
from ._proof import DIGEST_PREFIX, _sha256, is_digest

__all__ = [
    "ATTESTATION_KINDS",
    "ATTESTATION_QUERY",
    "COMPLETION_QUERY",
    "STATUSES",
    "VERIFICATION_STATUSES",
    "ChainAttestation",
    "ChainCompletion",
    "attestation_block",
    "check_completion_values",
    "completion_block",
    "cost_within",
    "parse_attestation",
    "parse_completion",
    "result_digest_a2a",
    "result_digest_http",
    "result_digest_json",
    "result_digest_mcp",
]

STATUSES = ("completed", "failed", "partial")
VERIFICATION_STATUSES = ("verified", "unverified")
ATTESTATION_KINDS = ("countersignature", "third_party")
MAX_NOTE = 1024
MAX_PROVENANCE_ID = 256
MAX_RESULT_BYTES = 16 * 1024 * 1024
_COST = re.compile(r"(0|[1-9][0-9]{0,11})(\.[0-9]{1,6})?")
_CMP = "aip_completion_invalid"
_ATT = "aip_attestation_invalid"

COMPLETION_FACT = ("aip_completion({seq}, {executor}, {kid}, {jti}, {token_hash}, {status}, "
                   "{result_hash}, {verification_status}, {tokens_used}, {cost_usd}, "
                   "{duration_ms}, {ldp_provenance_id}, {completed_at});")
ATTESTATION_FACT = ("aip_attestation({seq}, {kind}, {attester}, {kid}, {verified}, "
                    "{result_hash}, {note}, {attested_at});")

_S, _I, _D, _B = '"string"', '"integer"', '"date"', '"bool"'
COMPLETION_QUERY = dl._typed("q", "aip_completion",
                             [_I, _S, _S, _S, _S, _S, _S, _S, _I, _S, _I, _S, _D]) \
    + " trusting {signer}"
ATTESTATION_QUERY = dl._typed("q", "aip_attestation", [_I, _S, _S, _S, _B, _S, _S, _D]) \
    + " trusting {signer}"


# --- result digests ---------------------------------------------------------------------------

def result_digest_json(value: Any) -> str:
    """Digest of a JSON result value (AIP-CMP-030)."""
    return _sha256(canonical_json(value, code="aip_input_invalid", what="result"))


def result_digest_mcp(result: Mapping[str, Any]) -> str:
    """Digest of an MCP ``CallToolResult`` object without its top-level ``_meta`` (AIP-CMP-031)."""
    if not isinstance(result, Mapping):
        raise AIPError("aip_input_invalid", "an MCP tool result is a JSON object")
    return result_digest_json({k: v for k, v in result.items() if k != "_meta"})


def result_digest_a2a(artifact: Mapping[str, Any]) -> str:
    """Digest of an A2A ``Artifact`` object without its top-level ``metadata`` (AIP-CMP-032)."""
    if not isinstance(artifact, Mapping):
        raise AIPError("aip_input_invalid", "an A2A artifact is a JSON object")
    return result_digest_json({k: v for k, v in artifact.items() if k != "metadata"})


def result_digest_http(status: int, content_type: str | None, body: bytes) -> str:
    """Digest of an HTTP response: status, Content-Type as sent ("" when absent) and the body
    bytes as sent, after any content coding is removed (AIP-CMP-033)."""
    if type(status) is not int or not 100 <= status <= 599:
        raise AIPError("aip_input_invalid", "HTTP status is not an integer 100..599")
    if content_type is not None and not isinstance(content_type, str):
        raise AIPError("aip_input_invalid", "Content-Type is not a string")
    if not isinstance(body, (bytes, bytearray)):
        raise AIPError("aip_input_invalid", "HTTP body is not bytes")
    return result_digest_json({"status": status, "content_type": content_type or "",
                               "body": b64url_encode(bytes(body))})


# --- values ----------------------------------------------------------------------------------

def _cost_ok(value: object) -> bool:
    return isinstance(value, str) and _COST.fullmatch(value) is not None


def cost_within(cost_usd: str | None, ceiling_cents: int | None) -> bool | None:
    """Whether a reported cost is within a budget ceiling in cents (None when either is absent)."""
    if cost_usd is None or ceiling_cents is None:
        return None
    return Decimal(cost_usd) * 100 <= ceiling_cents


def check_completion_values(*, status: object, result_hash: object,
                            verification_status: object, tokens_used: object = None,
                            cost_usd: object = None, duration_ms: object = None,
                            ldp_provenance_id: object = None, code: str = _CMP) -> None:
    """The value rules shared by completion blocks and receipts (AIP-CMP-010..016)."""
    if status not in STATUSES:
        raise AIPError(code, f"status is not one of {', '.join(STATUSES)}")
    if not is_digest(result_hash):
        raise AIPError(code, f"result_hash is not {DIGEST_PREFIX}<64 lowercase hex>")
    if verification_status not in VERIFICATION_STATUSES:
        raise AIPError(code, "verification_status is not 'verified' or 'unverified'")
    for name, value in (("tokens_used", tokens_used), ("duration_ms", duration_ms)):
        if value is not None and (type(value) is not int or not 0 <= value <= 2**53):
            raise AIPError(code, f"{name} is not an integer 0..2^53")
    if cost_usd is not None and not _cost_ok(cost_usd):
        raise AIPError(code, "cost_usd is not a decimal string (up to 12 integer and 6 "
                       "fraction digits)")
    if ldp_provenance_id is not None and (not isinstance(ldp_provenance_id, str)
                                          or not 1 <= len(ldp_provenance_id) <= MAX_PROVENANCE_ID):
        raise AIPError(code, f"ldp_provenance_id is not 1..{MAX_PROVENANCE_ID} characters")


# --- chained blocks --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ChainCompletion:
    """A verified completion block (AIP-CMP-001..)."""

    index: int
    executor: str
    kid: str
    jti: str
    token_hash: str  # aip_token_hash: the token as the executor received it
    status: str
    result_hash: str
    verification_status: str
    tokens_used: int | None
    cost_usd: str | None
    duration_ms: int | None
    ldp_provenance_id: str | None
    completed_at: int

    def to_json(self) -> dict[str, Any]:
        return {"block": self.index, "executor": self.executor, "kid": self.kid,
                "jti": self.jti, "aip_token_hash": self.token_hash, "status": self.status,
                "result_hash": self.result_hash,
                "verification_status": self.verification_status,
                "tokens_used": self.tokens_used, "cost_usd": self.cost_usd,
                "duration_ms": self.duration_ms, "ldp_provenance_id": self.ldp_provenance_id,
                "completed_at": self.completed_at}


@dataclass(frozen=True, slots=True)
class ChainAttestation:
    """A verified attestation block (AIP-AUD-010..)."""

    index: int
    kind: str
    attester: str
    kid: str
    verified: bool
    result_hash: str
    note: str
    attested_at: int

    def to_json(self) -> dict[str, Any]:
        return {"block": self.index, "kind": self.kind, "attester": self.attester,
                "kid": self.kid, "verified": self.verified, "result_hash": self.result_hash,
                "note": self.note, "attested_at": self.attested_at}


def parse_completion(row: list[Any], index: int) -> ChainCompletion:
    (_, executor, kid, jti, token_hash_, status, result_hash, verification_status, tokens,
     cost, duration, ldp, completed_at) = row
    tokens_used = None if tokens == -1 else tokens
    duration_ms = None if duration == -1 else duration
    check_completion_values(status=status, result_hash=result_hash,
                            verification_status=verification_status,
                            tokens_used=tokens_used, cost_usd=cost or None,
                            duration_ms=duration_ms, ldp_provenance_id=ldp or None)
    if not is_digest(token_hash_):
        raise AIPError(_CMP, f"block {index} aip_token_hash is not sha256:<64 hex>")
    return ChainCompletion(index, executor, kid, jti, token_hash_, status, result_hash,
                           verification_status, tokens_used, cost or None, duration_ms,
                           ldp or None, dl.epoch(completed_at))


def parse_attestation(row: list[Any], index: int) -> ChainAttestation:
    _, kind, attester, kid, verified, result_hash, note, attested_at = row
    if kind not in ATTESTATION_KINDS:
        raise AIPError(_ATT, f"block {index} attestation kind is not one of "
                       f"{', '.join(ATTESTATION_KINDS)}")
    if not is_digest(result_hash):
        raise AIPError(_ATT, f"block {index} attestation result_hash is not sha256:<64 hex>")
    if len(note) > MAX_NOTE:
        raise AIPError(_ATT, f"block {index} attestation note is over {MAX_NOTE} characters")
    return ChainAttestation(index, kind, attester, kid, bool(verified), result_hash, note,
                            dl.epoch(attested_at))


def completion_block(*, seq: int, executor: str, kid: str, jti: str, token_hash: str,
                     status: str, result_hash: str, verification_status: str,
                     tokens_used: int | None, cost_usd: str | None, duration_ms: int | None,
                     ldp_provenance_id: str | None, completed_at: int) -> BlockBuilder:
    return BlockBuilder(COMPLETION_FACT, {
        "seq": seq, "executor": executor, "kid": kid, "jti": jti, "token_hash": token_hash,
        "status": status, "result_hash": result_hash,
        "verification_status": verification_status,
        "tokens_used": -1 if tokens_used is None else tokens_used,
        "cost_usd": cost_usd or "", "duration_ms": -1 if duration_ms is None else duration_ms,
        "ldp_provenance_id": ldp_provenance_id or "", "completed_at": dl.when(completed_at)})


def attestation_block(*, seq: int, kind: str, attester: str, kid: str, verified: bool,
                      result_hash: str, note: str, attested_at: int) -> BlockBuilder:
    return BlockBuilder(ATTESTATION_FACT, {
        "seq": seq, "kind": kind, "attester": attester, "kid": kid, "verified": verified,
        "result_hash": result_hash, "note": note, "attested_at": dl.when(attested_at)})
