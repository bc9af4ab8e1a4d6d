"""Harness operations of the completion profile (spec/completion.md, "Harness operations")."""

from __future__ import annotations

from typing import Any

from ._audit import verify_audit
from ._completion import attest_chained, complete_chained, create_receipt
from ._completion_wire import (
    result_digest_a2a,
    result_digest_http,
    result_digest_json,
    result_digest_mcp,
)
from ._encoding import b64url_decode
from ._errors import AIPError
from ._harness_base import Case, operation
from ._harness_chained import _int, _key, _str

__all__: list[str] = []

_IN = "aip_input_invalid"


def _usage(case: Case) -> dict[str, Any]:
    verification = _str(case, "verification_status", required=False) or "verified"
    return {"verification_status": verification, "tokens_used": _int(case, "tokens_used"),
            "cost_usd": _str(case, "cost_usd", required=False),
            "duration_ms": _int(case, "duration_ms"),
            "ldp_provenance_id": _str(case, "ldp_provenance_id", required=False)}


def _required(case: Case, name: str) -> str:
    value = _str(case, name)
    assert value is not None
    return value


@operation("completion.digest", profile="completion")
def completion_digest(case: Case) -> dict[str, Any]:
    kind = case.input.get("kind")
    if kind == "http":
        status = case.input.get("status")
        content_type = case.input.get("content_type")
        if not isinstance(status, int) or (content_type is not None
                                           and not isinstance(content_type, str)):
            raise AIPError(_IN, "http needs an integer status and a string content_type")
        body = b64url_decode(_str(case, "body") or "", code=_IN, what="input.body")
        return {"result_hash": result_digest_http(status, content_type, body)}
    if "result" not in case.input:
        raise AIPError(_IN, "input.result is missing")
    result = case.input["result"]
    if kind == "mcp":
        return {"result_hash": result_digest_mcp(result)}
    if kind == "a2a":
        return {"result_hash": result_digest_a2a(result)}
    if kind == "json":
        return {"result_hash": result_digest_json(result)}
    raise AIPError(_IN, "input.kind is one of mcp, a2a, json, http")


@operation("chained.complete", profile="completion")
def chained_complete(case: Case) -> dict[str, Any]:
    token = complete_chained(_required(case, "token"), _key(case),
                             status=_required(case, "status"),
                             result_hash=_required(case, "result_hash"),
                             resolver=case.resolver(), now=case.now, skew=case.skew,
                             **_usage(case))
    return {"token": token}


@operation("chained.attest", profile="completion")
def chained_attest(case: Case) -> dict[str, Any]:
    verified = case.input.get("verified", True)
    if not isinstance(verified, bool):
        raise AIPError(_IN, "input.verified is not a boolean")
    token = attest_chained(_required(case, "token"), _key(case), resolver=case.resolver(),
                           now=case.now, kind=_str(case, "kind", required=False)
                           or "countersignature", verified=verified,
                           note=_str(case, "note", required=False) or "", skew=case.skew)
    return {"token": token}


@operation("receipt.create", profile="completion")
def receipt_create(case: Case) -> dict[str, Any]:
    receipt = create_receipt(_key(case), _required(case, "token"), _required(case, "proof"),
                             status=_required(case, "status"),
                             result_hash=_required(case, "result_hash"), now=case.now,
                             **_usage(case))
    return {"receipt": receipt}


@operation("audit.verify", profile="completion")
def audit_verify(case: Case) -> dict[str, Any]:
    attesters = case.input.get("trusted_attesters")
    if attesters is not None and (not isinstance(attesters, list)
                                  or not all(isinstance(a, str) for a in attesters)):
        raise AIPError(_IN, "input.trusted_attesters is not a list of strings")
    require = case.input.get("require_completion", True)
    if not isinstance(require, bool):
        raise AIPError(_IN, "input.require_completion is not a boolean")
    record = verify_audit(_required(case, "token"), resolver=case.resolver(), now=case.now,
                          skew=case.skew, proof=_str(case, "proof", required=False),
                          receipt=_str(case, "receipt", required=False),
                          invoked_token=_str(case, "invoked_token", required=False),
                          result_hash=_str(case, "result_hash", required=False),
                          require_completion=require, trusted_attesters=attesters)
    return record.to_json()



