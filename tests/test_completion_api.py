"""Completion records through the public API (spec/completion.md): making and verifying
completion blocks, attestations and receipts; the result digests; the audit record schema."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
import rfc8785

import aip
from aip import AIPError, Invocation, Resolver, TrustStore
from aip_conformance._schemas import schema_errors

NOW = 1767225600
SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


@pytest.fixture(scope="module")
def keys() -> dict[str, aip.SigningKey]:
    return {n: aip.generate_key() for n in ("root", "a", "b", "tool", "mallory")}


@pytest.fixture(scope="module")
def resolver(keys: dict[str, aip.SigningKey]) -> Resolver:
    return Resolver(TrustStore({}, [keys["root"].identity]), network=False)


@pytest.fixture(scope="module")
def invoked(keys: dict[str, aip.SigningKey], resolver: Resolver) -> str:
    t = aip.chain_mint(keys["root"], holder=keys["a"].identity, scopes=["tool:search"],
                       expires=NOW + 3600, max_depth=1, budget_ceiling=100)
    t = aip.chain_delegate(t, keys["a"], delegate=keys["b"].identity, context="subtask",
                           resolver=resolver, now=NOW, budget_ceiling=100)
    return aip.chain_invoke(t, keys["b"], audience=keys["tool"].identity,
                            operation="tools/call", tool="search", arguments={"q": 1},
                            resolver=resolver, now=NOW)


def _sha(value: object) -> str:
    return "sha256:" + hashlib.sha256(rfc8785.dumps(value)).hexdigest()


def test_result_digests_follow_the_spec() -> None:
    result = {"content": [{"type": "text", "text": "x", "_meta": {"k": 1}}], "_meta": {"r": 2}}
    assert aip.result_digest_mcp(result) == _sha({"content": result["content"]})
    artifact = {"artifactId": "a", "parts": [], "metadata": {"m": 1}}
    assert aip.result_digest_a2a(artifact) == _sha({"artifactId": "a", "parts": []})
    body = b"\x00\xffhello"
    assert aip.result_digest_http(200, "text/plain", body) == _sha(
        {"status": 200, "content_type": "text/plain",
         "body": base64.urlsafe_b64encode(body).rstrip(b"=").decode()})
    assert aip.result_digest_http(204, None, b"") == _sha(
        {"status": 204, "content_type": "", "body": ""})
    # Member order and number spelling do not matter (RFC 8785).
    assert aip.result_digest_json({"b": 1.0, "a": 2}) == aip.result_digest_json({"a": 2, "b": 1})
    with pytest.raises(AIPError) as err:
        aip.result_digest_http(99, None, b"")
    assert err.value.code == "aip_input_invalid"


@pytest.mark.parametrize("status", ["completed", "failed", "partial"])
def test_each_status_round_trips_into_an_audit_record(
        keys: dict[str, aip.SigningKey], resolver: Resolver, invoked: str, status: str) -> None:
    rh = aip.result_digest_json({"ok": status})
    done = aip.complete_chained(invoked, keys["tool"], status=status, result_hash=rh,
                                resolver=resolver, now=NOW + 1, tokens_used=5,
                                cost_usd="1.50", duration_ms=7)
    record = aip.verify_audit(done, resolver=resolver, now=NOW + 2, invoked_token=invoked,
                              result_hash=rh)
    out = record.to_json()
    assert schema_errors(SCHEMAS, "audit-record.schema.json", out) == []
    assert out["completion"]["status"] == status
    assert out["completion"]["aip_token_hash"] == aip.token_hash(invoked)
    assert out["within_budget"] is False  # $1.50 over a 100-cent ceiling: reported only
    assert out["result_checked"] is True
    chain = aip.verify_chain(done, resolver=resolver, now=NOW + 2)
    assert chain.depth == 1 and chain.completion is not None  # depth unaffected


def test_completed_chain_is_not_authority(keys: dict[str, aip.SigningKey], resolver: Resolver,
                                          invoked: str) -> None:
    done = aip.complete_chained(invoked, keys["tool"], status="completed",
                                result_hash="sha256:" + "0" * 64, resolver=resolver, now=NOW)
    request = aip.ChainRequest(keys["tool"].identity, "tools/call", "search", {"q": 1})
    with pytest.raises(AIPError) as err:
        aip.verify_chain(done, resolver=resolver, now=NOW, request=request)
    assert err.value.code == "aip_completion_invalid"
    with pytest.raises(AIPError) as err:
        aip.chain_delegate(done, keys["b"], delegate=keys["a"].identity, context="x",
                           resolver=resolver, now=NOW)
    assert err.value.code == "aip_chain_invalid"


def test_attestations(keys: dict[str, aip.SigningKey], resolver: Resolver, invoked: str) -> None:
    rh = "sha256:" + "1" * 64
    done = aip.complete_chained(invoked, keys["tool"], status="completed", result_hash=rh,
                                resolver=resolver, now=NOW)
    with pytest.raises(AIPError) as err:
        aip.attest_chained(invoked, keys["a"], resolver=resolver, now=NOW)
    assert err.value.code == "aip_attestation_invalid"
    signed = aip.attest_chained(done, keys["a"], resolver=resolver, now=NOW, note="fine")
    signed = aip.attest_chained(signed, keys["mallory"], resolver=resolver, now=NOW,
                                kind="third_party", verified=False)
    record = aip.verify_audit(signed, resolver=resolver, now=NOW)
    assert [(a["kind"], a["verified"]) for a in record.attestations] == [
        ("countersignature", True), ("third_party", False)]
    with pytest.raises(AIPError) as err:
        aip.verify_audit(signed, resolver=resolver, now=NOW,
                         trusted_attesters=[keys["a"].identity])
    assert err.value.code == "aip_attestation_invalid"
    text = aip.render_timeline(record)
    assert "countersigned by" in text and "DISPUTED" in text


def test_receipts(keys: dict[str, aip.SigningKey], resolver: Resolver) -> None:
    token = aip.issue_token(keys["root"], subject=keys["a"].identity,
                            audience=keys["tool"].identity, scopes=["tool:search"], now=NOW)
    proof = aip.create_proof(keys["a"], token, audience=keys["tool"].identity,
                             invocation=Invocation("tools/call", "search", {}), now=NOW)
    rh = aip.result_digest_mcp({"content": []})
    receipt = aip.create_receipt(keys["tool"], token, proof, status="failed", result_hash=rh,
                                 now=NOW + 1)
    header, payload = (json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
                       for s in receipt.split(".")[:2])
    assert header == {"alg": "EdDSA", "typ": "aip-receipt+jwt", "kid": keys["tool"].kid}
    assert schema_errors(SCHEMAS, "receipt.schema.json", payload) == []
    verified = aip.verify_receipt(receipt, token=token, proof=proof, resolver=resolver, now=NOW)
    assert verified.status == "failed" and verified.proof_jti == payload["proof_jti"]
    record = aip.verify_audit(token, proof=proof, receipt=receipt, resolver=resolver, now=NOW)
    assert schema_errors(SCHEMAS, "audit-record.schema.json", record.to_json()) == []
    other = aip.create_proof(keys["a"], token, audience=keys["tool"].identity,
                             invocation=Invocation("tools/call", "search", {}), now=NOW)
    with pytest.raises(AIPError) as err:
        aip.verify_audit(token, proof=other, receipt=receipt, resolver=resolver, now=NOW)
    assert err.value.code == "aip_completion_invalid"
    with pytest.raises(AIPError) as err:
        aip.create_receipt(keys["mallory"], token, proof, status="completed", result_hash=rh)
    assert err.value.code == "aip_completion_invalid"


def test_bad_inputs_are_refused_before_signing(keys: dict[str, aip.SigningKey],
                                               resolver: Resolver, invoked: str) -> None:
    for kwargs in ({"status": "done"}, {"cost_usd": "1e3"}, {"tokens_used": -1},
                   {"result_hash": "sha256:xyz"}):
        args = {"status": "completed", "result_hash": "sha256:" + "0" * 64, **kwargs}
        with pytest.raises(AIPError) as err:
            aip.complete_chained(invoked, keys["tool"], resolver=resolver, now=NOW, **args)
        assert err.value.code == "aip_input_invalid"
