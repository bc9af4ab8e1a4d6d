"""Completion and audit vectors (spec/completion.md): each status in both modes, attestations,
result digests, and every attack of issue 5 as crafted bytes delivered to the verifier.

Chained tokens are crafted with biscuit-python (``_completion_build``), compact tokens, proofs
and receipts with cryptography; never with ``aip``. Fixed seeds, fixed clock.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ._chained_build import Step
from ._common import NOW, VectorFile, b64url, jcs, key_id, public_raw, seeded_key
from ._completion_build import CompletionBuilder, varint

__all__ = ["generate"]

HOUR = 3600
SKEW = 60
_LABELS = ["root", "a0", "a1", "a2", "a3", "exec", "mallory", "auditor"]
KEYS: dict[str, Ed25519PrivateKey] = {n: seeded_key("completion/" + n) for n in _LABELS}
ID = {n: key_id(k) for n, k in KEYS.items()}
ROOT, EXEC, MALLORY, AUDITOR = ID["root"], ID["exec"], ID["mallory"], ID["auditor"]
A = [ID[f"a{i}"] for i in range(4)]
TRUST = {"documents": {}, "trusted_issuers": [ROOT], "skew": SKEW}
ARGS = {"query": "hotels in paris", "limit": 3}
RESULT_MCP = {"content": [{"type": "text", "text": "3 hotels found"}], "isError": False,
              "_meta": {"aip": {"completion": "carried here, never hashed"}}}
JTI = "jti-completion-0001"


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def result_hash(value: Any) -> str:
    return digest(jcs(value))


RH = result_hash({k: v for k, v in RESULT_MCP.items() if k != "_meta"})
OTHER_RH = "sha256:" + "ab" * 32


def _date(seconds: int) -> str:
    import datetime as _dt

    return _dt.datetime.fromtimestamp(seconds, tz=_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


NOTES: dict[str, dict[str, Any]] = {
    "Status": {"description": "A completion of each status, verified into an audit record.",
               "requirements": ["AIP-CMP-001", "AIP-CMP-002", "AIP-CMP-010", "AIP-AUD-003",
                                "AIP-AUD-006"]},
    "Receipt": {"description": "A compact token, its proof and the executor's receipt.",
                "requirements": ["AIP-CMP-040", "AIP-CMP-042", "AIP-CMP-043", "AIP-CMP-044",
                                 "AIP-CMP-045", "AIP-AUD-005", "AIP-AUD-006"]},
    "Usage": {"description": "Optional usage values present or absent.",
              "requirements": ["AIP-CMP-013", "AIP-CMP-014", "AIP-CMP-015"]},
    "Budget": {"description": "A reported cost over the budget ceiling is reported, not "
               "rejected.", "requirements": ["AIP-CMP-018"]},
    "Depth": {"description": "Completion and attestation blocks do not count towards depth.",
              "requirements": ["AIP-CMP-009"]},
    "Attestation": {"description": "Countersignature by the delegator of the last hop, and "
                    "third-party attestations.",
                    "requirements": ["AIP-AUD-010", "AIP-AUD-011", "AIP-AUD-013",
                                     "AIP-AUD-015", "AIP-AUD-016"]},
    "TokenHash": {"description": "The aip_token_hash link to the token as the executor "
                  "received it.", "requirements": ["AIP-AUD-001", "AIP-AUD-002",
                                                    "AIP-CMP-017"]},
    "ResultCheck": {"description": "The auditor holds the result and compares its digest.",
                    "requirements": ["AIP-CMP-034"]},
    "Digest": {"description": "Result digests: RFC 8785 of the value each binding fixes.",
               "requirements": ["AIP-CMP-030", "AIP-CMP-031", "AIP-CMP-032", "AIP-CMP-033"]},
    "WrongExecutor": {"description": "A completion by someone other than the executor the "
                      "invocation named.", "requirements": ["AIP-CMP-002", "AIP-CMP-043"]},
    "WrongSigner": {"description": "A record naming the right party, signed by another key.",
                    "requirements": ["AIP-CMP-003", "AIP-CMP-044", "AIP-AUD-015"]},
    "TwoCompletions": {"description": "Two completion blocks.", "requirements": ["AIP-CMP-004"]},
    "Misplaced": {"description": "A completion without an invocation, or not right after it.",
                  "requirements": ["AIP-CMP-005"]},
    "AfterCompletion": {"description": "A delegation or invocation block after the completion.",
                        "requirements": ["AIP-CMP-006"]},
    "Lifted": {"description": "A completion lifted from another chain (bytes spliced, or the "
               "statement re-signed for another invocation).",
               "requirements": ["AIP-CMP-007", "AIP-CHN-013"]},
    "Altered": {"description": "Usage, cost or status altered after signing.",
                "requirements": ["AIP-CHN-013", "AIP-CMP-044"]},
    "BadValue": {"description": "A completion value outside its grammar.",
                 "requirements": ["AIP-CMP-010", "AIP-CMP-011", "AIP-CMP-012", "AIP-CMP-013",
                                  "AIP-CMP-014", "AIP-CMP-017"]},
    "Shape": {"description": "A completion fact of the wrong types, or a plain append.",
              "requirements": ["AIP-CMP-001"]},
    "Time": {"description": "Completion or attestation time before the event it follows or "
             "in the future.", "requirements": ["AIP-CMP-016", "AIP-AUD-016"]},
    "Completed": {"description": "A completed chain presented as authority for a request.",
                  "requirements": ["AIP-CMP-008"]},
    "Presence": {"description": "No invocation, or no completion when one is required.",
                 "requirements": ["AIP-AUD-004"]},
    "WrongAttester": {"description": "An attestation by a party not entitled to attest.",
                      "requirements": ["AIP-AUD-013", "AIP-AUD-014"]},
    "AttestationShape": {"description": "An attestation misplaced or with bad values.",
                         "requirements": ["AIP-AUD-011", "AIP-AUD-012", "AIP-AUD-016"]},
    "ReceiptBinding": {"description": "A receipt whose token digest, proof jti or proof "
                       "digest does not match.", "requirements": ["AIP-CMP-045"]},
    "ReceiptShape": {"description": "Receipt header, members, encoding and size.",
                     "requirements": ["AIP-CMP-040", "AIP-CMP-041", "AIP-CMP-042"]},
    "Issuance": {"description": "Completion blocks, attestations and receipts made by the "
                 "implementation, checked by aip_conformance.checks_completion.",
                 "requirements": ["AIP-CMP-001", "AIP-CMP-017", "AIP-AUD-010", "AIP-CMP-042",
                                  "AIP-CMP-046"]},
    "HonestRefusal": {"description": "An honest implementation refuses to complete or attest "
                      "as the wrong party.", "requirements": ["AIP-CMP-002", "AIP-AUD-013"]},
}


# --- chained recipes -------------------------------------------------------------------------

def mint(*, holder: str = A[0], max_depth: int = 3, budget: int = -1,
         principal: str = "") -> Step:
    return {"op": "mint", "kind": "authority", "signer": "root", "fields": {
        "identity": ROOT, "kid": ROOT, "holder": holder, "scopes": ["tool:search"],
        "max_depth": max_depth, "expires": NOW + HOUR, "budget_ceiling": budget,
        "principal": principal}}


def hop(seq: int, i: int, *, context: str | None = None, budget: int = -1) -> Step:
    return {"op": "third_party", "kind": "delegation", "root": "root", "signer": f"a{i}",
            "fields": {"seq": seq, "delegator": A[i], "kid": A[i], "delegate": A[i + 1],
                       "context": context or f"hop {seq}: book the trip",
                       "scopes": ["tool:search"], "expires": NOW + HOUR,
                       "budget_ceiling": budget, "principal": ""}}


def call(seq: int, i: int, *, jti: str = JTI, audience: str = EXEC) -> Step:
    return {"op": "third_party", "kind": "invocation", "root": "root", "signer": f"a{i}",
            "fields": {"seq": seq, "invoker": A[i], "kid": A[i], "audience": audience,
                       "operation": "tools/call", "tool": "search",
                       "args_hash": result_hash(ARGS), "jti": jti, "iat": NOW - 10}}


def done(seq: int, token_hash: str, *, signer: str = "exec", executor: str = EXEC,
         external: str | None = None, jti: str = JTI, status: str = "completed",
         rh: str = RH, verification: str = "verified", tokens: int = 812,
         cost: str = "0.0042", duration: int = 950, ldp: str = "",
         at: int = NOW - 5, plain: bool = False) -> Step:
    code = ("aip_completion({seq}, {executor}, {kid}, {jti}, {token_hash}, {status}, "
            "{result_hash}, {verification_status}, {tokens_used}, {cost_usd}, {duration_ms}, "
            "{ldp}, " + _date(at) + ");")
    step: Step = {"op": "append" if plain else "third_party", "kind": "raw", "root": "root",
                  "signer": signer, "code": code, "params": {
                      "seq": seq, "executor": executor, "kid": executor, "jti": jti,
                      "token_hash": token_hash, "status": status, "result_hash": rh,
                      "verification_status": verification, "tokens_used": tokens,
                      "cost_usd": cost, "duration_ms": duration, "ldp": ldp}}
    if external:
        step["external"] = external
    return step


def attest(seq: int, attester: str, signer: str, *, kind: str = "countersignature",
           rh: str = RH, verified: bool = True, note: str = "", at: int = NOW - 2,
           external: str | None = None) -> Step:
    code = ("aip_attestation({seq}, {kind}, {attester}, {kid}, {verified}, {result_hash}, "
            "{note}, " + _date(at) + ");")
    step: Step = {"op": "third_party", "kind": "raw", "root": "root", "signer": signer,
                  "code": code, "params": {"seq": seq, "kind": kind, "attester": attester,
                                           "kid": attester, "verified": verified,
                                           "result_hash": rh, "note": note}}
    if external:
        step["external"] = external
    return step


class _Chains:
    def __init__(self, b: CompletionBuilder) -> None:
        self.b = b

    def token(self, steps: list[Step]) -> str:
        return b64url(self.b.build(steps))

    def invoked(self, depth: int = 1, **kw: Any) -> list[Step]:
        steps = [mint(**kw)] + [hop(i + 1, i, budget=kw.get("budget", -1))
                                for i in range(depth)]
        return [*steps, call(depth + 1, depth)]

    def th(self, steps: list[Step]) -> str:
        """aip_token_hash of the chain as the executor received it."""
        return digest(self.token(steps).encode("ascii"))

    def completed(self, depth: int = 1, mint_kw: dict[str, Any] | None = None,
                  **kw: Any) -> list[Step]:
        steps = self.invoked(depth, **(mint_kw or {}))
        return [*steps, done(depth + 2, self.th(steps), **kw)]


def expected_chain(steps: list[Step], completion: dict[str, Any] | None,
                   attestations: list[dict[str, Any]] | None = None,
                   **extra: Any) -> dict[str, Any]:
    root = steps[0]["fields"]
    hops = [s["fields"] for s in steps[1:] if s["kind"] == "delegation"]
    c = next(s["fields"] for s in steps if s["kind"] == "invocation")
    out: dict[str, Any] = {
        "mode": "chained", "issuer": ROOT, "kid": ROOT, "holder": root["holder"],
        "scopes": root["scopes"],
        "hops": [{"block": h["seq"], "delegator": h["delegator"], "kid": h["kid"],
                  "delegate": h["delegate"], "context": h["context"], "scopes": h["scopes"],
                  "expires": h["expires"],
                  "budget_ceiling": None if h["budget_ceiling"] == -1 else h["budget_ceiling"],
                  "principal": None} for h in hops],
        "invocation": {"block": c["seq"], "invoker": c["invoker"], "audience": c["audience"],
                       "tool": c["tool"], "args_hash": c["args_hash"], "jti": c["jti"],
                       "iat": c["iat"]},
        "completion": completion, **extra}
    if attestations is not None:
        out["attestations"] = attestations
    return out


def expected_attest(step: Step) -> dict[str, Any]:
    p = step["params"]
    import datetime as _dt

    at = int(_dt.datetime.strptime(step["code"].rsplit(", ", 1)[1][:20],
                                   "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.UTC).timestamp())
    return {"block": p["seq"], "kind": p["kind"], "attester": p["attester"], "kid": p["kid"],
            "verified": p["verified"], "result_hash": p["result_hash"], "note": p["note"],
            "attested_at": at}


def expected_done(step: Step, status: str = "completed") -> dict[str, Any]:
    p = step["params"]
    return {"executor": p["executor"], "status": status, "result_hash": p["result_hash"],
            "verification_status": p["verification_status"],
            "tokens_used": None if p["tokens_used"] == -1 else p["tokens_used"],
            "cost_usd": p["cost_usd"] or None,
            "duration_ms": None if p["duration_ms"] == -1 else p["duration_ms"],
            "aip_token_hash": p["token_hash"], "jti": p["jti"]}


# --- compact recipes -------------------------------------------------------------------------

def _seg(value: Any) -> str:
    if isinstance(value, bytes):
        return b64url(value)
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def jws(header: Any, payload: Any, key: Ed25519PrivateKey) -> str:
    h, p = _seg(header), _seg(payload)
    return f"{h}.{p}.{b64url(key.sign(f'{h}.{p}'.encode('ascii')))}"


def compact_token(jti: str = "tok-completion-1") -> str:
    return jws({"alg": "EdDSA", "typ": "aip+jwt", "kid": ROOT},
               {"iss": ROOT, "sub": A[0], "aud": EXEC, "scope": ["tool:search"], "max_depth": 0,
                "iat": NOW - 60, "nbf": NOW - 60, "exp": NOW + HOUR, "jti": jti,
                "budget_usd": 1}, KEYS["root"])


def compact_proof(tok: str, jti: str = "prf-completion-1",
                  key: Ed25519PrivateKey | None = None) -> str:
    return jws({"alg": "EdDSA", "typ": "aip-proof+jwt"},
               {"iss": A[0], "aud": EXEC, "iat": NOW - 10, "jti": jti,
                "token_hash": digest(tok.encode()), "op": "tools/call", "tool": "search",
                "args_hash": result_hash(ARGS)}, key or KEYS["a0"])


def receipt_claims(tok: str, prf: str, **changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": EXEC, "iat": NOW - 5, "token_hash": digest(tok.encode()),
        "proof_jti": json.loads(_b64d(prf.split(".")[1]))["jti"],
        "proof_hash": digest(prf.encode()), "status": "completed", "result_hash": RH,
        "verification_status": "verified", "tokens_used": 812, "cost_usd": "0.0042",
        "duration_ms": 950}
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def _b64d(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def receipt(claims: Any, *, key: Ed25519PrivateKey | None = None,
            header: dict[str, Any] | None = None) -> str:
    return jws(header or {"alg": "EdDSA", "typ": "aip-receipt+jwt", "kid": EXEC}, claims,
               key or KEYS["exec"])


def jwk(label: str) -> dict[str, str]:
    key = KEYS[label]
    return {"kty": "OKP", "crv": "Ed25519", "d": b64url(key.private_bytes_raw()),
            "x": b64url(public_raw(key)), "aip_id": ID[label], "kid": ID[label]}


# --- files -----------------------------------------------------------------------------------

class _File:
    def __init__(self, header: str) -> None:
        self.vf = VectorFile("completion", [header, f"Fixed clock NOW={NOW}; skew {SKEW} s.",
                                            "Chained tokens are unpadded base64url Biscuit v3."],
                             {})
        self.groups: dict[str, list[dict[str, Any]]] = {}

    def _tests(self, operation: str) -> list[dict[str, Any]]:
        if operation not in self.groups:
            self.groups[operation] = self.vf.group(operation, trust=TRUST)
        return self.groups[operation]

    def add(self, operation: str, comment: str, flags: list[str], inp: dict[str, Any], *,
            error: str | None = None, expected: dict[str, Any] | None = None) -> None:
        for f in flags:
            self.vf.notes[f] = NOTES[f]
        self.vf.add(self._tests(operation), comment, flags, inp, error=error, expected=expected)


def _chained(b: CompletionBuilder) -> dict[str, Any]:
    f = _File("Completion and attestation blocks in chained mode; audit verification.")
    c = _Chains(b)
    audit = "audit.verify"
    # --- valid: each status, depth, usage, attestations
    for status in ("completed", "failed", "partial"):
        steps = c.completed(1, status=status)
        f.add(audit, f"completion block, status {status}, with the invoked token and result",
              ["Status", "TokenHash", "ResultCheck"],
              {"token": c.token(steps), "invoked_token": c.token(steps[:-1]), "result_hash": RH},
              expected=expected_chain(steps, expected_done(steps[-1], status),
                                      result_checked=True))
    steps = c.completed(0)
    f.add(audit, "no delegation: the holder invokes, the executor completes", ["Status"],
          {"token": c.token(steps)}, expected=expected_chain(steps, expected_done(steps[-1])))
    steps = c.completed(3, mint_kw={"max_depth": 3})
    steps += [attest(6, A[2], "a2", note="checked"), attest(7, AUDITOR, "auditor",
                                                            kind="third_party")]
    f.add(audit, "depth 3 of max_depth 3, completion and two attestations after it",
          ["Depth", "Attestation"], {"token": c.token(steps)},
          expected=expected_chain(steps, expected_done(steps[5]),
                                  [expected_attest(steps[6]), expected_attest(steps[7])]))
    steps = c.completed(0)
    steps.append(attest(3, ROOT, "root", verified=False, note="result disputed"))
    f.add(audit, "no delegation: block 0's identity countersigns (disputes)", ["Attestation"],
          {"token": c.token(steps)},
          expected=expected_chain(steps, expected_done(steps[2]), [expected_attest(steps[3])]))
    steps = c.completed(1, tokens=-1, cost="", duration=-1)
    f.add(audit, "no usage reported (-1, \"\" stand for absent)", ["Usage"],
          {"token": c.token(steps)}, expected=expected_chain(
              steps, {**expected_done(steps[-1]), "tokens_used": None, "cost_usd": None,
                      "duration_ms": None, "ldp_provenance_id": None}, within_budget=None))
    steps = c.completed(1, ldp="ldp:record:42", cost="123456789012.123456")
    f.add(audit, "largest cost grammar allows, with an LDP provenance id", ["Usage"],
          {"token": c.token(steps)}, expected=expected_chain(
              steps, {**expected_done(steps[-1]), "ldp_provenance_id": "ldp:record:42"}))
    steps = c.completed(1, mint_kw={"budget": 500}, cost="7.5")
    f.add(audit, "cost $7.50 over a 500-cent ceiling: reported, not rejected", ["Budget"],
          {"token": c.token(steps)},
          expected=expected_chain(steps, expected_done(steps[-1]), budget_ceiling=500,
                                  within_budget=False))
    steps = c.completed(1, mint_kw={"budget": 500}, cost="5")
    f.add(audit, "cost exactly at the ceiling is within it", ["Budget"],
          {"token": c.token(steps)},
          expected=expected_chain(steps, expected_done(steps[-1]), within_budget=True))
    inv = c.invoked(1)
    f.add(audit, "invoked, no completion, completion not required", ["Presence"],
          {"token": c.token(inv), "require_completion": False},
          expected=expected_chain(inv, None))
    hostile = 'x"); aip_completion(9, "mallory'
    steps = c.completed(1, ldp=hostile)
    steps.append(attest(4, A[0], "a0", note='ok"); check if false; //\n'))
    f.add(audit, "hostile strings in provenance id and note stay inert", ["Attestation"],
          {"token": c.token(steps)}, expected=expected_chain(
              steps, {**expected_done(steps[3]), "ldp_provenance_id": hostile}))
    # --- attacks: who signed
    inv = c.invoked(1)
    th = c.th(inv)
    f.add(audit, "completion by mallory, naming mallory, for an invocation addressed to the "
          "executor", ["WrongExecutor"],
          {"token": c.token([*inv, done(3, th, signer="mallory", executor=MALLORY)])},
          error="aip_completion_invalid")
    f.add(audit, "completion naming the executor, signed by mallory's key", ["WrongSigner"],
          {"token": c.token([*inv, done(3, th, signer="mallory")])},
          error="aip_signature_invalid")
    f.add(audit, "completion by the invoker itself", ["WrongExecutor"],
          {"token": c.token([*inv, done(3, th, signer="a1", executor=A[1])])},
          error="aip_completion_invalid")
    steps = c.completed(1)
    f.add(audit, "result digest of the result held differs from the recorded one",
          ["ResultCheck"], {"token": c.token(steps), "result_hash": OTHER_RH},
          error="aip_completion_invalid")
    # --- placement
    f.add(audit, "two completion blocks", ["TwoCompletions"],
          {"token": c.token([*steps, done(4, th)])}, error="aip_completion_invalid")
    f.add(audit, "a delegation block after the completion", ["AfterCompletion"],
          {"token": c.token([*steps, hop(4, 1)])},
          error="aip_completion_invalid")
    f.add(audit, "an invocation block after the completion", ["AfterCompletion"],
          {"token": c.token([*steps, call(4, 1, jti="jti-completion-0002")])},
          error="aip_completion_invalid")
    delegated = [mint(), hop(1, 0)]
    f.add(audit, "completion after a delegation block, no invocation", ["Misplaced"],
          {"token": c.token([*delegated, done(2, c.th(delegated))])},
          error="aip_completion_invalid")
    f.add(audit, "completion directly after block 0", ["Misplaced"],
          {"token": c.token([mint(), done(1, c.th([mint()]))])}, error="aip_completion_invalid")
    f.add(audit, "audit of a chain with no invocation", ["Presence"],
          {"token": c.token(delegated)}, error="aip_proof_missing")
    f.add(audit, "audit of an invoked chain without completion (required by default)",
          ["Presence"], {"token": c.token(inv)}, error="aip_completion_invalid")
    # --- lifted and re-bound
    other = [mint(), hop(1, 0), call(2, 1, jti="jti-completion-other")]
    other_done = [*other, done(3, c.th(other), jti="jti-completion-other")]
    f.add(audit, "completion block spliced in from another chain (same shape)", ["Lifted"],
          {"token": c.token([*steps, {"op": "splice", "block": 3,
                                      "donor": c.token(other_done), "donor_block": 3}])},
          error="aip_signature_invalid")
    f.add(audit, "executor re-signs another invocation's completion (its jti) onto this chain",
          ["Lifted"], {"token": c.token([*inv, done(3, th, jti="jti-completion-other")])},
          error="aip_completion_invalid")
    f.add(audit, "invoked token given is another chain than the one completed", ["TokenHash"],
          {"token": c.token(steps), "invoked_token": c.token(other)},
          error="aip_completion_invalid")
    f.add(audit, "completion's aip_token_hash is not the invoked token's", ["TokenHash"],
          {"token": c.token([*inv, done(3, c.th(other))]), "invoked_token": c.token(inv)},
          error="aip_completion_invalid")
    # --- altered after signing
    f.add(audit, "cost altered after signing (0.0042 -> 0.0040)", ["Altered"],
          {"token": c.token([*steps, {"op": "flip_text", "needle": "0.0042", "offset": 5}])},
          error="aip_signature_invalid")
    f.add(audit, "tokens_used altered after signing (987654321 -> 987654320)", ["Altered"],
          {"token": c.token([*inv, done(3, th, tokens=987654321),
                             {"op": "patch", "old": varint(987654321).hex(),
                              "new": varint(987654320).hex()}])},
          error="aip_signature_invalid")
    f.add(audit, "status altered after signing (failed -> fa1led)", ["Altered"],
          {"token": c.token([*inv, done(3, th, status="failed"),
                             {"op": "flip_text", "needle": "failed", "offset": 2,
                              "mask": 0x5D}])},
          error="aip_signature_invalid")
    # --- values and shape
    for comment, kw in (("status 'done'", {"status": "done"}),
                        ("result_hash in upper-case hex", {"rh": "sha256:" + "AB" * 32}),
                        ("verification_status 'maybe'", {"verification": "maybe"}),
                        ("tokens_used -2", {"tokens": -2}),
                        ("cost_usd '1e3'", {"cost": "1e3"}),
                        ("cost_usd '-0.5'", {"cost": "-0.5"})):
        f.add(audit, f"completion value out of grammar: {comment}", ["BadValue"],
              {"token": c.token([*inv, done(3, th, **kw)])}, error="aip_completion_invalid")
    f.add(audit, "aip_token_hash is not a digest", ["BadValue"],
          {"token": c.token([*inv, done(3, "sha1:abc")])}, error="aip_completion_invalid")
    f.add(audit, "completed an hour before the invocation", ["Time"],
          {"token": c.token([*inv, done(3, th, at=NOW - HOUR)])}, error="aip_completion_invalid")
    f.add(audit, "completed an hour in the future", ["Time"],
          {"token": c.token([*inv, done(3, th, at=NOW + HOUR)])}, error="aip_completion_invalid")
    wrong = done(3, th)
    wrong["code"] = wrong["code"].replace("{tokens_used}", '"812"')
    f.add(audit, "completion fact with tokens_used as a string (wrong shape: no AIP fact)",
          ["Shape"], {"token": c.token([*inv, wrong])}, error="aip_chain_invalid")
    f.add(audit, "completion as a plain appended block (no executor signature)", ["Shape"],
          {"token": c.token([*inv, done(3, th, plain=True)])}, error="aip_chain_invalid")
    # --- attestations
    f.add(audit, "countersignature by mallory", ["WrongAttester"],
          {"token": c.token([*steps, attest(4, MALLORY, "mallory")])},
          error="aip_attestation_invalid")
    f.add(audit, "countersignature by the invoker, not the delegator of the last hop",
          ["WrongAttester"], {"token": c.token([*steps, attest(4, A[1], "a1")])},
          error="aip_attestation_invalid")
    f.add(audit, "countersignature naming the delegator, signed by mallory's key",
          ["WrongSigner"], {"token": c.token([*steps, attest(4, A[0], "mallory")])},
          error="aip_signature_invalid")
    f.add(audit, "third-party attestation by an attester the verifier does not trust",
          ["WrongAttester"], {"token": c.token([*steps, attest(4, MALLORY, "mallory",
                                                                kind="third_party")]),
                              "trusted_attesters": [AUDITOR]}, error="aip_attestation_invalid")
    f.add(audit, "attestation after the invocation, before any completion",
          ["AttestationShape"], {"token": c.token([*inv, attest(3, A[0], "a0")]),
                                 "require_completion": False},
          error="aip_attestation_invalid")
    f.add(audit, "attestation of another result digest", ["AttestationShape"],
          {"token": c.token([*steps, attest(4, A[0], "a0", rh=OTHER_RH)])},
          error="aip_attestation_invalid")
    f.add(audit, "attestation kind 'endorsement'", ["AttestationShape"],
          {"token": c.token([*steps, attest(4, A[0], "a0", kind="endorsement")])},
          error="aip_attestation_invalid")
    f.add(audit, "attested an hour in the future", ["Time"],
          {"token": c.token([*steps, attest(4, A[0], "a0", at=NOW + HOUR)])},
          error="aip_attestation_invalid")
    # --- a completed chain is not authority
    f.add("chained.verify", "a completed chain presented with a request", ["Completed"],
          {"token": c.token(steps), "request": {"audience": EXEC, "operation": "tools/call",
                                                "tool": "search", "arguments": ARGS}},
          error="aip_completion_invalid")
    return f.vf.build()


def _compact() -> dict[str, Any]:
    f = _File("Compact mode: token, invocation proof and completion receipt; audit verification.")
    audit = "audit.verify"
    tok = compact_token()
    prf = compact_proof(tok)
    for status in ("completed", "failed", "partial"):
        rc = receipt(receipt_claims(tok, prf, status=status))
        f.add(audit, f"receipt, status {status}", ["Receipt", "Status", "ResultCheck"],
              {"token": tok, "proof": prf, "receipt": rc, "result_hash": RH},
              expected={"mode": "compact", "issuer": ROOT, "holder": A[0],
                        "invocation": {"invoker": A[0], "audience": EXEC, "jti": "prf-completion-1"},
                        "completion": {"executor": EXEC, "status": status, "result_hash": RH,
                                       "proof_jti": "prf-completion-1",
                                       "aip_token_hash": digest(tok.encode()),
                                       "cost_usd": "0.0042"},
                        "budget_ceiling": 100, "within_budget": True, "result_checked": True})
    rc = receipt(receipt_claims(tok, prf, tokens_used=None, cost_usd=None, duration_ms=None,
                                ldp_provenance_id="ldp:7", verification_status="unverified"))
    f.add(audit, "receipt without usage, with a provenance id, unverified", ["Receipt", "Usage"],
          {"token": tok, "proof": prf, "receipt": rc},
          expected={"completion": {"tokens_used": None, "cost_usd": None,
                                   "ldp_provenance_id": "ldp:7",
                                   "verification_status": "unverified"},
                    "within_budget": None})
    good = receipt(receipt_claims(tok, prf))
    tok2 = compact_token("tok-completion-2")
    prf2 = compact_proof(tok2, "prf-completion-2")
    f.add(audit, "receipt for another token (token digest differs)", ["ReceiptBinding"],
          {"token": tok2, "proof": compact_proof(tok2, "prf-completion-1"), "receipt": good},
          error="aip_completion_invalid")
    f.add(audit, "receipt for another proof jti", ["ReceiptBinding"],
          {"token": tok, "proof": prf, "receipt": receipt(receipt_claims(tok, prf2))},
          error="aip_completion_invalid")
    again = jws({"alg": "EdDSA", "typ": "aip-proof+jwt", "kid": A[0]},
                json.loads(_b64d(prf.split(".")[1])), KEYS["a0"])
    f.add(audit, "same proof jti, another proof (proof digest differs)", ["ReceiptBinding"],
          {"token": tok, "proof": again, "receipt": good}, error="aip_completion_invalid")
    f.add(audit, "receipt by mallory as iss (not the proof's audience)", ["WrongExecutor"],
          {"token": tok, "proof": prf,
           "receipt": receipt(receipt_claims(tok, prf, iss=MALLORY), key=KEYS["mallory"],
                              header={"alg": "EdDSA", "typ": "aip-receipt+jwt", "kid": MALLORY})},
          error="aip_completion_invalid")
    f.add(audit, "receipt naming the executor, signed by mallory", ["WrongSigner"],
          {"token": tok, "proof": prf, "receipt": receipt(receipt_claims(tok, prf),
                                                           key=KEYS["mallory"])},
          error="aip_signature_invalid")
    h, _, s = good.split(".")
    altered = receipt_claims(tok, prf, cost_usd="0.0001")
    f.add(audit, "cost altered in the receipt payload, signature kept", ["Altered"],
          {"token": tok, "proof": prf, "receipt": f"{h}.{_seg(altered)}.{s}"},
          error="aip_signature_invalid")
    altered = receipt_claims(tok, prf, tokens_used=1)
    f.add(audit, "tokens_used altered in the receipt payload, signature kept", ["Altered"],
          {"token": tok, "proof": prf, "receipt": f"{h}.{_seg(altered)}.{s}"},
          error="aip_signature_invalid")
    f.add(audit, "receipt alg HS256", ["ReceiptShape"],
          {"token": tok, "proof": prf, "receipt": receipt(
              receipt_claims(tok, prf), header={"alg": "HS256", "typ": "aip-receipt+jwt",
                                                "kid": EXEC})},
          error="aip_algorithm_unsupported")
    f.add(audit, "receipt typ aip+jwt", ["ReceiptShape"],
          {"token": tok, "proof": prf, "receipt": receipt(
              receipt_claims(tok, prf), header={"alg": "EdDSA", "typ": "aip+jwt", "kid": EXEC})},
          error="aip_completion_invalid")
    f.add(audit, "receipt header carries a jwk", ["ReceiptShape"],
          {"token": tok, "proof": prf, "receipt": receipt(
              receipt_claims(tok, prf), header={"alg": "EdDSA", "typ": "aip-receipt+jwt",
                                                "kid": EXEC, "jwk": {"kty": "OKP"}})},
          error="aip_completion_invalid")
    f.add(audit, "receipt with an extra member", ["ReceiptShape"],
          {"token": tok, "proof": prf,
           "receipt": receipt(receipt_claims(tok, prf, note="extra"))},
          error="aip_completion_invalid")
    f.add(audit, "receipt without result_hash", ["ReceiptShape"],
          {"token": tok, "proof": prf,
           "receipt": receipt(receipt_claims(tok, prf, result_hash=None))},
          error="aip_completion_invalid")
    dup = json.dumps(receipt_claims(tok, prf), separators=(",", ":"))[:-1] \
        + ',"status":"failed"}'
    f.add(audit, "receipt payload with a duplicate member", ["ReceiptShape"],
          {"token": tok, "proof": prf, "receipt": receipt(dup.encode())},
          error="aip_completion_invalid")
    f.add(audit, "receipt over 8192 characters", ["ReceiptShape"],
          {"token": tok, "proof": prf,
           "receipt": receipt(receipt_claims(tok, prf, ldp_provenance_id="x" * 6200))},
          error="aip_limit_exceeded")
    f.add(audit, "receipt status 'ok'", ["BadValue"],
          {"token": tok, "proof": prf, "receipt": receipt(receipt_claims(tok, prf, status="ok"))},
          error="aip_completion_invalid")
    f.add(audit, "receipt cost_usd as a JSON number", ["BadValue"],
          {"token": tok, "proof": prf,
           "receipt": receipt(receipt_claims(tok, prf, cost_usd=0.0042))},
          error="aip_completion_invalid")
    f.add(audit, "receipt issued an hour before the invocation", ["Time"],
          {"token": tok, "proof": prf,
           "receipt": receipt(receipt_claims(tok, prf, iat=NOW - HOUR))},
          error="aip_completion_invalid")
    f.add(audit, "result digest of the result held differs", ["ResultCheck"],
          {"token": tok, "proof": prf, "receipt": good, "result_hash": OTHER_RH},
          error="aip_completion_invalid")
    f.add(audit, "no receipt (completion required)", ["Presence"],
          {"token": tok, "proof": prf}, error="aip_completion_invalid")
    f.add(audit, "no proof", ["Presence"], {"token": tok, "receipt": good},
          error="aip_proof_missing")
    forged = compact_proof(tok, key=KEYS["mallory"])
    f.add(audit, "proof signed by mallory, not the holder", ["Receipt"],
          {"token": tok, "proof": forged, "receipt": receipt(receipt_claims(tok, forged))},
          error="aip_signature_invalid")
    # The digest the auditor holds is its own input: one that is not even ASCII differs too.
    f.add(audit, "result digest held is not ASCII", ["ResultCheck"],
          {"token": tok, "proof": prf, "receipt": good, "result_hash": "sha256:" + "\u00e9" * 64},
          error="aip_completion_invalid")
    return f.vf.build()


def _digests() -> dict[str, Any]:
    f = _File("Result digests: what is hashed for MCP, A2A, HTTP and plain JSON results.")
    op = "completion.digest"
    f.add(op, "MCP CallToolResult: top-level _meta removed", ["Digest"],
          {"kind": "mcp", "result": RESULT_MCP}, expected={"result_hash": RH})
    nested = {"content": [{"type": "text", "text": "x", "_meta": {"keep": True}}],
              "structuredContent": {"b": 1.0, "a": [1e2, "é"]}, "_meta": {"drop": 1}}
    f.add(op, "MCP: nested _meta kept, numbers and members canonical (RFC 8785)", ["Digest"],
          {"kind": "mcp", "result": nested},
          expected={"result_hash": result_hash({k: v for k, v in nested.items()
                                                if k != "_meta"})})
    artifact = {"artifactId": "a-1", "parts": [{"kind": "text", "text": "done"}],
                "metadata": {"aip_completion": "x"}}
    f.add(op, "A2A Artifact: top-level metadata removed", ["Digest"],
          {"kind": "a2a", "result": artifact},
          expected={"result_hash": result_hash({"artifactId": "a-1",
                                                "parts": [{"kind": "text", "text": "done"}]})})
    body = b'{"hotels": 3}\n'
    f.add(op, "HTTP: status, Content-Type as sent, body as base64url", ["Digest"],
          {"kind": "http", "status": 200, "content_type": "application/json; charset=utf-8",
           "body": b64url(body)},
          expected={"result_hash": result_hash({"status": 200, "content_type":
                                                "application/json; charset=utf-8",
                                                "body": b64url(body)})})
    f.add(op, "HTTP: no Content-Type, empty body", ["Digest"],
          {"kind": "http", "status": 204, "body": ""},
          expected={"result_hash": result_hash({"status": 204, "content_type": "",
                                                "body": ""})})
    f.add(op, "plain JSON result", ["Digest"], {"kind": "json", "result": [1, "two", None]},
          expected={"result_hash": result_hash([1, "two", None])})
    return f.vf.build()


def _issuance(b: CompletionBuilder) -> dict[str, Any]:
    f = _File("Completion blocks, attestations and receipts made by the implementation.")
    c = _Chains(b)
    inv = c.invoked(1)
    root_pub = b64url(public_raw(KEYS["root"]))
    check = {"root_public_key": root_pub}
    f.add("chained.complete", "the executor completes an invoked chain", ["Issuance"],
          {"token": c.token(inv), "key": jwk("exec"), "status": "partial", "result_hash": RH,
           "tokens_used": 10, "cost_usd": "0.25", "check": check})
    f.add("chained.complete", "the executor completes, no usage", ["Issuance"],
          {"token": c.token(inv), "key": jwk("exec"), "status": "failed", "result_hash": RH,
           "check": check})
    f.add("chained.complete", "someone else than the named executor refuses to complete",
          ["HonestRefusal"], {"token": c.token(inv), "key": jwk("mallory"),
                              "status": "completed", "result_hash": RH, "check": check},
          error="aip_completion_invalid")
    steps = c.completed(1)
    f.add("chained.attest", "the delegator of the last hop countersigns", ["Issuance"],
          {"token": c.token(steps), "key": jwk("a0"), "note": "looks right", "check": check})
    f.add("chained.attest", "a third party attests (disputes)", ["Issuance"],
          {"token": c.token(steps), "key": jwk("auditor"), "kind": "third_party",
           "verified": False, "check": check})
    f.add("chained.attest", "the invoker cannot countersign", ["HonestRefusal"],
          {"token": c.token(steps), "key": jwk("a1"), "check": check},
          error="aip_attestation_invalid")
    tok = compact_token()
    prf = compact_proof(tok)
    f.add("receipt.create", "the executor signs a receipt", ["Issuance"],
          {"token": tok, "proof": prf, "key": jwk("exec"), "status": "completed",
           "result_hash": RH, "duration_ms": 12})
    f.add("receipt.create", "someone else than the proof's audience refuses",
          ["HonestRefusal"], {"token": tok, "proof": prf, "key": jwk("mallory"),
                              "status": "completed", "result_hash": RH},
          error="aip_completion_invalid")
    return f.vf.build()


def generate() -> dict[str, dict[str, Any]]:
    b = CompletionBuilder.load(KEYS)
    out = {
        "completion/chained.json": _chained(b),
        "completion/compact.json": _compact(),
        "completion/digests.json": _digests(),
        "completion/issuance.json": _issuance(b),
    }
    b.save()
    return out
