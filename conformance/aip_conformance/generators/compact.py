"""Compact-mode vectors (spec/compact.md): tokens, invocation proofs, replay, issuing, digests
and the scope grammar.

Every token and proof is crafted here from primitives (``_compact_common.craft``): honest ones
by signing, hostile ones by editing headers, claims, encodings or signatures, or by signing
with another key or algorithm. Nothing is asked of an implementation to refuse at mint time.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from ._common import NOW, VectorFile, b64url, ed25519_multibase, public_raw, rfc3339
from ._compact_common import (
    ATTACKER,
    AUD,
    DAY,
    DOCUMENTS,
    DRAFT_WEB,
    HOLDER,
    HOLDER_WEB,
    ISS_KEY,
    ISS_WEB,
    K_ATTACKER,
    K_DRAFT,
    K_HOLDER,
    K_HOLDER_WEB,
    K_ISS1,
    K_ISS2,
    K_ISSK,
    K_OTHER,
    K_UNTRUSTED,
    MISSING_WEB,
    TRUST,
    UNTRUSTED,
    _document,
    _key_entry,
    args_digest,
    base_claims,
    craft,
    jwk,
    proof,
    proof_claims,
    public_jwk,
    raw_json,
    token,
    token_digest,
)

__all__ = ["generate"]

# --- notes: flag -> requirements --------------------------------------------------------------

TOKEN_NOTES: dict[str, dict[str, Any]] = {
    "Valid": {"description": "An honest token that every step accepts.",
              "requirements": ["AIP-TOK-001", "AIP-TOK-009", "AIP-TOK-010", "AIP-TOK-011", "AIP-TOK-012",
                               "AIP-TOK-013", "AIP-TOK-016", "AIP-TOK-021", "AIP-TOK-022", "AIP-TOK-031"]},
    "SelfCertifyingIssuer": {"description": "An aip:key issuer: the kid is the identifier itself.",
                             "requirements": ["AIP-TOK-006", "AIP-TOK-021"]},
    "AudienceArray": {"description": "aud may be an array that includes the verifier.",
                      "requirements": ["AIP-TOK-010", "AIP-TOK-026"]},
    "Budget": {"description": "budget_usd: type, range and enforcement against a known cost.",
               "requirements": ["AIP-TOK-017", "AIP-TOK-028"]},
    "Ignored": {"description": "Unknown claims and header parameters are ignored.",
                "requirements": ["AIP-TOK-018"]},
    "Scope": {"description": "The tool called must be granted by the token's scope.",
              "requirements": ["AIP-TOK-027", "AIP-SCOPE-004", "AIP-SCOPE-005", "AIP-SCOPE-006"]},
    "SkewEdge": {"description": "Exactly at the clock-skew edge passes; one second past fails.",
                 "requirements": ["AIP-TOK-023", "AIP-TOK-024", "AIP-TOK-025"]},
    "Expired": {"description": "exp is past now minus the skew.", "requirements": ["AIP-TOK-023"]},
    "NotYetValid": {"description": "nbf or iat is beyond now plus the skew.",
                    "requirements": ["AIP-TOK-024", "AIP-TOK-025"]},
    "Lifetime": {"description": "exp after iat, lifetime at most 86400 s, nbf before exp.",
                 "requirements": ["AIP-TOK-014"]},
    "MaxDepth": {"description": "max_depth is an integer 0..16.", "requirements": ["AIP-TOK-012"]},
    "AlgNone": {"description": "RFC 8725 2.1: alg none is refused.", "requirements": ["AIP-TOK-004"]},
    "AlgHmac": {"description": "RFC 8725 2.1: HS256 keyed with the issuer's public key is refused.",
                "requirements": ["AIP-TOK-004"]},
    "AlgOther": {"description": "Any alg other than EdDSA (RS256, ES256, Ed25519, case variants).",
                 "requirements": ["AIP-TOK-004"]},
    "Typ": {"description": "RFC 8725 3.11: typ must be exactly aip+jwt.", "requirements": ["AIP-TOK-005"]},
    "Kid": {"description": "kid is required and is a non-empty string.", "requirements": ["AIP-TOK-006"]},
    "EmbeddedKey": {"description": "jwk, jku, x5u, x5c and x5t headers are refused; keys never come from "
                                   "the token.", "requirements": ["AIP-TOK-007"]},
    "Crit": {"description": "crit names extensions this version does not define.",
             "requirements": ["AIP-TOK-008"]},
    "Flip": {"description": "One character changed in the header, payload or signature.",
             "requirements": ["AIP-TOK-022", "AIP-TOK-001"]},
    "MissingClaim": {"description": "A required claim is absent.",
                     "requirements": ["AIP-TOK-009", "AIP-TOK-010", "AIP-TOK-011", "AIP-TOK-012",
                                      "AIP-TOK-013", "AIP-TOK-016"]},
    "ClaimType": {"description": "A claim has the wrong type or is out of range.",
                  "requirements": ["AIP-TOK-009", "AIP-TOK-010", "AIP-TOK-012", "AIP-TOK-013",
                                   "AIP-TOK-016", "AIP-TOK-017"]},
    "ScopeClaim": {"description": "The scope claim is empty, not an array, or breaks the grammar.",
                   "requirements": ["AIP-TOK-011", "AIP-SCOPE-001", "AIP-SCOPE-002", "AIP-SCOPE-003"]},
    "Audience": {"description": "The token is not addressed to this verifier.",
                 "requirements": ["AIP-TOK-026"]},
    "Trust": {"description": "The issuer is not trusted or cannot be resolved.",
              "requirements": ["AIP-TOK-020", "AIP-TRUST-004"]},
    "NumericDate": {"description": "A time claim is a number but not an integer NumericDate (fraction, or an integral value written with a fraction part).",
                    "requirements": ["AIP-TIME-007", "AIP-TOK-013"]},
    "WrongKey": {"description": "Signed by a key of another identity, or another key of the issuer.",
                 "requirements": ["AIP-TOK-021", "AIP-TOK-022"]},
    "KeySelection": {"description": "kid names no usable key of the issuer.",
                     "requirements": ["AIP-TOK-021"]},
    "Encoding": {"description": "Segments are unpadded base64url with no whitespace.",
                 "requirements": ["AIP-TOK-001"]},
    "Json": {"description": "Header and payload are UTF-8 JSON objects without duplicate members.",
             "requirements": ["AIP-TOK-003"]},
    "Size": {"description": "A token over 8192 octets.", "requirements": ["AIP-TOK-002"]},
    "SignatureLength": {"description": "The signature is not 64 octets.", "requirements": ["AIP-TOK-019"]},
    "Missing": {"description": "No token presented.", "requirements": ["AIP-TOK-001"]},
    "Draft01": {"description": "A draft-01 token (no kid, aud, jti or nbf).",
                "requirements": ["AIP-TOK-029", "AIP-TOK-030"]},
    "Bearer": {"description": "With proofs not required, a token alone is checked (bearer use).",
               "requirements": ["AIP-PRF-011"]},
    "Order": {"description": "When two steps would fail, the earlier step's code is reported.",
              "requirements": ["AIP-TOK-031"]},
    "NumericDateRange": {"description": "A time claim is an integer from 0 to 2^53: both ends are in range.",
                         "requirements": ["AIP-TOK-013"]},
    "RequestMissing": {"description": "A proof presented without the request it binds cannot be checked.",
                       "requirements": ["AIP-PRF-015"]},
    "MaxAge": {"description": "The verifier's proof max_age at the ends of its range, 1 and 600 seconds.",
               "requirements": ["AIP-PRF-010"]},
    "ProofSkew": {"description": "A proof's freshness checks use the verifier's configured skew.",
                  "requirements": ["AIP-PRF-010", "AIP-TIME-001"]},
    "Draft01Key": {"description": "Without kid, the issuer's keys usable at the verification time (skew "
                                  "included) are counted; exactly one must remain.",
                   "requirements": ["AIP-TOK-030", "AIP-TIME-001", "AIP-DOC-014"]},
}

PROOF_NOTES: dict[str, dict[str, Any]] = {
    "Valid": {"description": "A token with a proof that binds the request received.",
              "requirements": ["AIP-PRF-001", "AIP-PRF-003", "AIP-PRF-004", "AIP-PRF-005", "AIP-PRF-006",
                               "AIP-PRF-007", "AIP-PRF-008", "AIP-PRF-009", "AIP-RPL-001"]},
    "WebHolder": {"description": "An aip:web holder signs with a key of its document (kid required).",
                  "requirements": ["AIP-PRF-007"]},
    "Canonical": {"description": "Arguments that differ only in member order, whitespace or number "
                                 "spelling have the same RFC 8785 digest.",
                  "requirements": ["AIP-PRF-005"]},
    "Fresh": {"description": "Proof age: iat within max_age and skew.", "requirements": ["AIP-PRF-010"]},
    "Missing": {"description": "A proof is required and absent.", "requirements": ["AIP-PRF-011"]},
    "NotRequired": {"description": "A proof that is present is verified even when not required.",
                    "requirements": ["AIP-PRF-012"]},
    "HolderKey": {"description": "Signed by a key other than the holder's.",
                  "requirements": ["AIP-PRF-006", "AIP-PRF-007"]},
    "TokenBinding": {"description": "token_hash is the digest of another token.",
                     "requirements": ["AIP-PRF-004"]},
    "Binding": {"description": "op, tool or args_hash differ from the request received.",
                "requirements": ["AIP-PRF-009"]},
    "Audience": {"description": "The proof is addressed to another verifier.", "requirements": ["AIP-PRF-008"]},
    "Replay": {"description": "The same (holder, jti) presented twice.",
               "requirements": ["AIP-RPL-001", "AIP-RPL-002"]},
    "Restart": {"description": "The restart rule: proofs older than the verifier's replay memory.",
                "requirements": ["AIP-RPL-005"]},
    "StoreLast": {"description": "A rejected proof does not consume its jti.",
                  "requirements": ["AIP-RPL-006"]},
    "Header": {"description": "Proof header: alg EdDSA, typ aip-proof+jwt, no embedded keys.",
               "requirements": ["AIP-PRF-001"]},
    "Claims": {"description": "A proof claim is missing or of the wrong form.",
               "requirements": ["AIP-PRF-003"]},
    "Encoding": {"description": "The proof cannot be decoded strictly.", "requirements": ["AIP-PRF-002"]},
    "Arguments": {"description": "Arguments received that cannot be decoded strictly or canonicalized.",
                  "requirements": ["AIP-PRF-014"]},
    "Scope": {"description": "A well-bound proof does not widen the token's scope.",
              "requirements": ["AIP-TOK-027"]},
}

ISSUE_NOTES: dict[str, dict[str, Any]] = {
    "Issue": {"description": "An implementation issues a token for the given claims; the suite checks "
                             "it with primitives (checks_compact.check_issued_token).",
              "requirements": ["AIP-TOK-032"]},
    "IssueRefused": {"description": "An issuer refuses claims that would make a malformed token.",
                     "requirements": ["AIP-TOK-032"]},
    "Prove": {"description": "A holder makes a proof for a request; the suite checks it with primitives "
                             "(checks_compact.check_created_proof).",
              "requirements": ["AIP-PRF-013"]},
    "ProveRefused": {"description": "A holder refuses to make a proof it could not make correctly.",
                     "requirements": ["AIP-PRF-013", "AIP-PRF-014", "AIP-PRF-016"]},
    "IssueKeyRefused": {"description": "An aip:key issuer refuses to sign with another key or another kid.",
                        "requirements": ["AIP-TOK-033"]},
}

DIGEST_NOTES: dict[str, dict[str, Any]] = {
    "ArgsHash": {"description": "args_hash = 'sha256:' + hex SHA-256 of the RFC 8785 form.",
                 "requirements": ["AIP-PRF-005"]},
    "Canonical": {"description": "Member order, whitespace and number spelling do not change it.",
                  "requirements": ["AIP-PRF-005"]},
    "TokenHash": {"description": "token_hash = 'sha256:' + hex SHA-256 of the token's ASCII octets.",
                  "requirements": ["AIP-PRF-004"]},
    "BadArguments": {"description": "Arguments that are not a strict JSON object or have no RFC 8785 form.",
                     "requirements": ["AIP-PRF-014"]},
    "Grammar": {"description": "The scope grammar.", "requirements": ["AIP-SCOPE-001", "AIP-SCOPE-002"]},
    "List": {"description": "Scope lists: non-empty, at most 64, distinct.", "requirements": ["AIP-SCOPE-003"]},
    "Match": {"description": "Exact, prefix and '*' matching of a tool call.",
              "requirements": ["AIP-SCOPE-004", "AIP-SCOPE-005", "AIP-SCOPE-006"]},
    "Within": {"description": "Attenuation: one scope set within another.", "requirements": ["AIP-SCOPE-007"]},
    "ToolName": {"description": "A tool name must make an exact scope tool:N (at most 251 characters); "
                                "any other tool is an input error.", "requirements": ["AIP-SCOPE-008"]},
}


# --- helpers ----------------------------------------------------------------------------------

def _b64decode_strict(text: str) -> bytes | None:
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        return None
    return data if b64url(data) == text else None


def _flip_member(segment: str, member: str) -> str:
    """Change one base64url character so that only the JSON string ``member`` changes (to
    another non-empty string) and everything else decodes the same."""
    original = json.loads(_b64decode_strict(segment) or b"{}")
    for index in range(len(segment)):
        for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789":
            if ch == segment[index]:
                continue
            candidate = segment[:index] + ch + segment[index + 1:]
            raw = _b64decode_strict(candidate)
            if raw is None:
                continue
            try:
                value = json.loads(raw.decode("ascii"))
            except (ValueError, UnicodeDecodeError):
                continue
            if not isinstance(value, dict) or list(value) != list(original):
                continue
            others_same = all(value[k] == original[k] for k in original if k != member)
            changed = value[member]
            if others_same and isinstance(changed, str) and changed and changed != original[member]:
                return candidate
    raise AssertionError(f"no single-character flip changes only {member!r}")


def _swap(tok: str, index: int, part: str) -> str:
    parts = tok.split(".")
    parts[index] = part
    return ".".join(parts)


def _v(inputs: dict[str, Any]) -> dict[str, Any]:
    """compact.verify input for a bare token (bearer check)."""
    return {"audience": AUD, "require_proof": False, **inputs}


EXPECT_BASE = {"iss": ISS_WEB, "sub": HOLDER, "aud": [AUD], "scopes": ["tool:search", "tool:fs:*"],
               "iat": NOW - 60, "nbf": NOW - 60, "exp": NOW + 3540, "jti": "tok-0001", "max_depth": 0,
               "draft01": False}


# --- tokens -----------------------------------------------------------------------------------

def _tokens() -> dict[str, Any]:
    vf = VectorFile("compact", ["Compact tokens (spec/compact.md): header, claims, keys, time, "
                                "audience, scope, encodings, RFC 8725 attacks, draft-01 tokens.",
                                "Proofs are not required in these groups unless a case says so."],
                    TOKEN_NOTES)
    t = vf.group("compact.verify", trust=TRUST)

    def ok(comment: str, flags: list[str], tok: str, expected: dict[str, Any] | None = None,
           **extra: Any) -> None:
        vf.add(t, comment, flags, _v({"token": tok, **extra}), expected=expected or {})

    def bad(comment: str, flags: list[str], tok: Any, error: str, **extra: Any) -> None:
        inputs = _v(extra)
        if tok is not None:
            inputs["token"] = tok
        vf.add(t, comment, flags, inputs, error=error)

    malformed = "aip_token_malformed"
    good = token()

    # valid
    ok("honest token from an aip:web issuer, key-1", ["Valid", "Bearer"], good, EXPECT_BASE)
    ok("aip:key issuer; kid is the issuer's identifier", ["Valid", "SelfCertifyingIssuer"],
       token(base_claims(iss=ISS_KEY), kid=ISS_KEY, key=K_ISSK), {"iss": ISS_KEY})
    ok("the issuer's second active key", ["Valid"], token(kid="key-2", key=K_ISS2), {"iss": ISS_WEB})
    ok("aud is an array that includes this verifier", ["AudienceArray"],
       token(base_claims(aud=["https://other.example/mcp", AUD])),
       {"aud": ["https://other.example/mcp", AUD]})
    ok("budget_usd present and reported", ["Budget"], token(base_claims(budget_usd=12.5)),
       {"budget_usd": 12.5})
    ok("cost within the budget", ["Budget"], token(base_claims(budget_usd=12.5)), {}, cost_usd=12.5)
    bad("cost above the budget", ["Budget"], token(base_claims(budget_usd=12.5)),
        "aip_budget_exceeded", cost_usd=12.51)
    ok("unknown claims are ignored", ["Ignored"],
       token(base_claims(note="hello", cnf={"jkt": "x"}, act={"sub": "someone"})))
    ok("an unknown header parameter is ignored", ["Ignored"], token(aip_note="ignored"))
    ok("nbf absent", ["Valid"], token(base_claims(nbf=None)), {"nbf": None})
    ok("call of tool:search granted exactly", ["Scope"], good, {}, operation="tools/call", tool="search")
    ok("call of fs:read granted by the prefix scope tool:fs:*", ["Scope"], good, {},
       operation="tools/call", tool="fs:read")
    ok("bare * grants any tool", ["Scope"], token(base_claims(scope=["*"])), {"scopes": ["*"]},
       operation="tools/call", tool="anything.at_all")
    bad("tool not granted", ["Scope"], good, "aip_scope_insufficient", operation="tools/call", tool="delete")
    bad("tool:fs:* does not grant tool:fs itself", ["Scope"], good, "aip_scope_insufficient",
        operation="tools/call", tool="fs")
    bad("scopes are case-sensitive", ["Scope"], good, "aip_scope_insufficient",
        operation="tools/call", tool="Search")
    bad("tool:search does not grant tool:search2 (no implicit prefix)", ["Scope"], good,
        "aip_scope_insufficient", operation="tools/call", tool="search2")

    # time and skew edges (skew 60)
    ok("exp exactly at now - skew", ["SkewEdge"],
       token(base_claims(iat=NOW - 3660, nbf=None, exp=NOW - 60)))
    bad("exp one second past now - skew", ["SkewEdge", "Expired"],
        token(base_claims(iat=NOW - 3661, nbf=None, exp=NOW - 61)), "aip_token_expired")
    bad("expired an hour ago", ["Expired"], token(base_claims(iat=NOW - 7200, nbf=None, exp=NOW - 3600)),
        "aip_token_expired")
    ok("nbf exactly at now + skew", ["SkewEdge"], token(base_claims(iat=NOW, nbf=NOW + 60)))
    bad("nbf one second past now + skew", ["SkewEdge", "NotYetValid"], token(base_claims(iat=NOW, nbf=NOW + 61)),
        "aip_token_not_yet_valid")
    ok("iat exactly at now + skew", ["SkewEdge"], token(base_claims(iat=NOW + 60, nbf=None, exp=NOW + 3600)))
    bad("iat one second past now + skew", ["SkewEdge", "NotYetValid"],
        token(base_claims(iat=NOW + 61, nbf=None, exp=NOW + 3600)), "aip_token_not_yet_valid")
    bad("nbf a day ahead", ["NotYetValid"], token(base_claims(iat=NOW, nbf=NOW + 86000, exp=NOW + 86400)),
        "aip_token_not_yet_valid")
    ok("lifetime exactly 86400 s", ["Lifetime"], token(base_claims(iat=NOW - 60, exp=NOW - 60 + 86400)))
    bad("lifetime 86401 s", ["Lifetime"], token(base_claims(iat=NOW - 60, exp=NOW - 60 + 86401)), malformed)
    bad("exp equal to iat", ["Lifetime"], token(base_claims(iat=NOW, nbf=None, exp=NOW)), malformed)
    bad("nbf not before exp", ["Lifetime"], token(base_claims(nbf=NOW + 3540)), malformed)
    ok("max_depth 16", ["MaxDepth"], token(base_claims(max_depth=16)), {"max_depth": 16})
    bad("max_depth 17", ["MaxDepth"], token(base_claims(max_depth=17)), malformed)
    bad("max_depth -1", ["MaxDepth"], token(base_claims(max_depth=-1)), malformed)

    # RFC 8725 algorithm attacks
    claims = base_claims()
    bad("alg none, empty signature", ["AlgNone"],
        craft({"alg": "none", "typ": "aip+jwt", "kid": "key-1"}, claims, None, alg="none"),
        "aip_algorithm_unsupported")
    bad("alg none with an Ed25519 signature left in place", ["AlgNone"],
        craft({"alg": "none", "typ": "aip+jwt", "kid": "key-1"}, claims, K_ISS1),
        "aip_algorithm_unsupported")
    bad("alg 'None' (case variant)", ["AlgNone"],
        craft({"alg": "None", "typ": "aip+jwt", "kid": "key-1"}, claims, None, alg="none"),
        "aip_algorithm_unsupported")
    bad("HS256 keyed with the issuer's raw public key", ["AlgHmac"],
        craft({"alg": "HS256", "typ": "aip+jwt", "kid": "key-1"}, claims, None, alg="hs256",
              hmac_key=public_raw(K_ISS1)), "aip_algorithm_unsupported")
    bad("HS256 keyed with the issuer's public JWK text", ["AlgHmac"],
        craft({"alg": "HS256", "typ": "aip+jwt", "kid": "key-1"}, claims, None, alg="hs256",
              hmac_key=json.dumps(public_jwk(K_ISS1)).encode()), "aip_algorithm_unsupported")
    bad("ES256 signature by a P-256 key", ["AlgOther"],
        craft({"alg": "ES256", "typ": "aip+jwt", "kid": "key-1"}, claims, None, alg="es256"),
        "aip_algorithm_unsupported")
    bad("alg RS256 over an Ed25519 signature (alg/key mismatch)", ["AlgOther"],
        craft({"alg": "RS256", "typ": "aip+jwt", "kid": "key-1"}, claims, K_ISS1),
        "aip_algorithm_unsupported")
    bad("alg Ed25519 (fully-specified name, not allowed here)", ["AlgOther"],
        craft({"alg": "Ed25519", "typ": "aip+jwt", "kid": "key-1"}, claims, K_ISS1),
        "aip_algorithm_unsupported")
    bad("alg 'eddsa' lowercase", ["AlgOther"],
        craft({"alg": "eddsa", "typ": "aip+jwt", "kid": "key-1"}, claims, K_ISS1), "aip_algorithm_unsupported")
    bad("alg missing", ["AlgOther"], craft({"typ": "aip+jwt", "kid": "key-1"}, claims, K_ISS1),
        "aip_algorithm_unsupported")
    bad("alg is an array", ["AlgOther"],
        craft({"alg": ["EdDSA"], "typ": "aip+jwt", "kid": "key-1"}, claims, K_ISS1), "aip_algorithm_unsupported")

    # typ
    for typ, why in [("JWT", "typ JWT"), ("at+jwt", "typ at+jwt (an OAuth access token)"),
                     ("aip-proof+jwt", "an invocation proof presented as a token"),
                     ("application/aip+jwt", "typ with the application/ prefix"),
                     ("AIP+JWT", "typ in capitals")]:
        bad(why, ["Typ"], craft({"alg": "EdDSA", "typ": typ, "kid": "key-1"}, claims, K_ISS1), malformed)
    bad("typ missing", ["Typ"], craft({"alg": "EdDSA", "kid": "key-1"}, claims, K_ISS1), malformed)

    # kid
    bad("kid is a number", ["Kid"], craft({"alg": "EdDSA", "typ": "aip+jwt", "kid": 1}, claims, K_ISS1),
        malformed)
    bad("kid is empty", ["Kid"], token(kid=""), malformed)

    # embedded keys and crit
    bad("embedded jwk of the attacker, signed by the attacker", ["EmbeddedKey"],
        token(key=K_ATTACKER, jwk=public_jwk(K_ATTACKER)), malformed)
    bad("jku pointing at the attacker's key set", ["EmbeddedKey"],
        token(key=K_ATTACKER, jku="https://attacker.example/jwks.json"), malformed)
    bad("x5u header", ["EmbeddedKey"], token(x5u="https://attacker.example/cert.pem"), malformed)
    bad("x5c header", ["EmbeddedKey"], token(x5c=["MIIBszCCAVmgAwIBAgIU"]), malformed)
    bad("x5t header", ["EmbeddedKey"], token(x5t="dGh1bWJwcmludA"), malformed)
    bad("crit naming exp", ["Crit"], token(crit=["exp"]), malformed)
    bad("crit b64 with b64 false (RFC 7797)", ["Crit"], token(crit=["b64"], b64=False), malformed)

    # one-character flips
    h, p, s = good.split(".")
    bad("header: one base64url character changed inside kid", ["Flip", "KeySelection"],
        _swap(good, 0, _flip_member(h, "kid")), "aip_key_unknown")
    bad("payload: one base64url character changed inside jti", ["Flip"],
        _swap(good, 1, _flip_member(p, "jti")), "aip_signature_invalid")
    widened = json.dumps(base_claims(max_depth=9), separators=(",", ":"))
    bad("payload: one JSON character changed (max_depth 0 -> 9), re-encoded", ["Flip"],
        _swap(good, 1, b64url(widened.encode())), "aip_signature_invalid")
    flipped = json.dumps(base_claims(sub=ATTACKER), separators=(",", ":"))
    bad("payload: sub replaced by the attacker's identifier", ["Flip"],
        _swap(good, 1, b64url(flipped.encode())), "aip_signature_invalid")
    mid = len(s) // 2
    bad("signature: one character changed in the middle", ["Flip"],
        _swap(good, 2, s[:mid] + ("A" if s[mid] != "A" else "B") + s[mid + 1:]), "aip_signature_invalid")
    bad("signature: first character changed", ["Flip"],
        _swap(good, 2, ("A" if s[0] != "A" else "B") + s[1:]), "aip_signature_invalid")
    last = s[-1]
    noncanonical = next(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                        if c != last and _b64decode_strict(s[:-1] + c) is None)
    bad("signature: last character changed to a non-canonical spelling", ["Flip", "Encoding"],
        _swap(good, 2, s[:-1] + noncanonical), malformed)
    bad("signature truncated to 63 octets", ["SignatureLength"],
        _swap(good, 2, b64url(K_ISS1.sign(f"{h}.{p}".encode())[:63])), malformed)
    bad("signature of 65 octets", ["SignatureLength"],
        _swap(good, 2, b64url(K_ISS1.sign(f"{h}.{p}".encode()) + b"\x00")), malformed)
    bad("signature segment empty", ["SignatureLength"], f"{h}.{p}.", malformed)

    # claims missing
    for name in ("iss", "sub", "scope", "max_depth", "iat", "exp"):
        bad(f"claim {name} missing", ["MissingClaim"], token(base_claims(**{name: None})), malformed)
    # claim types
    for name, value, why in [
        ("iss", 42, "iss is a number"),
        ("iss", "https://issuer.example.com", "iss is a URL, not an AIP identifier"),
        ("sub", "aip:web:Agent.example.com", "sub is not a valid identifier (uppercase host)"),
        ("aud", 7, "aud is a number"),
        ("aud", [], "aud is an empty array"),
        ("aud", [AUD, AUD], "aud lists the same audience twice"),
        ("aud", "", "aud is empty"),
        ("max_depth", "0", "max_depth is a string"),
        ("max_depth", 1.5, "max_depth is a fraction"),
        ("max_depth", True, "max_depth is a boolean"),
        ("iat", "1767225540", "iat is a string"),
        ("exp", str(NOW + 3540), "exp is a string"),
        ("nbf", True, "nbf is a boolean"),
        ("jti", 7, "jti is a number"),
        ("jti", "", "jti is empty"),
        ("jti", "j" * 129, "jti longer than 128 characters"),
        ("budget_usd", "10", "budget_usd is a string"),
        ("budget_usd", -1, "budget_usd is negative"),
        ("budget_usd", True, "budget_usd is a boolean"),
    ]:
        bad(why, ["ClaimType"], token(base_claims(**{name: value})), malformed)
    for name, value, why in [
        ("iat", NOW - 59.5, "iat is a fraction"),
        ("exp", float(NOW + 3540), "exp is integral but written 1767229140.0"),
        ("nbf", float(NOW - 60), "nbf is integral but written with a fraction part"),
    ]:
        bad(why, ["ClaimType", "NumericDate"], token(base_claims(**{name: value})), malformed)
    for value, why in [("tool:search", "scope is a string, not an array"), ([], "scope is empty"),
                       (["tool:"], "scope entry tool: breaks the grammar"),
                       (["tool:search", " "], "scope entry is whitespace"),
                       (["tool:**"], "scope entry tool:**"),
                       (["tool:search", "tool:search"], "scope lists the same scope twice"),
                       (["tool:" + "a" * 252], "scope entry of 257 characters"),
                       ([f"tool:t{i}" for i in range(65)], "65 scope entries"),
                       ([7], "scope entry is a number")]:
        bad(why, ["ScopeClaim"], token(base_claims(scope=value)), malformed)

    # audience
    bad("aud names another server", ["Audience"], token(base_claims(aud="https://other.example/mcp")),
        "aip_audience_mismatch")
    bad("aud array without this verifier", ["Audience", "AudienceArray"],
        token(base_claims(aud=["https://a.example/mcp", "https://b.example/mcp"])), "aip_audience_mismatch")
    bad("aud differs by a trailing slash", ["Audience"], token(base_claims(aud=AUD + "/")),
        "aip_audience_mismatch")

    # trust and keys
    bad("issuer is an aip:key identity that is not trusted", ["Trust"],
        token(base_claims(iss=UNTRUSTED), kid=UNTRUSTED, key=K_UNTRUSTED), "aip_identity_unresolvable")
    bad("issuer is the attacker posing with its own aip:key", ["Trust"],
        token(base_claims(iss=ATTACKER), kid=ATTACKER, key=K_ATTACKER), "aip_identity_unresolvable")
    bad("trusted aip:web issuer whose document is not available", ["Trust"],
        token(base_claims(iss=MISSING_WEB)), "aip_identity_unresolvable")
    bad("signed by another trusted identity's key (other.example.net key-1)", ["WrongKey"],
        token(key=K_OTHER), "aip_signature_invalid")
    bad("signed with the issuer's key-2 but naming key-1", ["WrongKey"], token(key=K_ISS2),
        "aip_signature_invalid")
    bad("aip:key issuer, signed by the attacker's key", ["WrongKey"],
        token(base_claims(iss=ISS_KEY), kid=ISS_KEY, key=K_ATTACKER), "aip_signature_invalid")
    bad("aip:key issuer whose kid names another aip:key identity", ["WrongKey", "KeySelection"],
        token(base_claims(iss=ISS_KEY), kid=ATTACKER, key=K_ATTACKER), "aip_key_unknown")
    bad("kid names a key the issuer does not have", ["KeySelection"], token(kid="key-9"), "aip_key_unknown")
    bad("kid names the other identity's key id, not in the issuer's document", ["KeySelection"],
        token(kid="aip:web:other.example.net/agents/peer#key-1", key=K_OTHER), "aip_key_unknown")
    bad("kid names a key past its valid_until", ["KeySelection"],
        token(kid="key-old", key=K_ISS1), "aip_key_inactive")
    bad("kid names a key not yet valid", ["KeySelection"], token(kid="key-next", key=K_ISS1),
        "aip_key_inactive")

    # encodings and JSON
    bad("payload segment with '=' padding", ["Encoding"], _swap(good, 1, p + "=" * (-len(p) % 4 or 4)), malformed)
    assert any(c in s for c in "-_"), "signature must contain a URL-safe character"
    bad("signature in the standard base64 alphabet", ["Encoding"],
        _swap(good, 2, s.replace("-", "+").replace("_", "/")), malformed)
    bad("a space inside the payload segment", ["Encoding"], _swap(good, 1, p[:10] + " " + p[10:]), malformed)
    bad("a trailing newline", ["Encoding"], good + "\n", malformed)
    bad("two segments", ["Encoding"], f"{h}.{p}", malformed)
    bad("five segments (JWE shape)", ["Encoding"], f"{h}.{p}.{s}.{s}.{s}", malformed)
    bad("payload is not JSON", ["Json"], craft({"alg": "EdDSA", "typ": "aip+jwt", "kid": "key-1"},
                                                b"hello, world", K_ISS1), malformed)
    bad("payload is a JSON array", ["Json"], craft({"alg": "EdDSA", "typ": "aip+jwt", "kid": "key-1"},
                                                    b"[1,2,3]", K_ISS1), malformed)
    bad("header is not JSON", ["Json"], craft(b"{alg:EdDSA}", base_claims(), K_ISS1), malformed)
    dup_payload = json.dumps(base_claims(), separators=(",", ":"))[:-1] + ',"scope":["*"]}'
    bad("duplicate scope member in the payload (signed)", ["Json"],
        craft({"alg": "EdDSA", "typ": "aip+jwt", "kid": "key-1"}, raw_json(dup_payload), K_ISS1), malformed)
    bad("duplicate alg member in the header (signed)", ["Json"],
        craft(raw_json('{"alg":"none","alg":"EdDSA","typ":"aip+jwt","kid":"key-1"}'), base_claims(), K_ISS1),
        malformed)
    bad("payload with a byte that is not UTF-8", ["Json"],
        craft({"alg": "EdDSA", "typ": "aip+jwt", "kid": "key-1"},
              json.dumps(base_claims(jti="tok-\u00e9")).encode().replace(b"\\u00e9", b"\xe9"), K_ISS1),
        malformed)
    bad("payload with NaN", ["Json"],
        craft({"alg": "EdDSA", "typ": "aip+jwt", "kid": "key-1"},
              raw_json(json.dumps(base_claims())[:-1] + ', "budget_usd": NaN}'), K_ISS1), malformed)
    bad("token over 8192 octets", ["Size"], token(base_claims(note="x" * 8200)), "aip_limit_exceeded")
    bad("no token presented", ["Missing"], None, "aip_token_missing")
    bad("empty token", ["Missing"], "", "aip_token_missing")

    # order of steps
    bad("expired AND wrong audience: expiry (V9) is reported before audience (V11)", ["Order"],
        token(base_claims(iat=NOW - 7200, nbf=None, exp=NOW - 3600, aud="https://other.example/mcp")),
        "aip_token_expired")
    bad("untrusted issuer AND bad signature: trust (V6) is reported first", ["Order"],
        token(base_claims(iss=UNTRUSTED), kid=UNTRUSTED, key=K_ATTACKER), "aip_identity_unresolvable")

    # draft-01 tokens
    draft_claims = {"iss": ISS_KEY, "sub": HOLDER, "scope": ["tool:search"], "max_depth": 0,
                    "iat": NOW - 60, "exp": NOW + 3540}
    draft_tok = craft({"alg": "EdDSA", "typ": "aip+jwt"}, draft_claims, K_ISSK)
    bad("draft-01 token (no kid, aud, jti) is rejected by default", ["Draft01"], draft_tok, malformed)
    ok("draft-01 token accepted under draft-01 compatibility", ["Draft01"], draft_tok,
       {"iss": ISS_KEY, "aud": [], "jti": None, "draft01": True}, draft01=True)
    ok("draft-01 token from an aip:web issuer with one active key, compatibility on", ["Draft01"],
       craft({"alg": "EdDSA", "typ": "aip+jwt"}, {**draft_claims, "iss": DRAFT_WEB}, K_DRAFT),
       {"iss": DRAFT_WEB, "draft01": True}, draft01=True)
    bad("draft-01 token from an issuer with several active keys: no key can be chosen", ["Draft01"],
        craft({"alg": "EdDSA", "typ": "aip+jwt"}, {**draft_claims, "iss": ISS_WEB}, K_ISS1),
        "aip_key_unknown", draft01=True)
    bad("draft-01 token, compatibility on, still checked for expiry", ["Draft01", "Expired"],
        craft({"alg": "EdDSA", "typ": "aip+jwt"}, {**draft_claims, "iat": NOW - 7200, "exp": NOW - 3600},
              K_ISSK), "aip_token_expired", draft01=True)
    bad("draft-01 token, compatibility on, alg none still refused", ["Draft01", "AlgNone"],
        craft({"alg": "none", "typ": "aip+jwt"}, draft_claims, None, alg="none"),
        "aip_algorithm_unsupported", draft01=True)
    bad("current token without jti is rejected", ["Draft01", "MissingClaim"],
        token(base_claims(jti=None)), malformed)
    bad("current token without aud is rejected", ["Draft01", "MissingClaim"],
        token(base_claims(aud=None)), malformed)
    bad("current token without kid is rejected", ["Draft01", "Kid"], token(kid=None), malformed)
    # Under compatibility, a token with a kid but without aud or jti is accepted and reported
    # as draft-01; a complete current token is reported as not draft-01 (AIP-TOK-030).
    ok("token with kid but no aud, compatibility on: reported as draft-01", ["Draft01"],
       token(base_claims(aud=None)), {"aud": [], "draft01": True}, draft01=True)
    ok("token with kid but no jti, compatibility on: reported as draft-01", ["Draft01"],
       token(base_claims(jti=None)), {"jti": None, "draft01": True}, draft01=True)
    ok("complete current token, compatibility on: not reported as draft-01", ["Draft01"], good,
       {"draft01": False}, draft01=True)

    # AIP-TOK-017's range "0 to 10^9" includes both ends: 0, a fraction below 1 and exactly
    # 10^9 are accepted and reported; 10^9 + 1 is refused (pins each bound of the range check).
    for value, why in [(0, "budget_usd 0, the lower bound"),
                       (0.5, "budget_usd 0.5, a fraction below 1"),
                       (1000000000, "budget_usd 10^9, the upper bound")]:
        ok(why, ["Budget"], token(base_claims(budget_usd=value)), {"budget_usd": value})
    bad("budget_usd 10^9 + 1, above the range", ["Budget"],
        token(base_claims(budget_usd=1000000001)), malformed)
    # kid length 1..256 (AIP-TOK-006): at both ends the kid is well formed and merely names no
    # key of the issuer (aip_key_unknown, a later step); one character more is malformed.
    bad("kid of 1 character naming no key", ["Kid", "KeySelection"], token(kid="k"),
        "aip_key_unknown")
    bad("kid of 256 characters naming no key", ["Kid", "KeySelection"], token(kid="k" * 256),
        "aip_key_unknown")
    bad("kid of 257 characters", ["Kid"], token(kid="k" * 257), malformed)
    # aud arrays of 1 and 16 members are in range (AIP-TOK-010), 17 are not.
    ok("aud is an array of one member, this verifier", ["AudienceArray"], token(base_claims(aud=[AUD])),
       {"aud": [AUD]})
    sixteen = [f"https://s{i}.example/mcp" for i in range(15)] + [AUD]
    ok("aud is an array of 16 members, the limit", ["AudienceArray"], token(base_claims(aud=sixteen)),
       {"aud": sixteen})
    bad("aud is an array of 17 members", ["AudienceArray", "ClaimType"],
        token(base_claims(aud=["https://s16.example/mcp", *sixteen])), malformed)
    # iss / sub that are a JSON array or object are not identifiers (AIP-TOK-009).
    bad("iss is an array holding the issuer's identifier", ["ClaimType"],
        token(base_claims(iss=[ISS_WEB])), malformed)
    bad("sub is an object", ["ClaimType"], token(base_claims(sub={"id": HOLDER})), malformed)
    # A token that is not a string is malformed, not missing (AIP-TOK-001).
    bad("token is a JSON number, not a string", ["Encoding"], 42, malformed)
    # NumericDate range 0..2^53 (AIP-TOK-013), both ends included: nbf 0 is accepted; exp exactly
    # 2^53 passes V5 and fails only at V10 (iat in the future); 2^54 is out of range.
    ok("nbf 0, the lowest NumericDate", ["NumericDateRange"], token(base_claims(nbf=0)), {"nbf": 0})
    bad("exp exactly 2^53: in range, so the token fails later as not yet valid", ["NumericDateRange"],
        token(base_claims(iat=2**53 - 3600, nbf=None, exp=2**53)), "aip_token_not_yet_valid")
    bad("iat and exp 2^54: out of range", ["NumericDateRange", "ClaimType"],
        token(base_claims(iat=2**54 - 3600, nbf=None, exp=2**54)), malformed)
    # A proof without the request it binds (no operation) is an input error at V12 (AIP-PRF-015).
    bad("a proof presented without a request to check it against", ["RequestMissing"], good,
        "aip_input_invalid", proof=proof(good), require_proof=True)
    bad("a proof presented without a request, proofs not required", ["RequestMissing", "Bearer"], good,
        "aip_input_invalid", proof=proof(good))

    # skew 0 and the maximum skew 300
    t0 = vf.group("compact.verify", trust={**TRUST, "skew": 0})
    vf.add(t0, "skew 0: exp == now passes", ["SkewEdge"],
           _v({"token": token(base_claims(iat=NOW - 3600, nbf=None, exp=NOW))}), expected={})
    vf.add(t0, "skew 0: exp == now - 1 fails", ["SkewEdge", "Expired"],
           _v({"token": token(base_claims(iat=NOW - 3600, nbf=None, exp=NOW - 1))}), error="aip_token_expired")
    vf.add(t0, "skew 0: nbf == now + 1 fails", ["SkewEdge", "NotYetValid"],
           _v({"token": token(base_claims(iat=NOW, nbf=NOW + 1))}), error="aip_token_not_yet_valid")
    t300 = vf.group("compact.verify", trust={**TRUST, "skew": 300})
    vf.add(t300, "skew 300: exp == now - 300 passes", ["SkewEdge"],
           _v({"token": token(base_claims(iat=NOW - 3900, nbf=None, exp=NOW - 300))}), expected={})
    vf.add(t300, "skew 300: exp == now - 301 fails", ["SkewEdge", "Expired"],
           _v({"token": token(base_claims(iat=NOW - 3901, nbf=None, exp=NOW - 301))}), error="aip_token_expired")
    vf.add(t300, "skew 300: iat == now + 300 passes", ["SkewEdge"],
           _v({"token": token(base_claims(iat=NOW + 300, nbf=None, exp=NOW + 3600))}), expected={})
    _verifier_settings(vf, t0, t300)
    return vf.build()


def _verifier_settings(vf: VectorFile, t0: list[dict[str, Any]], t300: list[dict[str, Any]]) -> None:
    """Cases on the verifier's own settings: the proof's skew and max_age, and the draft-01 key
    choice under a skew (tokens.json; proofs here are plain fixtures)."""
    from ._common import seeded_key
    from ._compact_common import DOCUMENTS, _document, _key_entry

    tok = token()

    def bound(iat: int, **extra: Any) -> dict[str, Any]:
        return _pv(tok, proof(tok, proof_claims(tok, iat=iat)), **extra)

    # The proof's freshness uses the verifier's skew (AIP-PRF-010 with AIP-TIME-001).
    vf.add(t0, "skew 0: proof iat == now + 1 fails", ["ProofSkew"], bound(NOW + 1), error="aip_proof_invalid")
    vf.add(t0, "skew 0: proof iat == now - 300 passes", ["ProofSkew"], bound(NOW - 300), expected={})
    vf.add(t300, "skew 300: proof iat == now + 300 passes", ["ProofSkew"], bound(NOW + 300), expected={})
    vf.add(t300, "skew 300: proof iat == now - 600 passes", ["ProofSkew"], bound(NOW - 600), expected={})
    # max_age at both ends of 1..600 (AIP-PRF-010), skew 60.
    t = vf.group("compact.verify", trust=TRUST)
    vf.add(t, "proof_max_age 1: iat at now - 61 passes", ["MaxAge"], bound(NOW - 61, proof_max_age=1),
           expected={})
    vf.add(t, "proof_max_age 1: iat at now - 62 fails", ["MaxAge"], bound(NOW - 62, proof_max_age=1),
           error="aip_proof_invalid")
    vf.add(t, "proof_max_age 600: iat at now - 660 passes", ["MaxAge"], bound(NOW - 660, proof_max_age=600),
           expected={})
    vf.add(t, "proof_max_age 600: iat at now - 661 fails", ["MaxAge"], bound(NOW - 661, proof_max_age=600),
           error="aip_proof_invalid")
    # Draft-01 key choice: a legacy issuer with key-1 and a key-0 that ended 30 s ago. Under
    # skew 0 only key-1 is usable, so it is chosen; under skew 60 key-0 is still usable
    # (AIP-DOC-014 with the skew), two keys remain and no key can be chosen (AIP-TOK-030).
    legacy = "aip:web:legacy2.example.com/agents/old"
    k_new, k_old = seeded_key("compact/legacy2-key-1"), seeded_key("compact/legacy2-key-0")
    document = _document(legacy, [_key_entry("key-0", k_old, NOW - 60 * 86400, NOW - 30),
                                   _key_entry("key-1", k_new)], ("key-1", k_new))
    claims = {"iss": legacy, "sub": HOLDER, "scope": ["tool:search"], "max_depth": 0,
              "iat": NOW - 60, "exp": NOW + 3540}
    draft = craft({"alg": "EdDSA", "typ": "aip+jwt"}, claims, k_new)
    for skew, verdict in [(0, None), (60, "aip_key_unknown")]:
        group = vf.group("compact.verify", trust={"documents": {**DOCUMENTS, legacy: document},
                                                  "trusted_issuers": [legacy], "skew": skew})
        if verdict is None:
            vf.add(group, f"skew {skew}: draft-01 token, the issuer's other key ended 30 s ago: one usable key",
                   ["Draft01", "Draft01Key"], _v({"token": draft, "draft01": True}),
                   expected={"iss": legacy, "draft01": True})
        else:
            vf.add(group, f"skew {skew}: draft-01 token, the issuer's other key ended 30 s ago but is usable "
                          "within the skew: no key can be chosen", ["Draft01", "Draft01Key"],
                   _v({"token": draft, "draft01": True}), error=verdict)


# --- proofs -----------------------------------------------------------------------------------

ARGS = {"q": "aip", "limit": 10}


def _pv(tok: str, prf: str | None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"token": tok, "audience": AUD, "operation": "tools/call", "tool": "search",
                           "arguments": ARGS}
    if prf is not None:
        out["proof"] = prf
    out.update(extra)
    return {k: v for k, v in out.items() if v is not None}


def _proofs() -> dict[str, Any]:
    vf = VectorFile("compact", ["Invocation proofs and replay protection (spec/compact.md).",
                                "The verifier's replay cache is empty at the start of each case; "
                                "'repeat' presents the same request that many times."], PROOF_NOTES)
    t = vf.group("compact.verify", trust=TRUST)
    tok = token()
    good = proof(tok)

    def ok(comment: str, flags: list[str], inputs: dict[str, Any], expected: dict[str, Any] | None = None) -> None:
        vf.add(t, comment, flags, inputs, expected=expected or {})

    def bad(comment: str, flags: list[str], inputs: dict[str, Any], error: str) -> None:
        vf.add(t, comment, flags, inputs, error=error)

    ok("token and proof for tools/call search", ["Valid"], _pv(tok, good),
       {"sub": HOLDER, "proof": {"jti": "prf-0001", "iat": NOW - 5, "op": "tools/call", "tool": "search",
                                 "args_hash": args_digest(ARGS)}})
    ok("proof with kid = the aip:key holder's identifier", ["Valid"], _pv(tok, proof(tok, kid=HOLDER)))
    web_tok = token(base_claims(sub=HOLDER_WEB))
    ok("aip:web holder signs with key-1 of its document", ["Valid", "WebHolder"],
       _pv(web_tok, proof(web_tok, proof_claims(web_tok, iss=HOLDER_WEB), kid="key-1", key=K_HOLDER_WEB)))
    bad("aip:web holder without kid", ["WebHolder"],
        _pv(web_tok, proof(web_tok, proof_claims(web_tok, iss=HOLDER_WEB), key=K_HOLDER_WEB)), "aip_key_unknown")
    bad("aip:web holder with an unknown kid", ["WebHolder"],
        _pv(web_tok, proof(web_tok, proof_claims(web_tok, iss=HOLDER_WEB), kid="key-7", key=K_HOLDER_WEB)),
        "aip_key_unknown")
    ok("arguments received with members in another order", ["Canonical"],
       _pv(tok, good, arguments=None, arguments_json='{"limit":10,"q":"aip"}'))
    ok("arguments received with whitespace and 1.0E1 for 10", ["Canonical"],
       _pv(tok, good, arguments=None, arguments_json='{ "q" : "aip",\n  "limit" : 1.0E1 }'))
    ok("arguments received with 10.0 for 10", ["Canonical"],
       _pv(tok, good, arguments=None, arguments_json='{"q":"aip","limit":10.0}'))
    empty = proof(tok, proof_claims(tok, args_hash=args_digest({})))
    ok("no arguments received: the digest is that of {}", ["Canonical"], _pv(tok, empty, arguments=None))
    ok("arguments {} received", ["Canonical"], _pv(tok, empty, arguments={}))
    bad("arguments received differ in one value", ["Binding"], _pv(tok, good, arguments={"q": "aip", "limit": 11}),
        "aip_invocation_mismatch")
    bad("arguments received with an extra member", ["Binding"],
        _pv(tok, good, arguments={"q": "aip", "limit": 10, "all": True}), "aip_invocation_mismatch")
    bad("arguments received as the string \"10\" instead of the number 10", ["Binding", "Canonical"],
        _pv(tok, good, arguments={"q": "aip", "limit": "10"}), "aip_invocation_mismatch")
    bad("arguments received with a duplicate member", ["Arguments"],
        _pv(tok, good, arguments=None, arguments_json='{"q":"aip","limit":10,"limit":99}'), "aip_input_invalid")
    bad("arguments received are not JSON", ["Arguments"],
        _pv(tok, good, arguments=None, arguments_json='{"q":"aip",'), "aip_input_invalid")
    bad("arguments received hold an integer outside the IEEE 754 exact range", ["Arguments"],
        _pv(tok, good, arguments={"q": "aip", "limit": 2**60}), "aip_input_invalid")
    bad("tool received differs", ["Binding"], _pv(tok, good, tool="fs:read"), "aip_invocation_mismatch")
    bad("operation received differs", ["Binding"], _pv(tok, good, operation="resources/read"),
        "aip_invocation_mismatch")
    bad("proof binds no tool but a tool was called", ["Binding"],
        _pv(tok, proof(tok, proof_claims(tok, tool=None))), "aip_invocation_mismatch")
    bad("proof binds a tool the token does not grant (scope checked after the proof)", ["Scope"],
        _pv(tok, proof(tok, proof_claims(tok, tool="delete")), tool="delete"), "aip_scope_insufficient")
    bad("proof addressed to another server", ["Audience"],
        _pv(tok, proof(tok, proof_claims(tok, aud="https://other.example/mcp"))), "aip_audience_mismatch")

    # freshness (max age 300, skew 60)
    ok("proof iat at now - max_age - skew", ["Fresh"], _pv(tok, proof(tok, proof_claims(tok, iat=NOW - 360))))
    bad("proof iat one second older (stale)", ["Fresh"], _pv(tok, proof(tok, proof_claims(tok, iat=NOW - 361))),
        "aip_proof_invalid")
    ok("proof iat at now + skew", ["Fresh"], _pv(tok, proof(tok, proof_claims(tok, iat=NOW + 60))))
    bad("proof iat one second past now + skew", ["Fresh"], _pv(tok, proof(tok, proof_claims(tok, iat=NOW + 61))),
        "aip_proof_invalid")
    ok("proof_max_age 60: iat at now - 120", ["Fresh"],
       _pv(tok, proof(tok, proof_claims(tok, iat=NOW - 120)), proof_max_age=60))
    bad("proof_max_age 60: iat at now - 121", ["Fresh"],
        _pv(tok, proof(tok, proof_claims(tok, iat=NOW - 121)), proof_max_age=60), "aip_proof_invalid")

    # required / not required
    bad("proof required (the default) and absent", ["Missing"], _pv(tok, None), "aip_proof_missing")
    bad("proof required and empty", ["Missing"], _pv(tok, ""), "aip_proof_missing")
    bad("proof not required but present and bound to another tool", ["NotRequired", "Binding"],
        _pv(tok, good, tool="fs:read", require_proof=False), "aip_invocation_mismatch")
    ok("proof not required, present and good", ["NotRequired"], _pv(tok, good, require_proof=False),
       {"proof": {"jti": "prf-0001"}})

    # holder key and token binding
    bad("proof signed by the attacker's key, claiming the holder", ["HolderKey"],
        _pv(tok, proof(tok, key=K_ATTACKER)), "aip_signature_invalid")
    bad("proof signed by the issuer's key, claiming the holder", ["HolderKey"],
        _pv(tok, proof(tok, key=K_ISS1)), "aip_signature_invalid")
    bad("proof by the attacker as itself (iss is not the token's sub)", ["HolderKey"],
        _pv(tok, proof(tok, proof_claims(tok, iss=ATTACKER), key=K_ATTACKER)), "aip_proof_invalid")
    other_tok = token(base_claims(jti="tok-0002"))
    bad("proof made for another token of the same holder", ["TokenBinding"],
        _pv(tok, proof(other_tok)), "aip_proof_invalid")
    bad("token_hash over the token with a trailing space", ["TokenBinding"],
        _pv(tok, proof(tok, proof_claims(tok, token_hash=token_digest(tok + " ")))), "aip_proof_invalid")

    # replay
    bad("the same request presented twice", ["Replay"], _pv(tok, good, repeat=2), "aip_replay_detected")
    bad("the same proof presented three times", ["Replay"], _pv(tok, good, repeat=3), "aip_replay_detected")
    bad("a rejected proof does not consume its jti: still a binding error the second time", ["StoreLast",
                                                                                               "Binding"],
        _pv(tok, good, tool="fs:read", repeat=2), "aip_invocation_mismatch")
    ok("restart rule: iat == memory start + skew is accepted", ["Restart"],
       _pv(tok, proof(tok, proof_claims(tok, iat=NOW - 30)), replay_trusted_since=NOW - 90))
    bad("restart rule: iat one second earlier is refused", ["Restart"],
        _pv(tok, proof(tok, proof_claims(tok, iat=NOW - 31)), replay_trusted_since=NOW - 90),
        "aip_replay_detected")

    # header
    bad("proof alg none", ["Header"],
        _pv(tok, craft({"alg": "none", "typ": "aip-proof+jwt"}, proof_claims(tok), None, alg="none")),
        "aip_algorithm_unsupported")
    bad("proof HS256 keyed with the holder's public key", ["Header"],
        _pv(tok, craft({"alg": "HS256", "typ": "aip-proof+jwt"}, proof_claims(tok), None, alg="hs256",
                       hmac_key=public_raw(K_HOLDER))), "aip_algorithm_unsupported")
    bad("proof typ aip+jwt (a token presented as a proof)", ["Header"],
        _pv(tok, craft({"alg": "EdDSA", "typ": "aip+jwt"}, proof_claims(tok), K_HOLDER)), "aip_proof_invalid")
    bad("proof typ dpop+jwt", ["Header"],
        _pv(tok, craft({"alg": "EdDSA", "typ": "dpop+jwt"}, proof_claims(tok), K_HOLDER)), "aip_proof_invalid")
    bad("proof with an embedded jwk", ["Header"], _pv(tok, proof(tok, jwk=public_jwk(K_HOLDER))),
        "aip_proof_invalid")

    # claims
    for name in ("iss", "aud", "iat", "jti", "token_hash", "op", "args_hash"):
        bad(f"proof claim {name} missing", ["Claims"], _pv(tok, proof(tok, proof_claims(tok, **{name: None}))),
            "aip_proof_invalid")
    bad("args_hash in base64url rather than sha256:hex", ["Claims"],
        _pv(tok, proof(tok, proof_claims(tok, args_hash=b64url(bytes(32))))), "aip_proof_invalid")
    bad("args_hash with uppercase hex", ["Claims"],
        _pv(tok, proof(tok, proof_claims(tok, args_hash=args_digest(ARGS).upper().replace("SHA256", "sha256")))),
        "aip_proof_invalid")
    bad("proof iat is a string", ["Claims"], _pv(tok, proof(tok, proof_claims(tok, iat=str(NOW)))),
        "aip_proof_invalid")
    bad("proof jti is empty", ["Claims"], _pv(tok, proof(tok, proof_claims(tok, jti=""))), "aip_proof_invalid")

    # encoding
    gp, gq, gs = good.split(".")
    bad("proof with padded segments", ["Encoding"], _pv(tok, f"{gp}.{gq}==.{gs}"), "aip_proof_invalid")
    bad("proof with a duplicate jti member", ["Encoding"],
        _pv(tok, craft({"alg": "EdDSA", "typ": "aip-proof+jwt"},
                       raw_json(json.dumps(proof_claims(tok))[:-1] + ', "jti": "prf-9999"}'), K_HOLDER)),
        "aip_proof_invalid")
    bad("proof of two segments", ["Encoding"], _pv(tok, f"{gp}.{gq}"), "aip_proof_invalid")
    bad("proof over 8192 octets", ["Encoding"],
        _pv(tok, proof(tok, {**proof_claims(tok), "pad": "x" * 8200})), "aip_limit_exceeded")
    # AIP-PRF-003 lengths and the optional tool: a jti of 129 characters (the token limit 128,
    # not the 256 of other strings) and a tool that is a number or empty are refused.
    bad("proof jti of 129 characters", ["Claims"],
        _pv(tok, proof(tok, proof_claims(tok, jti="j" * 129))), "aip_proof_invalid")
    bad("proof tool is a number", ["Claims"],
        _pv(tok, proof(tok, proof_claims(tok, tool=7))), "aip_proof_invalid")
    bad("proof tool is empty", ["Claims"],
        _pv(tok, proof(tok, proof_claims(tok, tool=""))), "aip_proof_invalid")
    _proof_edges(vf, tok)
    return vf.build()


def _sized_proof(tok: str, size: int) -> str:
    """An honest proof of exactly ``size`` characters (an ignored ``pad`` claim fills it)."""
    for kid in (None, HOLDER):
        for n in range(size):
            candidate = proof(tok, {**proof_claims(tok), "pad": "x" * n}, kid=kid)
            if len(candidate) == size:
                return candidate
            if len(candidate) > size:
                break
    raise AssertionError(f"no proof of exactly {size} characters")


def _proof_edges(vf: VectorFile, tok: str) -> None:
    """Boundaries and malformed-input codes of the proof checks (AIP-PRF-002, AIP-PRF-003,
    AIP-PRF-007, AIP-RPL-003), each at the exact limit and one past it."""
    t = vf.group("compact.verify", trust=TRUST)
    good = proof(tok)
    gp, gq, gs = good.split(".")
    head = {"alg": "EdDSA", "typ": "aip-proof+jwt"}

    def ok(comment: str, flags: list[str], inputs: dict[str, Any], expected: dict[str, Any] | None = None) -> None:
        vf.add(t, comment, flags, inputs, expected=expected or {})

    def bad(comment: str, flags: list[str], inputs: dict[str, Any], error: str) -> None:
        vf.add(t, comment, flags, inputs, error=error)

    # AIP-PRF-002: the proof's own malformed-input code, for each segment.
    bad("proof header is not base64url", ["Encoding"], _pv(tok, f"e!J.{gq}.{gs}"), "aip_proof_invalid")
    bad("proof header is not JSON", ["Encoding"], _pv(tok, craft(raw_json("{alg"), proof_claims(tok), K_HOLDER)),
        "aip_proof_invalid")
    bad("proof header is a JSON array, not an object", ["Encoding"],
        _pv(tok, craft(raw_json("[]"), proof_claims(tok), K_HOLDER)), "aip_proof_invalid")
    bad("proof payload is a JSON string, not an object", ["Encoding"],
        _pv(tok, craft(head, raw_json('"claims"'), K_HOLDER)), "aip_proof_invalid")
    bad("proof signature is not base64url", ["Encoding"], _pv(tok, f"{gp}.{gq}.{'!' * 86}"), "aip_proof_invalid")
    bad("proof signature of 63 octets", ["Encoding"],
        _pv(tok, craft(head, proof_claims(tok), None, signature=bytes(63))), "aip_proof_invalid")
    bad("proof with a non-ASCII character in its signature segment", ["Encoding"],
        _pv(tok, f"{gp}.{gq}.{gs[:-1]}\u00e9"), "aip_proof_invalid")
    ok("proof of exactly 8192 octets", ["Encoding"], _pv(tok, _sized_proof(tok, 8192)), {"proof": {"jti": "prf-0001"}})
    bad("proof of 8193 octets", ["Encoding"], _pv(tok, _sized_proof(tok, 8193)), "aip_limit_exceeded")
    # AIP-PRF-003: string lengths at their bounds.
    ok("proof jti of 1 character", ["Claims"], _pv(tok, proof(tok, proof_claims(tok, jti="j"))),
       {"proof": {"jti": "j"}})
    ok("proof jti of 128 characters", ["Claims"], _pv(tok, proof(tok, proof_claims(tok, jti="j" * 128))),
       {"proof": {"jti": "j" * 128}})
    ok("proof op of 1 character", ["Claims"],
       _pv(tok, proof(tok, proof_claims(tok, op="x")), operation="x"), {"proof": {"op": "x"}})
    long_aud = "https://tools.example.com/" + "a" * 230
    long_tok = token(base_claims(aud=long_aud))
    ok("proof aud of 256 characters (the verifier's own)", ["Claims", "Audience"],
       _pv(long_tok, proof(long_tok, proof_claims(long_tok, aud=long_aud)), audience=long_aud))
    # AIP-RPL-003: a proof is remembered until iat + max_age + skew, inclusive.
    bad("a proof at the staleness edge (iat = now - max_age - skew) presented twice", ["Replay"],
        _pv(tok, proof(tok, proof_claims(tok, iat=NOW - 360)), repeat=2), "aip_replay_detected")

    # AIP-RPL-002: the record is keyed by (holder, jti). "earlier" presents requests to the
    # same verifier before the case's own.
    request = {"operation": "tools/call", "tool": "search", "arguments": ARGS}
    other_jti = proof(tok, proof_claims(tok, jti="prf-0002"))
    ok("another jti of the same holder accepted before", ["Replay"],
       _pv(tok, good, earlier=[{"token": tok, "proof": other_jti, **request}]), {"proof": {"jti": "prf-0001"}})
    web_holder_tok = token(base_claims(sub=HOLDER_WEB))
    same_jti = proof(web_holder_tok, proof_claims(web_holder_tok, iss=HOLDER_WEB), kid="key-1", key=K_HOLDER_WEB)
    ok("the same jti accepted before from another holder", ["Replay"],
       _pv(tok, good, earlier=[{"token": web_holder_tok, "proof": same_jti, **request}]),
       {"proof": {"jti": "prf-0001"}})
    bad("the same proof accepted before, then two others", ["Replay"],
        _pv(tok, good, earlier=[{"token": tok, "proof": good, **request},
                                {"token": tok, "proof": other_jti, **request},
                                {"token": web_holder_tok, "proof": same_jti, **request}]),
        "aip_replay_detected")

    # AIP-PRF-003 iat is a non-negative NumericDate: 0 is one (the verifier's clock near 0; skew
    # 0, so that the restart rule with T = 0 admits iat 0).
    early = vf.group("compact.verify", now=100, trust={**TRUST, "skew": 0})
    early_tok = token(base_claims(iss=ISS_KEY, iat=0, nbf=0, exp=3600), kid=ISS_KEY, key=K_ISSK)
    vf.add(early, "proof iat 0 (the clock at 100 s, skew 0)", ["Claims", "Fresh"],
           _pv(early_tok, proof(early_tok, proof_claims(early_tok, iat=0))), expected={"proof": {"iat": 0}})
    vf.add(early, "proof iat -1", ["Claims"],
           _pv(early_tok, proof(early_tok, proof_claims(early_tok, iat=-1))), error="aip_proof_invalid")

    # AIP-PRF-007 with AIP-DOC-014: the holder's key of an unknown type, and its window with
    # the configured skew.
    web_tok = token(base_claims(sub=HOLDER_WEB))
    holder_doc = _document(HOLDER_WEB, [
        _key_entry("key-1", K_HOLDER_WEB),
        {"id": "key-x", "type": "X25519", "public_key_multibase": ed25519_multibase(public_raw(K_HOLDER_WEB)),
         "valid_from": rfc3339(NOW - 30 * DAY)},
        _key_entry("key-ending", K_HOLDER_WEB, NOW - 30 * DAY, NOW - 90),
    ], ("key-1", K_HOLDER_WEB))

    def web_proof(kid: str) -> dict[str, Any]:
        return _pv(web_tok, proof(web_tok, proof_claims(web_tok, iss=HOLDER_WEB), kid=kid, key=K_HOLDER_WEB))

    for skew in (0, 120):
        g = vf.group("compact.verify", trust={**TRUST, "skew": skew,
                                              "documents": {**DOCUMENTS, HOLDER_WEB: holder_doc}})
        if skew == 0:
            vf.add(g, "holder's kid names a key of type X25519", ["HolderKey", "WebHolder"], web_proof("key-x"),
                   error="aip_algorithm_unsupported")
            vf.add(g, "skew 0: holder key valid_until now - 90 is inactive", ["HolderKey", "WebHolder"],
                   web_proof("key-ending"), error="aip_key_inactive")
        else:
            vf.add(g, "skew 120: holder key valid_until now - 90 is still usable", ["HolderKey", "WebHolder"],
                   web_proof("key-ending"), expected={})


# --- issuing ----------------------------------------------------------------------------------

def _issue() -> dict[str, Any]:
    vf = VectorFile("compact", ["Issuing tokens and proofs. Valid outputs are checked by the suite with "
                                "primitives (aip_conformance.checks_compact), not by comparison: JSON "
                                "member order may differ between implementations."], ISSUE_NOTES)
    t = vf.group("compact.issue", trust=TRUST)
    vf.add(t, "issue from an aip:web issuer with key-1", ["Issue"],
           {"claims": base_claims(), "key": jwk(K_ISS1, "key-1")}, expected={})
    vf.add(t, "issue from an aip:key issuer", ["Issue"],
           {"claims": base_claims(iss=ISS_KEY), "key": jwk(K_ISSK, ISS_KEY)}, expected={})
    vf.add(t, "issue with budget and an audience array", ["Issue"],
           {"claims": base_claims(budget_usd=3, aud=[AUD, "https://b.example/mcp"]),
            "key": jwk(K_ISS2, "key-2")}, expected={})
    vf.add(t, "refuse an empty scope", ["IssueRefused"],
           {"claims": base_claims(scope=[]), "key": jwk(K_ISS1, "key-1")}, error="aip_token_malformed")
    vf.add(t, "refuse exp before iat", ["IssueRefused"],
           {"claims": base_claims(exp=NOW - 120), "key": jwk(K_ISS1, "key-1")}, error="aip_token_malformed")
    vf.add(t, "refuse a token without aud (draft-01 shape)", ["IssueRefused"],
           {"claims": base_claims(aud=None), "key": jwk(K_ISS1, "key-1")}, error="aip_token_malformed")
    vf.add(t, "refuse a lifetime over 86400 s", ["IssueRefused"],
           {"claims": base_claims(exp=NOW + 90000), "key": jwk(K_ISS1, "key-1")}, error="aip_token_malformed")
    # An aip:key issuer has one key and its kid is the identifier (AIP-TOK-033, AIP-TOK-006).
    vf.add(t, "refuse to sign for an aip:key issuer with another key", ["IssueKeyRefused"],
           {"claims": base_claims(iss=ISS_KEY), "key": jwk(K_ISS1, ISS_KEY)}, error="aip_input_invalid")
    vf.add(t, "refuse to sign for an aip:key issuer with a kid other than its identifier", ["IssueKeyRefused"],
           {"claims": base_claims(iss=ISS_KEY), "key": jwk(K_ISSK, "key-1")}, error="aip_input_invalid")
    p = vf.group("proof.create", trust=TRUST)
    tok = token()
    vf.add(p, "proof for tools/call search", ["Prove"],
           {"token": tok, "holder": HOLDER, "key": jwk(K_HOLDER, HOLDER), "audience": AUD,
            "operation": "tools/call", "tool": "search", "arguments": ARGS, "jti": "prf-0100", "iat": NOW},
           expected={})
    vf.add(p, "proof by an aip:web holder, no arguments", ["Prove"],
           {"token": token(base_claims(sub=HOLDER_WEB)), "holder": HOLDER_WEB, "key": jwk(K_HOLDER_WEB, "key-1"),
            "audience": AUD, "operation": "tools/call", "tool": "search", "jti": "prf-0101", "iat": NOW},
           expected={})
    vf.add(p, "proof over nested arguments with unicode and fractions", ["Prove"],
           {"token": tok, "holder": HOLDER, "key": jwk(K_HOLDER, HOLDER), "audience": AUD,
            "operation": "tools/call", "tool": "fs:read",
            "arguments": {"path": "docs/\u00e9t\u00e9.txt", "range": [0, 1.5, -2e-7], "opts": {"z": None, "a": True}},
            "jti": "prf-0102", "iat": NOW}, expected={})
    vf.add(p, "refuse an empty jti", ["ProveRefused"],
           {"token": tok, "holder": HOLDER, "key": jwk(K_HOLDER, HOLDER), "audience": AUD,
            "operation": "tools/call", "tool": "search", "arguments": ARGS, "jti": "", "iat": NOW},
           error="aip_input_invalid")
    vf.add(p, "refuse arguments with no RFC 8785 form", ["ProveRefused"],
           {"token": tok, "holder": HOLDER, "key": jwk(K_HOLDER, HOLDER), "audience": AUD,
            "operation": "tools/call", "tool": "search", "arguments": {"n": 2**60}, "jti": "prf-0103", "iat": NOW},
           error="aip_input_invalid")
    # Without an input jti the holder picks a fresh one itself (AIP-PRF-013); the check accepts
    # any jti of 1..128 characters then.
    vf.add(p, "proof without a jti given: the holder chooses one", ["Prove"],
           {"token": tok, "holder": HOLDER, "key": jwk(K_HOLDER, HOLDER), "audience": AUD,
            "operation": "tools/call", "tool": "search", "arguments": ARGS, "iat": NOW}, expected={})
    # Claims that would break AIP-PRF-003 are refused, never signed (AIP-PRF-016).
    refusals: list[tuple[dict[str, Any], str]] = [
        ({"audience": ""}, "an empty audience"), ({"operation": ""}, "an empty operation"),
        ({"tool": ""}, "an empty tool"), ({"iat": -1}, "a negative iat"),
        ({"jti": "j" * 129}, "a jti of 129 characters")]
    for change, why in refusals:
        vf.add(p, f"refuse {why}", ["ProveRefused"],
               {"token": tok, "holder": HOLDER, "key": jwk(K_HOLDER, HOLDER), "audience": AUD,
                "operation": "tools/call", "tool": "search", "arguments": ARGS, "jti": "prf-0104", "iat": NOW,
                **change}, error="aip_input_invalid")
    return vf.build()


# --- digests and scopes -----------------------------------------------------------------------

def _digests() -> dict[str, Any]:
    vf = VectorFile("compact", ["Invocation digests (RFC 8785 + SHA-256) and the scope grammar."], DIGEST_NOTES)
    d = vf.group("proof.digest", trust={})
    canonical = {"a": 1, "b": [1, 2.5, "x"], "c": {"y": None, "x": True}}
    h = args_digest(canonical)
    vf.add(d, "an object", ["ArgsHash"], {"arguments": canonical}, expected={"args_hash": h})
    vf.add(d, "same object, members in reverse order, as text", ["Canonical"],
           {"arguments_json": '{"c":{"x":true,"y":null},"b":[1,2.5,"x"],"a":1}'}, expected={"args_hash": h})
    vf.add(d, "same object with 1.0, 25e-1 and whitespace", ["Canonical"],
           {"arguments_json": '{ "a" : 1.0, "b" : [ 1e0, 25e-1, "x" ], "c" : { "y" : null, "x" : true } }'},
           expected={"args_hash": h})
    vf.add(d, "absent arguments hash as {}", ["ArgsHash"], {}, expected={"args_hash": args_digest({})})
    vf.add(d, "non-ASCII strings are hashed as UTF-8, not escaped", ["ArgsHash"],
           {"arguments": {"city": "Z\u00fcrich", "emoji": "\U0001f600"}},
           expected={"args_hash": args_digest({"city": "Z\u00fcrich", "emoji": "\U0001f600"})})
    vf.add(d, "the same via \\u escapes in the text", ["Canonical"],
           {"arguments_json": '{"emoji":"\\ud83d\\ude00","city":"Z\\u00fcrich"}'},
           expected={"args_hash": args_digest({"city": "Z\u00fcrich", "emoji": "\U0001f600"})})
    vf.add(d, "large and small numbers in ECMAScript form", ["Canonical"],
           {"arguments_json": '{"big":1E21,"small":0.000001,"neg":-0.0}'},
           expected={"args_hash": args_digest({"big": 1e21, "small": 0.000001, "neg": 0})})
    tok = token()
    vf.add(d, "token_hash of a token", ["TokenHash"], {"token": tok},
           expected={"token_hash": token_digest(tok), "args_hash": args_digest({})})
    vf.add(d, "duplicate member names", ["BadArguments"], {"arguments_json": '{"a":1,"a":2}'},
           error="aip_input_invalid")
    vf.add(d, "an array, not an object", ["BadArguments"], {"arguments_json": "[1,2]"}, error="aip_input_invalid")
    vf.add(d, "an integer beyond 2^53", ["BadArguments"], {"arguments_json": '{"n":9007199254740993}'},
           error="aip_input_invalid")
    vf.add(d, "NaN", ["BadArguments"], {"arguments_json": '{"n":NaN}'}, error="aip_input_invalid")

    s = vf.group("scope.check", trust={})
    for scope, tool, allowed in [
        (["tool:search"], "search", True), (["tool:search"], "search2", False),
        (["tool:*"], "fs:read", True), (["tool:fs:*"], "fs:read", True), (["tool:fs:*"], "fs", False),
        (["tool:fs:*"], "fsx:read", False), (["*"], "x", True), (["tool:Search"], "search", False),
        (["resource:*"], "search", False),
    ]:
        vf.add(s, f"{scope} and a call of {tool}", ["Match"], {"scope": scope, "tool": tool},
               expected={"allowed": allowed})
    for narrow, wide, within in [
        (["tool:search"], ["tool:*"], True), (["tool:fs:*"], ["tool:*"], True),
        (["tool:*"], ["tool:fs:*"], False), (["*"], ["tool:*"], False), (["tool:*"], ["*"], True),
        (["tool:a", "tool:b"], ["tool:a"], False), (["tool:a"], ["tool:a", "tool:b"], True),
    ]:
        vf.add(s, f"{narrow} within {wide}", ["Within"], {"scope": narrow, "within": wide},
               expected={"within": within})
    for scope, why in [(["tool:"], "empty last segment"), (["tool:*x"], "star not alone"),
                       (["tool search"], "space"), (["t\u00f6ol:x"], "non-ASCII"), ([""], "empty"),
                       (["a" * 257], "257 characters"), ([], "empty list"), (["a", "a"], "duplicates"),
                       (["*:x"], "star as a segment")]:
        vf.add(s, f"invalid scope: {why}", ["Grammar"] if scope and len(set(scope)) == len(scope) else ["List"],
               {"scope": scope}, error="aip_token_malformed")
    vf.add(s, "256 characters is the limit", ["Grammar"], {"scope": ["a" * 256]}, expected={"scope": ["a" * 256]})
    vf.add(s, "64 scopes is the limit", ["List"], {"scope": [f"tool:t{i}" for i in range(64)]}, expected={})
    long_tool = ":".join(["t" * 49] * 5) + "xx"  # 251 characters of the exact production
    vf.add(s, "a tool name of 251 characters (tool:N is 256)", ["ToolName", "Match"],
           {"scope": ["tool:*"], "tool": long_tool}, expected={"allowed": True})
    vf.add(s, "a tool name of 252 characters", ["ToolName"], {"scope": ["tool:*"], "tool": long_tool + "x"},
           error="aip_input_invalid")
    bad_tools: list[tuple[object, str]] = [("fs read", "a space"), ("fs:", "an empty last segment"),
                                           ("", "empty"), (7, "a number")]
    for bad_tool, why in bad_tools:
        vf.add(s, f"a tool name that is {why}", ["ToolName"], {"scope": ["*"], "tool": bad_tool},
               error="aip_input_invalid")
    return vf.build()


def generate() -> dict[str, dict[str, Any]]:
    return {
        "compact/tokens.json": _tokens(),
        "compact/proofs.json": _proofs(),
        "compact/issue.json": _issue(),
        "compact/digests.json": _digests(),
    }

