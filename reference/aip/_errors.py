"""The AIP exception tree.

One root, :class:`AIPError`, carrying a stable ``code`` from the error registry
(``spec/registry/errors.json``). Implementations are compared on codes, never on messages, so
every failure the reference raises names exactly one registry code.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ERROR_CODES",
    "HTTP_STATUS",
    "AIPError",
]

# code -> HTTP status. Must equal the registry file; tests/test_registry.py checks it.
HTTP_STATUS: Final[dict[str, int]] = {
    "aip_token_missing": 401,
    "aip_token_malformed": 401,
    "aip_signature_invalid": 401,
    "aip_identity_unresolvable": 401,
    "aip_token_expired": 401,
    "aip_key_revoked": 401,
    "aip_scope_insufficient": 403,
    "aip_budget_exceeded": 403,
    "aip_depth_exceeded": 403,
    "aip_identifier_invalid": 401,
    "aip_document_invalid": 401,
    "aip_document_expired": 401,
    "aip_key_unknown": 401,
    "aip_key_inactive": 401,
    "aip_algorithm_unsupported": 401,
    "aip_token_not_yet_valid": 401,
    "aip_audience_mismatch": 401,
    "aip_proof_missing": 401,
    "aip_proof_invalid": 401,
    "aip_invocation_mismatch": 403,
    "aip_replay_detected": 401,
    "aip_chain_invalid": 401,
    "aip_context_missing": 403,
    "aip_attenuation_violation": 403,
    "aip_limit_exceeded": 401,
    "aip_revocation_stale": 401,
    "aip_completion_invalid": 401,
    "aip_attestation_invalid": 401,
    "aip_input_invalid": 400,
}

ERROR_CODES: Final[frozenset[str]] = frozenset(HTTP_STATUS)


class AIPError(Exception):
    """Any AIP failure. ``code`` is a registry code; ``reason`` is one line for humans."""

    def __init__(self, code: str, reason: str) -> None:
        if code not in ERROR_CODES:  # a programming error, never a user's
            raise ValueError(f"unregistered AIP error code {code!r}")
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]

    @property
    def jsonrpc_code(self) -> int:
        return {400: -32602, 401: -32001, 403: -32003}[self.http_status]

    def to_body(self) -> dict[str, dict[str, str]]:
        """The registry's error body: ``{"error": {"code": ..., "message": ...}}``."""
        return {"error": {"code": self.code, "message": self.reason}}
