"""Chained-mode vectors (spec/chained.md): valid chains of 0..8 hops in each profile, and every
attack of issue 4 as a crafted token delivered to the verifier.

Tokens are crafted with biscuit-python and byte surgery from fixed seeds and the fixed clock;
never with ``aip``. See ``_chained_build`` for how byte reproducibility is kept although
biscuit-python signs every block with a fresh random next key.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ._chained_build import Builder, Step, field_payload, split
from ._common import NOW, VectorFile, b64url, ed25519_multibase, jcs, key_id, public_raw, rfc3339, seeded_key

__all__ = ["generate"]

DAY = 86400
HOUR = 3600
SKEW = 60
ROOT = "aip:web:issuer.example"
SHALLOW = "aip:web:shallow.example"  # its document caps delegation at max_depth 1
PLANNER = "aip:web:agents.example/planner"  # an aip:web delegate with two keys
UNTRUSTED = "aip:web:stranger.example"
AUD = "https://tools.example/mcp"

_LABELS = ["root", "root2", "shallow", "planner1", "planner2", "stranger", "mallory",
           "list"] + [f"agent{i}" for i in range(10)]
KEYS: dict[str, Ed25519PrivateKey] = {n: seeded_key("chained/" + n) for n in _LABELS}
AGENT = [key_id(KEYS[f"agent{i}"]) for i in range(10)]
MALLORY = key_id(KEYS["mallory"])
LISTER = key_id(KEYS["list"])

NOTES: dict[str, dict[str, Any]] = {
    "Valid": {"description": "A well-formed chain the verifier accepts.",
              "requirements": ["AIP-CHN-001", "AIP-CHN-011", "AIP-CHN-013", "AIP-CHN-020",
                               "AIP-CHN-022", "AIP-CHN-024", "AIP-CHN-026", "AIP-CHN-029"]},
    "Depth": {"description": "Chains of 0..8 delegation hops; depth counts delegation blocks.",
              "requirements": ["AIP-CHN-035"]},
    "SimpleProfile": {"description": "Exact scopes only.", "requirements": ["AIP-CHN-023"]},
    "StandardProfile": {"description": "Prefix scopes ('tool:*') and '*'.",
                        "requirements": ["AIP-CHN-023", "AIP-CHN-050"]},
    "AdvancedProfile": {"description": "Extra Datalog checks in blocks, within run limits.",
                        "requirements": ["AIP-CHN-052", "AIP-CHN-051"]},
    "WebIdentity": {"description": "aip:web identities resolved from pinned documents, key "
                    "chosen by kid.", "requirements": ["AIP-CHN-011", "AIP-CHN-025"]},
    "Invocation": {"description": "An invocation block signed by the last delegate, bound to "
                   "the request received.",
                   "requirements": ["AIP-CHN-040", "AIP-CHN-041", "AIP-CHN-042", "AIP-CHN-043",
                                    "AIP-CHN-044"]},
    "Skew": {"description": "Clock skew: 'not after t' passes when now - skew <= t.",
             "requirements": ["AIP-CHN-034", "AIP-CHN-090"]},
    "Injection": {"description": "Hostile strings (quotes, 'check if', newlines) in context "
                  "and identifier positions stay inert string terms.",
                  "requirements": ["AIP-CHN-021", "AIP-CHN-028"]},
    "Narrowing": {"description": "Later blocks narrow scope, time, budget.",
                  "requirements": ["AIP-CHN-030", "AIP-CHN-031", "AIP-CHN-032"]},
    "Principal": {"description": "Principal set in block 0 and carried unchanged.",
                  "requirements": ["AIP-CHN-033"]},
    "WrongSigner": {"description": "A block signed by a key other than its named identity's.",
                    "requirements": ["AIP-CHN-025"]},
    "PlainAppend": {"description": "A plain (non-third-party) appended block, as draft-01 made.",
                    "requirements": ["AIP-CHN-024", "AIP-CHN-070"]},
    "Draft01": {"description": "A draft-01 token (authority facts without aip_authority).",
                "requirements": ["AIP-CHN-010", "AIP-CHN-070"]},
    "BrokenLink": {"description": "Delegator of block i is not the delegate of block i-1.",
                   "requirements": ["AIP-CHN-026"]},
    "DepthExceeded": {"description": "More delegation blocks than max_depth allows.",
                      "requirements": ["AIP-CHN-035"]},
    "ScopeWidened": {"description": "A later block widens scope.", "requirements": ["AIP-CHN-030"]},
    "ExpiryExtended": {"description": "A later block extends the expiry.",
                       "requirements": ["AIP-CHN-031"]},
    "BudgetRaised": {"description": "A later block raises or drops the budget ceiling.",
                     "requirements": ["AIP-CHN-032"]},
    "PrincipalChanged": {"description": "A later block changes or adds a principal.",
                         "requirements": ["AIP-CHN-033"]},
    "Context": {"description": "Empty, whitespace-only or over-long delegation context.",
                "requirements": ["AIP-CHN-027"]},
    "RootKey": {"description": "The root key is not a key of the identity block 0 claims.",
                "requirements": ["AIP-CHN-011", "AIP-CHN-013"]},
    "UnknownRoot": {"description": "Block 0 claims an identity the verifier does not trust.",
                    "requirements": ["AIP-CHN-012"]},
    "Tampered": {"description": "Block bytes or signatures altered after signing.",
                 "requirements": ["AIP-CHN-013"]},
    "Structure": {"description": "Blocks removed, reordered, duplicated or lifted from "
                  "another token.", "requirements": ["AIP-CHN-013", "AIP-CHN-024"]},
    "Expired": {"description": "Expiry at some hop is past (beyond skew).",
                "requirements": ["AIP-CHN-034"]},
    "RunLimits": {"description": "Datalog evaluation beyond the run limits.",
                  "requirements": ["AIP-CHN-060"]},
    "SizeLimits": {"description": "Oversized token or too many blocks.",
                   "requirements": ["AIP-CHN-003", "AIP-CHN-004"]},
    "Malformed": {"description": "Not a Biscuit, bad base64url, or AIP facts of the wrong shape.",
                  "requirements": ["AIP-CHN-001", "AIP-CHN-014", "AIP-CHN-015"]},
    "Reserved": {"description": "Completion/attestation block kinds are reserved in this "
                 "version.", "requirements": ["AIP-CHN-036"]},
    "FactCount": {"description": "A block without its AIP fact, or with two.",
                  "requirements": ["AIP-CHN-029"]},
    "AudienceMismatch": {"description": "Invocation addressed to another audience.",
                         "requirements": ["AIP-CHN-042"]},
    "ToolMismatch": {"description": "Invocation names another tool or operation.",
                     "requirements": ["AIP-CHN-043"]},
    "ArgsMismatch": {"description": "Argument digest differs from the arguments received.",
                     "requirements": ["AIP-CHN-044"]},
    "ArgsCanonical": {"description": "Same arguments in another member order or number "
                      "spelling give the same RFC 8785 digest.", "requirements": ["AIP-CHN-044"]},
    "Replay": {"description": "The same invocation presented twice.",
               "requirements": ["AIP-CHN-047"]},
    "WrongInvoker": {"description": "Invocation made or signed by someone other than the last "
                     "delegate.", "requirements": ["AIP-CHN-040"]},
    "MissingInvocation": {"description": "An invocation is required and absent.",
                          "requirements": ["AIP-CHN-048"]},
    "InvocationShape": {"description": "Invocation block misplaced, doubled or with bad fields.",
                        "requirements": ["AIP-CHN-041", "AIP-CHN-049"]},
    "Freshness": {"description": "Invocation iat in the future or older than 300 s.",
                  "requirements": ["AIP-CHN-045", "AIP-CHN-046"]},
    "ScopeInsufficient": {"description": "Requested tool outside the chain's scopes.",
                          "requirements": ["AIP-CHN-050"]},
    "DatalogCheck": {"description": "An extra Datalog check fails.",
                     "requirements": ["AIP-CHN-051", "AIP-CHN-052"]},
    "RevokedBlock": {"description": "A block revoked by its revocation id.",
                     "requirements": ["AIP-REV-001"]},
    "RevokedKey": {"description": "A signing key revoked by (identity, kid).",
                   "requirements": ["AIP-REV-002"]},
    "RevocationList": {"description": "Revocation list format and signature.",
                       "requirements": ["AIP-REV-003", "AIP-REV-004", "AIP-REV-005",
                                        "AIP-REV-006"]},
    "RevocationStale": {"description": "Stale or missing revocation data fails closed.",
                        "requirements": ["AIP-REV-007", "AIP-REV-008"]},
    "ListKeyWindow": {"description": "The key that signed a revocation list is selected at "
                      "now with the verifier's configured skew.",
                      "requirements": ["AIP-REV-005", "AIP-DOC-014", "AIP-CHN-090"]},
    "NotRevoked": {"description": "Current revocation data that revokes something else.",
                   "requirements": ["AIP-REV-001", "AIP-REV-002", "AIP-REV-007"]},
    "Issuance": {"description": "Tokens minted, delegated or invoked by the implementation; "
                 "the suite checks them with aip_conformance.checks_chained.",
                 "requirements": ["AIP-CHN-020", "AIP-CHN-021", "AIP-CHN-022", "AIP-CHN-024",
                                  "AIP-CHN-040"]},
    "HonestRefusal": {"description": "An honest implementation refuses to make a bad block "
                      "(the attacks themselves are in attacks.json).",
                      "requirements": ["AIP-CHN-026", "AIP-CHN-027", "AIP-CHN-030",
                                       "AIP-CHN-050"]},
    "Unresolvable": {"description": "A delegate identity that cannot be resolved.",
                     "requirements": ["AIP-CHN-025"]},
    "EmptyToken": {"description": "An empty token is missing, not malformed.",
                   "requirements": ["AIP-CHN-008"]},
    "AuthorityHint": {"description": "The aip_authority fact read from the encoding has the "
                      "wrong shape, or the fact the query finds differs from it.",
                      "requirements": ["AIP-CHN-014", "AIP-CHN-016"]},
    "EvaluationError": {"description": "Datalog evaluation errors map to codes by kind, never "
                        "by text the token chose.",
                        "requirements": ["AIP-CHN-063"]},
    "AudienceShape": {"description": "Invocation audience of 1..512 characters.",
                      "requirements": ["AIP-CHN-039"]},
    "RequestTool": {"description": "A requested tool name that makes no valid scope.",
                    "requirements": ["AIP-CHN-053"]},
    "KeyWindow": {"description": "The key that signs block 0 is selected at now with the "
                  "verifier's configured skew.",
                  "requirements": ["AIP-CHN-011", "AIP-DOC-014", "AIP-CHN-090"]},
    "TailSigner": {"description": "Completion and attestation blocks signed by keys resolved "
                   "from the identities they name, and revocable like every signing key.",
                   "requirements": ["AIP-CMP-003", "AIP-AUD-015", "AIP-REV-002"]},
    "Output": {"description": "The verified chain reports block 0's budget ceiling and "
               "principal and the effective max_depth, with or without a request.",
               "requirements": ["AIP-CHN-032", "AIP-CHN-033", "AIP-CHN-035"]},
}


# --- identities and trust --------------------------------------------------------------------

def _document(ident: str, keys: list[tuple[str, str, int, int | None]], signer: str,
              max_depth: int | None = None) -> dict[str, Any]:
    entries = []
    for kid, label, valid_from, valid_until in keys:
        entry = {"id": kid, "type": "Ed25519",
                 "public_key_multibase": ed25519_multibase(public_raw(KEYS[label])),
                 "valid_from": rfc3339(valid_from)}
        if valid_until is not None:
            entry["valid_until"] = rfc3339(valid_until)
        entries.append(entry)
    doc: dict[str, Any] = {"aip": "1.0", "id": ident, "public_keys": entries}
    if max_depth is not None:
        doc["delegation"] = {"max_depth": max_depth}
    doc["expires"] = rfc3339(NOW + 30 * DAY)
    header = b64url(json.dumps({"alg": "EdDSA", "kid": keys[0][0] if signer == "" else signer,
                                "typ": "aip-document+jws"}, separators=(",", ":")).encode())
    label = next(k[1] for k in keys if k[0] == signer)
    sig = KEYS[label].sign(header.encode() + b"." + b64url(jcs(doc)).encode())
    return {**doc, "document_signature": f"{header}..{b64url(sig)}"}


DOCS = {
    ROOT: _document(ROOT, [("root-1", "root", NOW - 30 * DAY, None),
                           ("root-old", "root2", NOW - 60 * DAY, NOW - 10 * DAY)], "root-1",
                    max_depth=8),
    SHALLOW: _document(SHALLOW, [("k1", "shallow", NOW - 30 * DAY, None)], "k1", max_depth=1),
    PLANNER: _document(PLANNER, [("p1", "planner1", NOW - 30 * DAY, None),
                                 ("p2", "planner2", NOW - 30 * DAY, None)], "p1"),
    UNTRUSTED: _document(UNTRUSTED, [("s1", "stranger", NOW - 30 * DAY, None)], "s1"),
}
TRUST = {"documents": DOCS, "trusted_issuers": [ROOT, SHALLOW, AGENT[9], LISTER],
         "skew": SKEW}
SIGNER_OF = {ROOT: "root", SHALLOW: "shallow", UNTRUSTED: "stranger", MALLORY: "mallory",
             LISTER: "list", **{AGENT[i]: f"agent{i}" for i in range(10)}}


def _kid(identity: str) -> str:
    return {ROOT: "root-1", SHALLOW: "k1", PLANNER: "p1", UNTRUSTED: "s1"}.get(identity, identity)


def args_hash(arguments: dict[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(jcs(arguments)).hexdigest()


# --- recipes ---------------------------------------------------------------------------------

def mint(identity: str = ROOT, holder: str = AGENT[0], scopes: list[str] | None = None, *,
         max_depth: int = 8, expires: int = NOW + HOUR, signer: str | None = None,
         kid: str | None = None, budget: int = -1, principal: str = "",
         extra: str | None = None) -> Step:
    fields = {"identity": identity, "kid": kid or _kid(identity), "holder": holder,
              "scopes": scopes or ["tool:search", "tool:fs:*"], "max_depth": max_depth,
              "expires": expires, "budget_ceiling": budget, "principal": principal}
    step: Step = {"op": "mint", "kind": "authority", "signer": signer or SIGNER_OF[identity],
                  "fields": fields}
    if extra:
        step["extra"] = extra
    return step


def hop(seq: int, delegator: str, delegate: str, *, root: str = "root",
        scopes: list[str] | None = None, expires: int = NOW + HOUR, context: str | None = None,
        signer: str | None = None, external: str | None = None, kid: str | None = None,
        budget: int = -1, principal: str = "", plain: bool = False,
        extra: str | None = None) -> Step:
    fields = {"seq": seq, "delegator": delegator, "kid": kid or _kid(delegator),
              "delegate": delegate,
              "context": f"hop {seq}: research subtask" if context is None else context,
              "scopes": scopes or ["tool:search"], "expires": expires, "budget_ceiling": budget,
              "principal": principal}
    signer = signer or SIGNER_OF.get(delegator, "planner1")
    step: Step = {"op": "append" if plain else "third_party", "kind": "delegation",
                  "root": root, "signer": signer, "fields": fields}
    if external:
        step["external"] = external
    if extra:
        step["extra"] = extra
    return step


def call(seq: int, invoker: str, *, root: str = "root", audience: str = AUD,
         operation: str = "tools/call", tool: str = "search",
         arguments: dict[str, Any] | None = None, jti: str | None = None, iat: int = NOW - 5,
         signer: str | None = None, kid: str | None = None, digest: str | None = None) -> Step:
    fields = {"seq": seq, "invoker": invoker, "kid": kid or _kid(invoker), "audience": audience,
              "operation": operation, "tool": tool,
              "args_hash": digest or args_hash(arguments if arguments is not None else ARGS),
              "jti": jti or f"jti-{seq}-{hashlib.sha256(invoker.encode()).hexdigest()[:12]}",
              "iat": iat}
    return {"op": "third_party", "kind": "invocation", "root": root,
            "signer": signer or SIGNER_OF.get(invoker, "planner1"), "fields": fields}


ARGS: dict[str, Any] = {"query": "agent identity", "limit": 5}


def chain(depth: int, *, scopes: list[str] | None = None, invoke: bool = True,
          first: Step | None = None) -> list[Step]:
    steps = [first or mint(scopes=scopes)]
    for i in range(depth):
        steps.append(hop(i + 1, AGENT[i], AGENT[i + 1], scopes=["tool:search"]))
    if invoke:
        steps.append(call(depth + 1, AGENT[depth]))
    return steps


def request(tool: str = "search", arguments: dict[str, Any] | None = None,
            audience: str = AUD, operation: str = "tools/call") -> dict[str, Any]:
    return {"audience": audience, "operation": operation, "tool": tool,
            "arguments": ARGS if arguments is None else arguments}


def expected_hop(step: Step) -> dict[str, Any]:
    f = step["fields"]
    return {"block": f["seq"], "delegator": f["delegator"], "kid": f["kid"],
            "delegate": f["delegate"], "context": f["context"], "scopes": f["scopes"],
            "expires": f["expires"],
            "budget_ceiling": None if f["budget_ceiling"] == -1 else f["budget_ceiling"],
            "principal": f["principal"] or None}


def expected(steps: list[Step], authorized: bool = True) -> dict[str, Any]:
    root = steps[0]["fields"]
    hops = [expected_hop(s) for s in steps[1:] if s["kind"] == "delegation"]
    calls = [s["fields"] for s in steps[1:] if s["kind"] == "invocation"]
    out: dict[str, Any] = {"issuer": root["identity"], "root_kid": root["kid"],
                           "holder": root["holder"], "scopes": root["scopes"],
                           "depth": len(hops), "hops": hops, "authorized": authorized}
    if calls:
        c = calls[0]
        out["invocation"] = {"invoker": c["invoker"], "kid": c["kid"], "audience": c["audience"],
                             "operation": c["operation"], "tool": c["tool"],
                             "args_hash": c["args_hash"], "jti": c["jti"], "iat": c["iat"]}
    else:
        out["invocation"] = None
    return out


def expected_more(steps: list[Step], max_depth: int, authorized: bool = True) -> dict[str, Any]:
    """``expected`` plus block 0's budget ceiling and principal and the effective max_depth."""
    root = steps[0]["fields"]
    return {**expected(steps, authorized), "max_depth": max_depth,
            "budget_ceiling": None if root["budget_ceiling"] == -1 else root["budget_ceiling"],
            "principal": root["principal"] or None}


def raw_call(seq: int, invoker: str, *, second_jti: str) -> Step:
    """An invocation block carrying two aip_invocation facts for the same block."""
    f = call(seq, invoker)["fields"]
    fact = ("aip_invocation({seq}, {invoker}, {kid}, {audience}, {operation}, {tool}, "
            "{args_hash}, {%s}, " + rfc3339(f["iat"]) + ");")
    params = {k: v for k, v in f.items() if k != "iat"}
    return {"op": "third_party", "kind": "raw", "root": "root", "signer": SIGNER_OF[invoker],
            "code": fact % "jti" + " " + fact % "jti2",
            "params": {**params, "jti2": second_jti}}


def tail_blocks(invoked: list[Step], executor_signer: str, kid: str,
                attester: str, attester_signer: str, attester_kid: str) -> list[Step]:
    """A completion block by the invocation's audience and a third-party attestation after
    it (spec/completion.md), appended to ``invoked`` (which ends in its invocation)."""
    f = invoked[-1]["fields"]
    rh = "sha256:" + "1" * 64
    seq = f["seq"] + 1
    done = {"op": "third_party", "kind": "raw", "root": "root", "signer": executor_signer,
            "code": "aip_completion({seq}, {executor}, {kid}, {jti}, {token_hash}, {status}, "
                    "{result_hash}, {verification}, {tokens}, {cost}, {duration}, {ldp}, "
                    + rfc3339(NOW - 5) + ");",
            "params": {"seq": seq, "executor": f["audience"], "kid": kid, "jti": f["jti"],
                       "token_hash": "sha256:" + "0" * 64, "status": "completed",
                       "result_hash": rh, "verification": "verified", "tokens": 812,
                       "cost": "0.0042", "duration": 950, "ldp": ""}}
    attest = {"op": "third_party", "kind": "raw", "root": "root", "signer": attester_signer,
              "code": "aip_attestation({seq}, {kind}, {attester}, {kid}, {verified}, "
                      "{result_hash}, {note}, " + rfc3339(NOW - 2) + ");",
              "params": {"seq": seq + 1, "kind": "third_party", "attester": attester,
                         "kid": attester_kid, "verified": True, "result_hash": rh,
                         "note": ""}}
    return [*invoked, done, attest]


def pad_to(b: Builder, steps: list[Step], chars: int) -> Step:
    """The pad step that makes ``steps``' token exactly ``chars`` base64url characters
    (``chars`` a multiple of 4: 3 bytes per 4 characters, no partial group)."""
    size = chars // 4 * 3 - len(b.build(steps))
    pad = size - 2  # one key byte, then a length varint of one or two bytes
    if pad >= 128:
        pad -= 1
    return {"op": "pad", "bytes": pad}


# --- the files -------------------------------------------------------------------------------

class _File:
    def __init__(self, b: Builder, name: str, header: str) -> None:
        self.b = b
        self.vf = VectorFile("chained", [header, "Tokens are unpadded base64url Biscuit v3.",
                                         f"Fixed clock NOW={NOW}; skew {SKEW} s."],
                             {})
        self.name = name
        self.tests = self.vf.group("chained.verify", trust=TRUST)

    def token(self, steps: list[Step]) -> str:
        return b64url(self.b.build(steps))

    def _notes(self, flags: list[str]) -> None:
        for f in flags:
            self.vf.notes[f] = NOTES[f]

    def ok(self, comment: str, flags: list[str], steps: list[Step], *,
           req: dict[str, Any] | None = None, exp: dict[str, Any] | None = None,
           **extra: Any) -> None:
        self._notes(flags)
        inp = {"token": self.token(steps), "request": req or request(), **extra}
        self.vf.add(self.tests, comment, flags, inp,
                    expected=exp if exp is not None else expected(steps))

    def bad(self, comment: str, flags: list[str], steps: list[Step] | str, error: str, *,
            req: dict[str, Any] | None = None, **extra: Any) -> None:
        self._notes(flags)
        token = steps if isinstance(steps, str) else self.token(steps)
        inp = {"token": token, "request": req or request(), **extra}
        self.vf.add(self.tests, comment, flags, inp, error=error)


def _chains(b: Builder) -> dict[str, Any]:
    f = _File(b, "chains", "Valid chained tokens: 0..8 hops, each profile (spec/chained.md).")
    for depth in range(9):
        f.ok(f"{depth} delegation hops then an invocation by the last delegate",
             ["Valid", "Depth", "Invocation", "StandardProfile"], chain(depth),
             require_invocation=True)
    for depth in (0, 1, 3, 8):
        f.ok(f"{depth} hops, no invocation block, invocation not required",
             ["Valid", "Depth"], chain(depth, invoke=False))
    simple = [mint(scopes=["tool:search", "tool:read"]),
              hop(1, AGENT[0], AGENT[1], scopes=["tool:search"])]
    f.ok("simple profile: exact scopes narrowed to one", ["Valid", "SimpleProfile"], simple)
    star = [mint(scopes=["*"]), hop(1, AGENT[0], AGENT[1], scopes=["tool:*"]),
            hop(2, AGENT[1], AGENT[2], scopes=["tool:fs:*"]),
            hop(3, AGENT[2], AGENT[3], scopes=["tool:fs:read"])]
    f.ok("standard profile: * then tool:* then tool:fs:* then exact", ["Valid",
         "StandardProfile"], star, req=request("fs:read"))
    f.ok("standard profile: prefix scope grants a deeper tool name", ["Valid", "StandardProfile"],
         [mint(scopes=["tool:*"]), hop(1, AGENT[0], AGENT[1], scopes=["tool:*"])],
         req=request("fs:read:all"))
    adv = [mint(scopes=["tool:search"], extra='check if time($t), $t >= 2025-01-01T00:00:00Z;'),
           hop(1, AGENT[0], AGENT[1], extra='check if tool($t), $t.length() < 64;')]
    f.ok("advanced profile: extra checks that pass", ["Valid", "AdvancedProfile"], adv)
    web = [mint(holder=PLANNER), hop(1, PLANNER, AGENT[1], kid="p2", signer="planner2"),
           call(2, AGENT[1])]
    f.ok("aip:web delegator signs with its second key, selected by kid",
         ["Valid", "WebIdentity", "Invocation"], web)
    webcall = [mint(holder=AGENT[0]), hop(1, AGENT[0], PLANNER), call(2, PLANNER)]
    f.ok("aip:web last delegate signs the invocation", ["Valid", "WebIdentity", "Invocation"],
         webcall)
    keyroot = [mint(identity=AGENT[9], holder=AGENT[0], max_depth=2),
               hop(1, AGENT[0], AGENT[1], root="agent9")]
    f.ok("self-certifying aip:key root", ["Valid"], keyroot)
    self_issued = [mint(holder=ROOT), hop(1, ROOT, AGENT[1]), call(2, AGENT[1])]
    f.ok("the root is its own holder and delegates", ["Valid", "Invocation"], self_issued)
    hostile = 'x"); delegate("aip:key:mallory"); check if true; //\n\u202e'
    inj = [mint(), hop(1, AGENT[0], AGENT[1], context=hostile), call(2, AGENT[1])]
    f.ok("context full of quotes and 'check if' stays one string", ["Valid", "Injection"], inj)
    uni = [mint(), hop(1, AGENT[0], AGENT[1], context="résumé tâche \u4e2d\u6587 \U0001F600")]
    f.ok("non-ASCII context", ["Valid", "Injection"], uni)
    f.ok("context of exactly 1024 characters", ["Valid", "Context"],
         [mint(), hop(1, AGENT[0], AGENT[1], context="c" * 1024)])
    f.ok("context of U+001C..U+001F, which are not Unicode White_Space", ["Valid", "Context"],
         [mint(), hop(1, AGENT[0], AGENT[1], context="\x1c\x1d\x1e\x1f")])
    narrow = [mint(budget=1000, principal=AGENT[8]),
              hop(1, AGENT[0], AGENT[1], expires=NOW + 1800, budget=500, principal=AGENT[8]),
              hop(2, AGENT[1], AGENT[2], expires=NOW + 900, budget=200)]
    f.ok("narrower expiry and budget, principal carried", ["Valid", "Narrowing", "Principal"],
         narrow)
    f.ok("expired 30 s ago, within the 60 s skew", ["Valid", "Skew"],
         [mint(expires=NOW - 30), hop(1, AGENT[0], AGENT[1], expires=NOW - 30)])
    f.ok("a hop expiring exactly now - skew is still valid", ["Valid", "Skew"],
         [mint(), hop(1, AGENT[0], AGENT[1], expires=NOW - SKEW)])
    f.ok("shallow issuer: document max_depth 1 allows one hop", ["Valid", "Depth"],
         [mint(identity=SHALLOW, max_depth=5), hop(1, AGENT[0], AGENT[1], root="shallow")])
    f.ok("the same identity delegates twice in one chain", ["Valid"],
         [mint(), hop(1, AGENT[0], AGENT[1]), hop(2, AGENT[1], AGENT[0]),
          hop(3, AGENT[0], AGENT[2])])
    # Boundaries and outputs pinned after a mutation run (eval/results/mutation.md), each
    # accepted: the largest max_depth, block 0 expiring at now - skew, a token of exactly
    # 16384 characters (an unknown top-level envelope field, outside every signature, pads it).
    f.ok("block 0 max_depth 16, the largest allowed", ["Valid", "Depth"],
         chain(1, first=mint(max_depth=16)))
    f.ok("block 0 expiring exactly now - skew is still valid", ["Valid", "Skew"],
         chain(0, first=mint(expires=NOW - SKEW)))
    sized = [*chain(1), pad_to(b, chain(1), 16384)]
    assert len(f.token(sized)) == 16384
    f.ok("token of exactly 16384 characters", ["Valid", "SizeLimits"], sized,
         exp=expected(chain(1)))
    narrow = [mint(budget=1000, principal=AGENT[8]),
              hop(1, AGENT[0], AGENT[1], budget=500, principal=AGENT[8]),
              hop(2, AGENT[1], AGENT[2], budget=200), call(3, AGENT[2])]
    f.ok("budget ceiling, principal and max_depth of the verified chain, with a request",
         ["Valid", "Output", "Narrowing", "Principal"], narrow, exp=expected_more(narrow, 8))
    f._notes(["Valid", "Output", "Invocation", "MissingInvocation"])
    f.vf.add(f.tests, "the same chain verified without a request: nothing is authorized",
             ["Valid", "Output"], {"token": f.token(narrow)},
             expected=expected_more(narrow, 8, authorized=False))
    f.vf.add(f.tests, "no request, invocation required and present", ["Valid", "Invocation",
             "MissingInvocation"], {"token": f.token(chain(1)), "require_invocation": True},
             expected=expected(chain(1), authorized=False))
    # Completion and attestation blocks signed by aip:web keys chosen by kid (p2, p1): their
    # signers are resolved as every hop's are. A completed chain authorizes no request.
    tail = tail_blocks([mint(), hop(1, AGENT[0], AGENT[1]), call(2, AGENT[1], audience=PLANNER)],
                       "planner2", "p2", PLANNER, "planner1", "p1")
    f._notes(["Valid", "WebIdentity", "TailSigner"])
    f.vf.add(f.tests, "completion by an aip:web executor (key p2) and an aip:web attestation "
             "(key p1), no request", ["Valid", "WebIdentity", "TailSigner"],
             {"token": f.token(tail)},
             expected=expected(tail, authorized=False))
    # The root key is selected with the verifier's skew (as for revocation lists): "root-late"
    # ended 90 s ago; a 120 s skew accepts block 0 signed by it. Own group (own trust), last.
    late = _document(ROOT, [("root-1", "root", NOW - 30 * DAY, None),
                            ("root-late", "root2", NOW - 30 * DAY, NOW - 90)], "root-1",
                     max_depth=8)
    f._notes(["Valid", "KeyWindow", "Skew"])
    tests = f.vf.group("chained.verify",
                       trust={**TRUST, "documents": {**DOCS, ROOT: late}, "skew": 120})
    steps = [mint(kid="root-late", signer="root2"), hop(1, AGENT[0], AGENT[1], root="root2"),
             call(2, AGENT[1], root="root2")]
    f.vf.add(tests, "block 0 signed by a root key that ended 90 s ago, within a 120 s skew",
             ["Valid", "KeyWindow", "Skew"], {"token": f.token(steps), "request": request()},
             expected=expected(steps))
    return f.vf.build()


def _attacks(b: Builder) -> dict[str, Any]:
    f = _File(b, "attacks", "Attacks on chained tokens, each a crafted token given to the "
              "verifier (spec/chained.md).")
    base = chain(3)
    # Another token from the same issuer with the same hops (its block 0 differs only in expiry).
    donor = b64url(b.build([mint(expires=NOW + HOUR - 1), hop(1, AGENT[0], AGENT[1]),
                            hop(2, AGENT[1], AGENT[2])]))
    # Signatures and keys.
    f.bad("block 2 names agent1 as delegator but is signed by mallory's key",
          ["WrongSigner"], [mint(), hop(1, AGENT[0], AGENT[1]),
                            hop(2, AGENT[1], AGENT[2], signer="mallory")], "aip_signature_invalid")
    f.bad("block 1 signed by the delegate instead of the delegator", ["WrongSigner"],
          [mint(), hop(1, AGENT[0], AGENT[1], signer="agent1")], "aip_signature_invalid")
    f.bad("aip:web delegator, block signed by key p2 but kid says p1", ["WrongSigner",
          "WebIdentity"], [mint(holder=PLANNER), hop(1, PLANNER, AGENT[1], kid="p1",
                                                     signer="planner2")],
          "aip_signature_invalid")
    f.bad("aip:web delegator names a kid its document lacks", ["WrongSigner", "WebIdentity"],
          [mint(holder=PLANNER), hop(1, PLANNER, AGENT[1], kid="p9", signer="planner1")],
          "aip_key_unknown")
    f.bad("delegate identity that cannot be resolved signs the next block",
          ["Unresolvable"], [mint(holder="aip:web:unknown.example"),
                             hop(1, "aip:web:unknown.example", AGENT[1], kid="k", signer="mallory")],
          "aip_identity_unresolvable")
    f.bad("root identity claimed is ROOT, token signed by mallory", ["RootKey"],
          [mint(signer="mallory")], "aip_signature_invalid")
    f.bad("root key id names the retired key root-old", ["RootKey"],
          [mint(kid="root-old", signer="root2")], "aip_key_inactive")
    f.bad("root key id names a key ROOT does not have", ["RootKey"],
          [mint(kid="root-9")], "aip_key_unknown")
    f.bad("block 0 claims an issuer the verifier does not trust", ["UnknownRoot"],
          [mint(identity=UNTRUSTED)], "aip_identity_unresolvable")
    f.bad("block 0 claims an untrusted aip:key issuer", ["UnknownRoot"],
          [mint(identity=MALLORY)], "aip_identity_unresolvable")
    # Plain appends and draft-01.
    f.bad("a plain appended block after block 0 (draft-01 style)", ["PlainAppend"],
          [mint(), hop(1, AGENT[0], AGENT[1], plain=True)], "aip_chain_invalid")
    f.bad("a plain appended block in the middle of a valid chain", ["PlainAppend"],
          [mint(), hop(1, AGENT[0], AGENT[1]), hop(2, AGENT[1], AGENT[2], plain=True),
           hop(3, AGENT[2], AGENT[3])], "aip_chain_invalid")
    f.bad("a plain appended invocation", ["PlainAppend"],
          [mint(), {**call(1, AGENT[0]), "op": "append"}], "aip_chain_invalid")
    draft = {"op": "mint", "kind": "raw", "signer": "root", "code":
             'identity({id}); right("tool:search"); max_depth(3); '
             'check if tool($t), ["tool:search"].contains($t);', "params": {"id": ROOT}}
    f.bad("draft-01 authority block (identity/right facts, no aip_authority)", ["Draft01"],
          [draft], "aip_chain_invalid")
    # Links.
    f.bad("block 2's delegator is not block 1's delegate", ["BrokenLink"],
          [mint(), hop(1, AGENT[0], AGENT[1]), hop(2, AGENT[3], AGENT[4])], "aip_chain_invalid")
    f.bad("block 1's delegator is the root, not the holder", ["BrokenLink"],
          [mint(holder=AGENT[0]), hop(1, ROOT, AGENT[1])], "aip_chain_invalid")
    # Depth.
    f.bad("block 0 max_depth 2, three hops", ["DepthExceeded"],
          chain(3, first=mint(max_depth=2)), "aip_depth_exceeded")
    f.bad("block 0 max_depth 0, one hop", ["DepthExceeded"],
          chain(1, first=mint(max_depth=0), invoke=False), "aip_depth_exceeded")
    f.bad("issuer document max_depth 1 beats block 0's 5", ["DepthExceeded"],
          [mint(identity=SHALLOW, max_depth=5), hop(1, AGENT[0], AGENT[1], root="shallow"),
           hop(2, AGENT[1], AGENT[2], root="shallow")], "aip_depth_exceeded")
    f.bad("nine hops with max_depth 8", ["DepthExceeded"], chain(9, invoke=False),
          "aip_depth_exceeded")
    # Attenuation.
    f.bad("block 1 widens tool:search to tool:*", ["ScopeWidened"],
          [mint(scopes=["tool:search"]), hop(1, AGENT[0], AGENT[1], scopes=["tool:*"])],
          "aip_attenuation_violation")
    f.bad("block 2 adds a scope block 1 dropped", ["ScopeWidened"],
          [mint(), hop(1, AGENT[0], AGENT[1], scopes=["tool:search"]),
           hop(2, AGENT[1], AGENT[2], scopes=["tool:search", "tool:fs:read"])],
          "aip_attenuation_violation")
    f.bad("block 1 widens to *", ["ScopeWidened"],
          [mint(), hop(1, AGENT[0], AGENT[1], scopes=["*"])], "aip_attenuation_violation")
    f.bad("block 1 expires later than block 0", ["ExpiryExtended"],
          [mint(expires=NOW + HOUR), hop(1, AGENT[0], AGENT[1], expires=NOW + 2 * HOUR)],
          "aip_attenuation_violation")
    f.bad("block 3 expires later than block 2", ["ExpiryExtended"],
          [mint(), hop(1, AGENT[0], AGENT[1]), hop(2, AGENT[1], AGENT[2], expires=NOW + 600),
           hop(3, AGENT[2], AGENT[3], expires=NOW + 1200)], "aip_attenuation_violation")
    f.bad("block 1 raises the budget ceiling", ["BudgetRaised"],
          [mint(budget=100), hop(1, AGENT[0], AGENT[1], budget=101)], "aip_budget_exceeded")
    f.bad("block 1 drops the budget ceiling", ["BudgetRaised"],
          [mint(budget=100), hop(1, AGENT[0], AGENT[1])], "aip_budget_exceeded")
    f.bad("block 1 changes the principal", ["PrincipalChanged"],
          [mint(principal=AGENT[8]), hop(1, AGENT[0], AGENT[1], principal=MALLORY)],
          "aip_attenuation_violation")
    f.bad("block 1 adds a principal the root did not set", ["PrincipalChanged"],
          [mint(), hop(1, AGENT[0], AGENT[1], principal=MALLORY)], "aip_attenuation_violation")
    # Context.
    for label, ctx in [("empty", ""), ("spaces", "   "), ("tabs and newlines", "\t\n \r"),
                       ("ideographic, no-break and line-separator spaces", "\u3000\u00a0\u2028\u205f"),
                       ("1025 characters", "c" * 1025)]:
        f.bad(f"context {label}", ["Context"], [mint(), hop(1, AGENT[0], AGENT[1], context=ctx)],
              "aip_context_missing")
    # Injection in identifier positions.
    evil = AGENT[1] + '"); delegate("' + MALLORY
    f.bad("delegate string with quotes and a fake second fact", ["Injection"],
          [mint(), hop(1, AGENT[0], evil)], "aip_token_malformed")
    f.bad("holder string with Datalog in it", ["Injection"],
          [mint(holder='aip:key:x"); check if true; //')], "aip_token_malformed")
    # Tampering and structure.
    tampering: list[tuple[str, Step]] = [("the last byte (the proof's next secret key)",
                         {"op": "flip", "from_end": 1}),
                        ("the holder named in block 0", {"op": "flip_text", "needle": AGENT[0],
                                                          "offset": 20}),
                        ("block 2's context", {"op": "flip_text", "needle": "hop 2: research"}),
                        ("the invocation's operation", {"op": "flip_text",
                                                        "needle": "tools/call"}),
                        ("block 0's signature", {"op": "flip_sig", "block": 0}),
                        ("block 1's signature", {"op": "flip_sig", "block": 1}),
                        ("the invocation block's signature", {"op": "flip_sig", "block": 3})]
    for label, step in tampering:
        f.bad(f"one bit flipped in {label}", ["Tampered"], [*base, step], "aip_signature_invalid")
    f.bad("block 2 removed", ["Structure"], [*base, {"op": "remove", "block": 2}],
          "aip_signature_invalid")
    f.bad("blocks 1 and 2 swapped", ["Structure"], [*base, {"op": "swap", "a": 1, "b": 2}],
          "aip_signature_invalid")
    f.bad("block 1 duplicated", ["Structure"], [*base, {"op": "duplicate", "block": 1}],
          "aip_signature_invalid")
    f.bad("block 2 replaced by block 2 of another token with the same hops", ["Structure"],
          [*base, {"op": "splice", "block": 2, "donor": donor, "donor_block": 2}],
          "aip_signature_invalid")
    # Expiry.
    f.bad("block 0 expired 61 s ago (beyond skew)", ["Expired"], [mint(expires=NOW - 61)],
          "aip_token_expired")
    f.bad("block 2 expired, blocks 0 and 1 still valid", ["Expired"],
          [mint(), hop(1, AGENT[0], AGENT[1]), hop(2, AGENT[1], AGENT[2], expires=NOW - 120)],
          "aip_token_expired")
    f.bad("the last of eight hops expired", ["Expired"],
          [*chain(7, invoke=False), hop(8, AGENT[7], AGENT[8], expires=NOW - 3600)],
          "aip_token_expired")
    # Fact shape and count.
    f.bad("block 1 carries no AIP fact", ["FactCount"],
          [mint(), {"op": "third_party", "kind": "raw", "root": "root", "signer": "agent0",
                    "code": 'note("hello");'}], "aip_chain_invalid")
    two = hop(1, AGENT[0], AGENT[1])
    two["extra"] = ('aip_delegation(1, {a}, {a}, {m}, "second fact", "tool:search", '
                    '2026-01-01T01:00:00Z, -1, "");')
    two["extra_params"] = {"a": AGENT[0], "m": MALLORY}
    f.bad("block 1 carries two delegation facts", ["FactCount"], [mint(), two],
          "aip_chain_invalid")
    f.bad("block 1's fact says it is block 2", ["FactCount"],
          [mint(), {**hop(1, AGENT[0], AGENT[1]),
                    "fields": {**hop(1, AGENT[0], AGENT[1])["fields"], "seq": 2}}],
          "aip_chain_invalid")
    f.bad("reserved completion block after the invocation", ["Reserved"],
          [*chain(1), {"op": "third_party", "kind": "raw", "root": "root", "signer": "agent1", "code": 'aip_completion(3, {e}, "completed", {h});', "params": {"e": AGENT[1], "h": "sha256:" + "0" * 64}}],
          "aip_chain_invalid")
    f.bad("reserved attestation block in place of a delegation", ["Reserved"],
          [mint(), {"op": "third_party", "kind": "raw", "root": "root", "signer": "agent0",
                    "code": 'aip_attestation(1, {v}, true);', "params": {"v": AGENT[0]}},
           hop(2, AGENT[0], AGENT[1])], "aip_chain_invalid")
    f.bad("block 0 scopes do not match the scope grammar", ["Malformed"],
          [mint(scopes=["tool:search", "bad scope!"])], "aip_token_malformed")
    f.bad("block 0 max_depth 17", ["Malformed"], [mint(max_depth=17)], "aip_token_malformed")
    badtype = mint()
    badtype["kind"] = "raw"
    badtype["code"] = ('aip_authority({i}, {k}, {h}, "tool:search", "3", 2026-01-01T01:00:00Z, '
                       '-1, "");')
    badtype["params"] = {"i": ROOT, "k": "root-1", "h": AGENT[0]}
    f.bad("block 0 max_depth is a string", ["Malformed"], [badtype], "aip_token_malformed")
    f.bad("token is not base64url", ["Malformed"], "not*base64", "aip_token_malformed")
    f.bad("token is base64url of bytes that are not a Biscuit", ["Malformed"],
          b64url(b"\x12\x03abc"), "aip_token_malformed")
    f.bad("token with base64 padding", ["Malformed"], f.token(chain(0)) + "=",
          "aip_token_malformed")
    # Limits.
    f.bad("token over 16384 characters", ["SizeLimits"],
          [*chain(1), {"op": "pad", "bytes": 13000}], "aip_limit_exceeded")
    many = [mint(max_depth=8)] + [hop(i + 1, AGENT[i % 2], AGENT[(i + 1) % 2])
                                  for i in range(24)]
    f.bad("25 blocks", ["SizeLimits"], many, "aip_limit_exceeded")
    bomb = ('n(0); n(1); n(2); n(3); n(4); n(5); n(6); n(7); n(8); n(9); n(10); '
            'm($a, $b, $c) <- n($a), n($b), n($c);')
    f.bad("advanced-profile rules deriving 1331 facts (limit 1000)", ["RunLimits"],
          [mint(extra=bomb)], "aip_limit_exceeded")
    f.bad("an extra Datalog check that fails", ["DatalogCheck"],
          [mint(), hop(1, AGENT[0], AGENT[1], extra='check if tool("tool:never");')],
          "aip_scope_insufficient")
    # Pinned after a mutation run (eval/results/mutation.md); the reference mapped the first
    # one to aip_limit_exceeded because the failed check's text mentions "limit" (fixed).
    f.bad("a failing extra check whose source mentions a limit is still a failed check",
          ["DatalogCheck", "EvaluationError"],
          [mint(), hop(1, AGENT[0], AGENT[1], extra='check if tool("tool:over-the-limit");')],
          "aip_scope_insufficient")
    f.bad("an extra check whose expression fails to evaluate (type error)", ["EvaluationError"],
          [mint(), hop(1, AGENT[0], AGENT[1], extra='check if 1 + "a" == 2;')],
          "aip_chain_invalid")
    f.bad("empty token", ["EmptyToken"], "", "aip_token_missing")
    f.bad("block 0 budget ceiling -2", ["Malformed"], [mint(budget=-2)], "aip_token_malformed")
    f.bad("block 0 scopes joined by two spaces (an empty scope)", ["Malformed"],
          [mint(scopes=["tool:search", "", "tool:fs:*"])], "aip_token_malformed")
    f.bad("block 2 raises the ceiling block 1 lowered (still under block 0's)",
          ["BudgetRaised"], [mint(budget=100), hop(1, AGENT[0], AGENT[1], budget=50),
                             hop(2, AGENT[1], AGENT[2], budget=80)], "aip_budget_exceeded")
    # The hint (block 0's fact read from the encoding) is checked before any resolution: an
    # untrusted identity with a 7-term fact is malformed, not unresolvable; a kid that is an
    # integer is malformed. A block 0 rule that derives a well-typed fact naming another kid
    # (the encoded fact is ill-typed, so the query finds only the derived one) differs from
    # the hint.
    short = {"op": "mint", "kind": "raw", "signer": "stranger",
             "code": 'aip_authority({i}, {k}, {h}, "tool:search", 3, '
                     + rfc3339(NOW + HOUR) + ", -1);",
             "params": {"i": UNTRUSTED, "k": "s1", "h": AGENT[0]}}
    f.bad("block 0 fact of 7 terms from an untrusted identity", ["AuthorityHint"], [short],
          "aip_token_malformed")
    intkid = {"op": "mint", "kind": "raw", "signer": "root",
              "code": 'aip_authority({i}, 7, {h}, "tool:search", 3, ' + rfc3339(NOW + HOUR)
                      + ', -1, "");',
              "params": {"i": ROOT, "h": AGENT[0]}}
    f.bad("block 0 fact whose kid is an integer", ["AuthorityHint"], [intkid],
          "aip_token_malformed")
    derived = {"op": "mint", "kind": "raw", "signer": "root",
               "code": 'aip_authority({i}, {k}, {h}, "tool:search", "3", '
                       + rfc3339(NOW + HOUR) + ', -1, ""); '
                       'aip_authority($i, "root-9", $h, $s, 3, $e, $b, $p) <- '
                       'aip_authority($i, $k, $h, $s, "3", $e, $b, $p);',
               "params": {"i": ROOT, "k": "root-1", "h": AGENT[0]}}
    f.bad("block 0 rule derives the only well-typed fact, with another kid", ["AuthorityHint"],
          [derived], "aip_token_malformed")
    f.bad("requested tool name that makes no valid scope", ["RequestTool"], chain(1),
          "aip_input_invalid", req=request("bad tool!"))
    # The keys that sign completion and attestation blocks are subject to revocation too.
    tail = tail_blocks([mint(), hop(1, AGENT[0], AGENT[1]), call(2, AGENT[1], audience=AGENT[4])],
                       "agent4", AGENT[4], AGENT[5], "agent5", AGENT[5])
    f._notes(["RevokedKey", "TailSigner"])
    for label, who in (("completion's executor", AGENT[4]), ("attestation's attester", AGENT[5])):
        f.vf.add(f.tests, f"the {label} key is revoked", ["RevokedKey", "TailSigner"],
                 {"token": f.token(tail), "revocation_lists": [
                     _revocation_list("root", ROOT, "root-1", keys=[(who, who)])]},
                 error="aip_key_revoked")
    return f.vf.build()


def _invocation(b: Builder) -> dict[str, Any]:
    f = _File(b, "invocation", "Invocation blocks checked against the request received "
              "(spec/chained.md).")
    base = chain(2)
    f.bad("audience differs", ["AudienceMismatch"], base, "aip_audience_mismatch",
          req=request(audience="https://other.example/mcp"))
    f.bad("tool differs", ["ToolMismatch"], [mint(), hop(1, AGENT[0], AGENT[1],
                                                     scopes=["tool:search", "tool:fs:*"]),
                                            call(2, AGENT[1])],
          "aip_invocation_mismatch", req=request("fs:read"))
    f.bad("operation differs", ["ToolMismatch"], base, "aip_invocation_mismatch",
          req=request(operation="resources/read"))
    f.bad("argument value differs", ["ArgsMismatch"], base, "aip_invocation_mismatch",
          req=request(arguments={"query": "agent identity", "limit": 6}))
    f.bad("extra argument", ["ArgsMismatch"], base, "aip_invocation_mismatch",
          req=request(arguments={**ARGS, "x": 1}))
    f.bad("no arguments received", ["ArgsMismatch"], base, "aip_invocation_mismatch",
          req=request(arguments={}))
    f.ok("arguments in another member order and number spelling", ["Valid", "ArgsCanonical",
         "Invocation"], base, req=request(arguments={"limit": 5.0, "query": "agent identity"}))
    f.ok("invocation with empty arguments", ["Valid", "Invocation"],
         [mint(), call(1, AGENT[0], arguments={})], req=request(arguments={}))
    f.bad("same invocation presented twice", ["Replay"], base, "aip_replay_detected", repeat=2)
    f.bad("same invocation presented twice, depth 0", ["Replay"], chain(0),
          "aip_replay_detected", repeat=2)
    f.bad("invocation names and is signed by mallory, not the last delegate", ["WrongInvoker"],
          [mint(), hop(1, AGENT[0], AGENT[1]), call(2, MALLORY)], "aip_chain_invalid")
    f.bad("invocation names the last delegate but is signed by mallory", ["WrongInvoker"],
          [mint(), hop(1, AGENT[0], AGENT[1]), call(2, AGENT[1], signer="mallory")],
          "aip_signature_invalid")
    f.bad("invocation by the first delegate, not the last", ["WrongInvoker"],
          [mint(), hop(1, AGENT[0], AGENT[1]), hop(2, AGENT[1], AGENT[2]), call(3, AGENT[1])],
          "aip_chain_invalid")
    f.bad("invocation required, chain has none", ["MissingInvocation"], chain(2, invoke=False),
          "aip_proof_missing", require_invocation=True)
    f.bad("invocation required, depth 0 chain has none", ["MissingInvocation"],
          chain(0, invoke=False), "aip_proof_missing", require_invocation=True)
    f.bad("invocation in the middle, delegation after it", ["InvocationShape"],
          [mint(), call(1, AGENT[0]), hop(2, AGENT[0], AGENT[1])], "aip_chain_invalid")
    f.bad("two invocation blocks", ["InvocationShape"],
          [mint(), call(1, AGENT[0]), call(2, AGENT[0], jti="second-jti-0001")],
          "aip_chain_invalid")
    f.bad("args_hash not sha256:<hex>", ["InvocationShape"],
          [mint(), call(1, AGENT[0], digest="md5:abcd")], "aip_token_malformed")
    f.bad("jti too short", ["InvocationShape"], [mint(), call(1, AGENT[0], jti="abc")],
          "aip_token_malformed")
    f.bad("invocation issued 120 s in the future", ["Freshness"],
          [mint(), call(1, AGENT[0], iat=NOW + 120)], "aip_token_not_yet_valid")
    f.ok("invocation issued 50 s in the future, within skew", ["Valid", "Freshness", "Skew"],
         [mint(), call(1, AGENT[0], iat=NOW + 50)])
    f.bad("invocation issued 400 s ago", ["Freshness"],
          [mint(), call(1, AGENT[0], iat=NOW - 400)], "aip_proof_invalid")
    f.ok("invocation issued 350 s ago, within 300 s + skew", ["Valid", "Freshness", "Skew"],
         [mint(), call(1, AGENT[0], iat=NOW - 350)])
    f.bad("requested tool outside the chain's scopes (no invocation)", ["ScopeInsufficient"],
          chain(1, invoke=False), "aip_scope_insufficient", req=request("delete"))
    f.bad("tool granted by block 0 but not by block 1", ["ScopeInsufficient"],
          [mint(), hop(1, AGENT[0], AGENT[1], scopes=["tool:search"])],
          "aip_scope_insufficient", req=request("fs:read"))
    f.bad("invocation of a tool outside the scopes", ["ScopeInsufficient"],
          [mint(scopes=["tool:search"]), call(1, AGENT[0], tool="delete")],
          "aip_scope_insufficient", req=request("delete"))
    # Boundaries and shapes pinned after a mutation run (eval/results/mutation.md).
    f.ok("invocation issued exactly skew (60 s) in the future", ["Valid", "Freshness", "Skew"],
         [mint(), call(1, AGENT[0], iat=NOW + SKEW)])
    f.ok("invocation issued exactly 300 s + skew ago", ["Valid", "Freshness", "Skew"],
         [mint(), call(1, AGENT[0], iat=NOW - 300 - SKEW)])
    f.bad("invocation issued 350 s ago presented twice (recorded until iat + 300 + skew)",
          ["Replay"], [mint(), call(1, AGENT[0], iat=NOW - 350)], "aip_replay_detected",
          repeat=2)
    f.ok("jti of 8 characters", ["Valid", "Invocation", "InvocationShape"],
         [mint(), call(1, AGENT[0], jti="jti-0008")])
    every_jti = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    f.ok("jti of 128 characters, each of the 64 base64url characters twice",
         ["Valid", "Invocation", "InvocationShape"], [mint(), call(1, AGENT[0], jti=every_jti * 2)])
    f.bad("jti of 129 characters", ["InvocationShape"], [mint(), call(1, AGENT[0], jti="j" * 129)],
          "aip_token_malformed")
    op128 = ((every_jti + "./") * 2)[:128]
    f.ok("operation of 128 characters using every allowed character",
         ["Valid", "Invocation", "InvocationShape"], [mint(), call(1, AGENT[0], operation=op128)],
         req=request(operation=op128))
    for label, op in (("of 129 characters", "o" * 129), ("with a space", "tools call")):
        f.bad(f"operation {label}", ["InvocationShape"],
              [mint(), call(1, AGENT[0], operation=op)], "aip_token_malformed",
              req=request(operation=op))
    aud512 = AUD + "/" + "a" * (511 - len(AUD))
    f.ok("audience of 512 characters", ["Valid", "Invocation", "AudienceShape"],
         [mint(), call(1, AGENT[0], audience=aud512)], req=request(audience=aud512))
    for label, aud in (("empty", ""), ("of 513 characters", aud512 + "a")):
        f.bad(f"audience {label}", ["AudienceShape"], [mint(), call(1, AGENT[0], audience=aud)],
              "aip_token_malformed", req=request(audience=aud))
    f.bad("invocation block with two aip_invocation facts", ["InvocationShape", "FactCount"],
          [mint(), raw_call(1, AGENT[0], second_jti="second-jti-0001")], "aip_chain_invalid")
    f._notes(["MissingInvocation"])
    f.vf.add(f.tests, "no request, invocation required, chain has none", ["MissingInvocation"],
             {"token": f.token(chain(1, invoke=False)), "require_invocation": True},
             error="aip_proof_missing")
    # The invoker's library checks the chain so far as a verifier would, with the configured
    # skew: block 0 signed by a root key that ended 90 s ago is usable under a 120 s skew.
    # Own group (own trust), last; the answer is checked by checks_chained.
    late = _document(ROOT, [("root-1", "root", NOW - 30 * DAY, None),
                            ("root-late", "root2", NOW - 30 * DAY, NOW - 90)], "root-1",
                     max_depth=8)
    f._notes(["KeyWindow", "Skew"])
    tests = f.vf.group("chained.invoke",
                       trust={**TRUST, "documents": {**DOCS, ROOT: late}, "skew": 120})
    held = [mint(kid="root-late", signer="root2"), hop(1, AGENT[0], AGENT[1], root="root2")]
    f.vf.add(tests, "invoke on a chain whose root key ended 90 s ago, within a 120 s skew",
             ["KeyWindow", "Skew"],
             {"token": f.token(held), "key": _jwk("agent1", AGENT[1]), "request": request(),
              "jti": "late-root-jti-0001",
              "check": {"root_public_key": b64url(public_raw(KEYS["root2"]))}})
    return f.vf.build()


_DROP = object()


def _revocation_list(issuer_label: str, issuer: str, kid: str, *, issued_at: int = NOW - HOUR,
                     next_update: int = NOW + DAY, ids: list[str] | None = None,
                     keys: list[tuple[str, str]] | None = None, typ: str = "aip-revocation+jws",
                     sign_with: str | None = None, alg: str = "EdDSA",
                     header_set: dict[str, Any] | None = None,
                     body_set: dict[str, Any] | None = None) -> str:
    """A signed list; ``header_set`` / ``body_set`` replace members (``_DROP`` removes one)
    after the well-formed list is built, to pin each structural check."""
    header: dict[str, Any] = {"alg": alg, "typ": typ, "kid": kid}
    body: dict[str, Any] = {
        "aip_revocation": "1.0", "issuer": issuer, "issued_at": issued_at,
        "next_update": next_update, "revoked_ids": sorted(ids or []),
        "revoked_keys": [{"identity": i, "kid": k} for i, k in sorted(keys or [])]}
    for target, changes in ((header, header_set), (body, body_set)):
        for name, value in (changes or {}).items():
            if value is _DROP:
                target.pop(name, None)
            else:
                target[name] = value
    h = b64url(json.dumps(header, separators=(",", ":")).encode())
    p = b64url(json.dumps(body, separators=(",", ":")).encode())
    sig = KEYS[sign_with or issuer_label].sign(f"{h}.{p}".encode())
    return f"{h}.{p}.{b64url(sig)}"


def _revocation(b: Builder) -> dict[str, Any]:
    import biscuit_auth as ba

    f = _File(b, "revocation", "Revocation by block id and by key, signed lists, staleness "
              "(spec/chained.md).")
    base = chain(2)
    raw = b.build(base)
    kp: Any = ba
    token = kp.Biscuit.from_bytes(raw, kp.PublicKey.from_bytes(public_raw(KEYS["root"]),
                                                              kp.Algorithm.Ed25519))
    ids = list(token.revocation_ids)

    def lst(**kw: Any) -> str:
        return _revocation_list("root", ROOT, "root-1", **kw)

    other = ["ab" * 64]
    f.ok("current list revoking an unrelated id and key", ["Valid", "NotRevoked"], base,
         revocation_lists=[lst(ids=other, keys=[(MALLORY, MALLORY)])], require_revocation=True)
    for n in range(4):
        f.bad(f"block {n} revoked by id", ["RevokedBlock"], base, "aip_key_revoked",
              revocation_lists=[lst(ids=[ids[n]])])
    f.bad("delegator key of block 2 revoked", ["RevokedKey"], base, "aip_key_revoked",
          revocation_lists=[lst(keys=[(AGENT[1], AGENT[1])])])
    f.bad("root key revoked", ["RevokedKey"], base, "aip_key_revoked",
          revocation_lists=[lst(keys=[(ROOT, "root-1")])])
    f.bad("invoker key revoked", ["RevokedKey"], base, "aip_key_revoked",
          revocation_lists=[lst(keys=[(AGENT[2], AGENT[2])])])
    f.bad("key revoked by another trusted issuer's list", ["RevokedKey"], base,
          "aip_key_revoked", revocation_lists=[_revocation_list(
              "list", LISTER, LISTER, keys=[(AGENT[0], AGENT[0])])])
    f.bad("list past next_update (beyond skew)", ["RevocationStale"], base,
          "aip_revocation_stale", revocation_lists=[lst(issued_at=NOW - 2 * DAY,
                                                        next_update=NOW - 61)])
    f.ok("list past next_update by 30 s, within skew", ["Valid", "RevocationStale", "Skew"],
         base, revocation_lists=[lst(issued_at=NOW - 2 * DAY, next_update=NOW - 30)])
    f.bad("list issued in the future", ["RevocationStale"], base, "aip_revocation_stale",
          revocation_lists=[lst(issued_at=NOW + 600, next_update=NOW + DAY)])
    f.bad("revocation required, no list", ["RevocationStale"], base, "aip_revocation_stale",
          require_revocation=True)
    f.bad("revocation required, only another issuer's list", ["RevocationStale"], base,
          "aip_revocation_stale", require_revocation=True,
          revocation_lists=[_revocation_list("list", LISTER, LISTER)])
    f.bad("list signed by another key", ["RevocationList"], base, "aip_signature_invalid",
          revocation_lists=[_revocation_list("root", ROOT, "root-1", sign_with="mallory")])
    f.bad("list issuer not trusted", ["RevocationList"], base, "aip_identity_unresolvable",
          revocation_lists=[_revocation_list("mallory", MALLORY, MALLORY, ids=other)])
    f.bad("list with the wrong typ", ["RevocationList"], base, "aip_token_malformed",
          revocation_lists=[lst(typ="JWT")])
    f.bad("list with alg none", ["RevocationList"], base, "aip_algorithm_unsupported",
          revocation_lists=[lst(alg="none")])
    f.bad("list valid for more than 7 days", ["RevocationList"], base, "aip_token_malformed",
          revocation_lists=[lst(issued_at=NOW - HOUR, next_update=NOW + 8 * DAY)])
    # Structural checks of the list, one defect each, every list signed by the root's key
    # (pinned after a mutation run showed them unchecked by the vectors; eval/results/mutation.md).
    malformed: list[tuple[str, str]] = [
        ("list with four segments", lst() + ".e30"),
        ("list with two segments", lst().rsplit(".", 1)[0]),
        ("list header not base64url", "!" + lst()),
        ("list header with an extra member (jku)",
         lst(header_set={"jku": "https://mallory.example/keys"})),
        ("list header without kid", lst(header_set={"kid": _DROP})),
        ("list header kid not a string", lst(header_set={"kid": 7})),
        ("list payload not base64url", ".".join([lst().split(".")[0], "!", "AA"])),
        ("list payload version 2.0", lst(body_set={"aip_revocation": "2.0"})),
        ("list payload without revoked_keys", lst(body_set={"revoked_keys": _DROP})),
        ("list payload with an extra member", lst(body_set={"note": "x"})),
        ("list issuer not a string", lst(body_set={"issuer": 7})),
        ("list issuer not an identifier", lst(body_set={"issuer": "root"})),
        ("list issued_at a string", lst(body_set={"issued_at": str(NOW - HOUR)})),
        ("list issued_at true", lst(body_set={"issued_at": True})),
        ("list next_update equal to issued_at", lst(body_set={"issued_at": NOW - HOUR,
                                                              "next_update": NOW - HOUR})),
        ("list next_update a float", lst(body_set={"next_update": NOW + 0.5})),
        ("list revoked_ids not a list", lst(body_set={"revoked_ids": "ab" * 32})),
        ("list revoked_ids with upper-case hex", lst(body_set={"revoked_ids": ["AB" * 32]})),
        ("list revoked_ids with a number", lst(body_set={"revoked_ids": [7]})),
        ("list revoked_keys not a list", lst(body_set={"revoked_keys": {"identity": ROOT}})),
        ("list revoked_keys entry without kid", lst(body_set={"revoked_keys": [
            {"identity": ROOT}]})),
        ("list revoked_keys entry with an extra member", lst(body_set={"revoked_keys": [
            {"identity": ROOT, "kid": "root-1", "x": 1}]})),
        ("list revoked_keys entry identity not a string", lst(body_set={"revoked_keys": [
            {"identity": 7, "kid": "root-1"}]})),
        ("list revoked_keys entry kid not a string", lst(body_set={"revoked_keys": [
            {"identity": ROOT, "kid": 7}]})),
        ("list revoked_keys entry kid with a space", lst(body_set={"revoked_keys": [
            {"identity": ROOT, "kid": "root 1"}]})),
    ]
    h, b_, sig = lst().split(".")
    malformed += [
        ("list header base64url but not JSON", ".".join([b64url(b"{alg"), b_, sig])),
        ("list payload base64url but not JSON", ".".join([h, b64url(b"[1,"), sig])),
        ("list signature not base64url", ".".join([h, b_, "!" + sig[1:]])),
    ]
    for comment, jws in malformed:
        f.bad(comment, ["RevocationList"], base, "aip_token_malformed", revocation_lists=[jws])
    f.bad("list that is not a string", ["RevocationList"], base, "aip_token_malformed",
          revocation_lists=[7])
    # A header of exactly 1025 octets is over the 1024-octet header limit.
    pad = 1025 - len(json.dumps({"alg": "EdDSA", "typ": "aip-revocation+jws", "kid": ""},
                                separators=(",", ":")))
    f.bad("list header of 1025 octets", ["RevocationList"], base, "aip_limit_exceeded",
          revocation_lists=[lst(header_set={"kid": "k" * pad})])
    # Time boundaries, each accepted: lifetime exactly 7 days; issued exactly skew (60 s) or
    # 30 s in the future; next_update exactly skew in the past.
    for comment, kw in (
            ("list valid for exactly 7 days", {"issued_at": NOW - HOUR,
                                               "next_update": NOW - HOUR + 7 * DAY}),
            ("list issued 60 s in the future, at the skew", {"issued_at": NOW + 60}),
            ("list issued 30 s in the future, within skew", {"issued_at": NOW + 30}),
            ("list next_update 60 s ago, at the skew", {"issued_at": NOW - DAY,
                                                         "next_update": NOW - 60})):
        f.ok(comment, ["Valid", "RevocationStale", "Skew"], base,
             revocation_lists=[lst(**kw)])
    # NumericDate range 0..2^53-1 (AIP-REV-003 payload shape): issued_at 0 is a well-formed,
    # merely stale list; issued_at or next_update 2^53 is malformed, not "issued in the future".
    f.bad("list issued_at 0 (in range, stale)", ["RevocationStale"], base,
          "aip_revocation_stale", revocation_lists=[lst(issued_at=0, next_update=DAY)])
    f.bad("list issued_at 2^53 (out of the NumericDate range)", ["RevocationList"], base,
          "aip_token_malformed", revocation_lists=[lst(issued_at=2**53, next_update=2**53 + DAY)])
    f.bad("list next_update 2^53 (out of the NumericDate range)", ["RevocationList"], base,
          "aip_token_malformed", revocation_lists=[lst(issued_at=2**53 - DAY, next_update=2**53)])
    # The list key's window uses the verifier's skew, not a default (AIP-DOC-014, AIP-CHN-090):
    # the root's key "root-late" ended 90 s ago; a trust store with a 120 s skew accepts a list
    # it signed, one with the usual 60 s skew refuses it. Own groups (own trust), at the end.
    late = _document(ROOT, [("root-1", "root", NOW - 30 * DAY, None),
                            ("root-late", "root2", NOW - 30 * DAY, NOW - 90)], "root-1",
                     max_depth=8)
    late_list = _revocation_list("root", ROOT, "root-late", sign_with="root2")
    f._notes(["Valid", "ListKeyWindow", "Skew"])
    for skew, error in ((120, None), (SKEW, "aip_key_inactive")):
        tests = f.vf.group("chained.verify",
                           trust={**TRUST, "documents": {**DOCS, ROOT: late}, "skew": skew})
        inp = {"token": f.token(base), "request": request(), "revocation_lists": [late_list]}
        if error is None:
            f.vf.add(tests, "list signed by a key that ended 90 s ago, within a 120 s skew",
                     ["Valid", "ListKeyWindow", "Skew"], inp, expected=expected(base))
        else:
            f.vf.add(tests, "list signed by a key that ended 90 s ago, beyond the 60 s skew",
                     ["ListKeyWindow"], inp, error=error)

    # AIP-REV-009: the 1 MiB list limit at its boundary. The list is padded with JSON
    # whitespace (3 spaces = "ICAg" in base64url, after a 3-octet "{  " prefix, so the payload
    # segment is prefix + "ICAg" * N + rest) and stored as a "$concat" input that the suite
    # expands (spec/conformance.md, "Test vectors"): 1 MiB does not belong in a vector file.
    def sized_list(size: int) -> dict[str, Any]:
        rest = json.dumps({"aip_revocation": "1.0", "issuer": ROOT, "issued_at": NOW - HOUR,
                           "next_update": NOW + DAY, "revoked_ids": other, "revoked_keys": []},
                          separators=(",", ":"))[1:]
        for spaced in (False, True):
            header = json.dumps({"alg": "EdDSA", "typ": "aip-revocation+jws", "kid": "root-1"},
                                separators=(", " if spaced else ",", ":"))
            h64 = b64url(header.encode())
            for k in range(6):
                tail = b64url((rest[:-1] + " " * k + "}").encode())
                room = size - len(h64) - len(".eyAg") - len(tail) - 1 - 86
                if room < 0 or room % 4:
                    continue
                count = room // 4
                payload = "eyAg" + "ICAg" * count + tail
                sig = b64url(KEYS["root"].sign(f"{h64}.{payload}".encode()))
                parts: list[Any] = [f"{h64}.eyAg", {"$repeat": "ICAg", "count": count},
                                    f"{tail}.{sig}"]
                assert len(f"{h64}.{payload}.{sig}") == size
                return {"$concat": parts}
        raise AssertionError(f"no list of exactly {size} octets")

    f._notes(["Valid"])
    f.vf.notes["ListSize"] = {"description": "A revocation list is at most 1,048,576 octets "
                                             "(1 MiB): exactly that is accepted, one more is "
                                             "refused before decoding.",
                              "requirements": ["AIP-REV-009"]}
    inp = {"token": f.token(base), "request": request()}
    f.vf.add(f.tests, "list of exactly 1,048,576 octets (padded with JSON whitespace)",
             ["Valid", "ListSize"], {**inp, "revocation_lists": [sized_list(1024 * 1024)]},
             expected=expected(base))
    f.vf.add(f.tests, "list of 1,048,577 octets", ["ListSize"],
             {**inp, "revocation_lists": [sized_list(1024 * 1024 + 1)]}, error="aip_limit_exceeded")
    return f.vf.build()


def _jwk(label: str, identity: str, kid: str | None = None) -> dict[str, str]:
    key = KEYS[label]
    return {"kty": "OKP", "crv": "Ed25519", "d": b64url(key.private_bytes_raw()),
            "x": b64url(public_raw(key)), "kid": kid or identity, "aip_id": identity}


def _issuance(b: Builder) -> dict[str, Any]:
    vf = VectorFile("chained", ["Tokens made by the implementation (chained.mint, "
                                "chained.delegate, chained.invoke).",
                                "Valid answers are checked by aip_conformance.checks_chained; "
                                "implementations ignore input.check."],
                    {**{k: NOTES[k] for k in ("Issuance", "HonestRefusal")}, **_ISSUANCE_NOTES})
    check = {"root_public_key": b64url(public_raw(KEYS["root"]))}
    t = vf.group("chained.mint", trust=TRUST)
    vf.add(t, "aip:web issuer mints for an aip:key holder", ["Issuance"],
           {"key": _jwk("root", ROOT, "root-1"), "holder": AGENT[0],
            "scopes": ["tool:search", "tool:fs:*"], "max_depth": 3, "expires": NOW + HOUR})
    vf.add(t, "aip:key issuer mints with a budget ceiling", ["Issuance"],
           {"key": _jwk("agent9", AGENT[9]), "holder": AGENT[0], "scopes": ["*"],
            "max_depth": 0, "expires": NOW + 600, "budget_ceiling": 500})
    vf.add(t, "a scope outside the grammar", ["HonestRefusal", "MintRefusal"],
           {"key": _jwk("root", ROOT, "root-1"), "holder": AGENT[0], "scopes": ["bad scope!"]},
           error="aip_input_invalid")
    t = vf.group("chained.delegate", trust=TRUST)
    depth0 = b64url(b.build(chain(0, invoke=False)))
    depth1 = b64url(b.build(chain(1, invoke=False)))
    vf.add(t, "holder delegates a narrower scope", ["Issuance"],
           {"token": depth0, "key": _jwk("agent0", AGENT[0]), "delegate": AGENT[1],
            "context": 'summarise "quoted" notes; check if true', "scopes": ["tool:search"],
            "check": check})
    vf.add(t, "second hop keeps the scopes", ["Issuance"],
           {"token": depth1, "key": _jwk("agent1", AGENT[1]), "delegate": AGENT[2],
            "context": "hop 2", "check": check})
    vf.add(t, "someone other than the holder", ["HonestRefusal", "DelegateRefusal"],
           {"token": depth1, "key": _jwk("agent3", AGENT[3]), "delegate": AGENT[2],
            "context": "hop 2", "check": check}, error="aip_chain_invalid")
    vf.add(t, "widening to *", ["HonestRefusal", "DelegateRefusal"],
           {"token": depth0, "key": _jwk("agent0", AGENT[0]), "delegate": AGENT[1],
            "context": "hop", "scopes": ["*"], "check": check},
           error="aip_attenuation_violation")
    vf.add(t, "whitespace context", ["HonestRefusal", "DelegateRefusal"],
           {"token": depth0, "key": _jwk("agent0", AGENT[0]), "delegate": AGENT[1],
            "context": " \t ", "check": check}, error="aip_context_missing")
    t = vf.group("chained.invoke", trust=TRUST)
    vf.add(t, "last delegate invokes", ["Issuance"],
           {"token": depth1, "key": _jwk("agent1", AGENT[1]), "request": request(),
            "jti": "issuance-jti-0001", "check": check})
    vf.add(t, "holder of a depth-0 chain invokes with empty arguments", ["Issuance"],
           {"token": depth0, "key": _jwk("agent0", AGENT[0]), "request": request(arguments={}),
            "check": check})
    vf.add(t, "not the last delegate", ["HonestRefusal", "InvokeRefusal"],
           {"token": depth1, "key": _jwk("agent0", AGENT[0]), "request": request(),
            "check": check}, error="aip_chain_invalid")
    vf.add(t, "tool outside the scopes", ["HonestRefusal", "InvokeRefusal"],
           {"token": depth1, "key": _jwk("agent1", AGENT[1]), "request": request("delete"),
            "check": check}, error="aip_scope_insufficient")
    _issuance_bounds(b, vf, check)
    return vf.build()


# Notes of the cases _issuance_bounds adds (the honest issuer's refusals and defaults,
# AIP-CHN-080..083).
_ISSUANCE_NOTES: dict[str, dict[str, Any]] = {
    "MintInput": {"description": "The issuer mints block 0 at the bounds of its values and "
                  "writes -1 and \"\" for an absent budget ceiling and principal; its scope "
                  "and expiry checks grant exactly the scopes until the expiry.",
                  "requirements": ["AIP-CHN-080", "AIP-CHN-020", "AIP-CHN-023"]},
    "MintRefusal": {"description": "The issuer refuses to mint block 0 from a value it "
                    "cannot write.", "requirements": ["AIP-CHN-080"]},
    "DelegateRefusal": {"description": "The holder's implementation refuses to append a "
                        "delegation block that verifiers would reject.",
                        "requirements": ["AIP-CHN-081"]},
    "Inherited": {"description": "A delegation block made without scopes, expiry or budget "
                  "ceiling carries the holder's; one made with them carries those.",
                  "requirements": ["AIP-CHN-082", "AIP-CHN-022", "AIP-CHN-032"]},
    "InvokeRefusal": {"description": "The last delegate's implementation refuses to append "
                      "an invocation block that verifiers would reject.",
                      "requirements": ["AIP-CHN-083"]},
}


def _issuance_bounds(b: Builder, vf: VectorFile, check: dict[str, str]) -> None:
    """Issuer-side refusals and defaults at their boundaries, each pinning one decision of
    the honest implementation (mutation triage of chain_mint / chain_delegate / chain_invoke
    and of the block builders): a case per refusal code, and valid cases exactly at each
    bound, whose tokens the suite checks term by term (checks_chained)."""
    root = _jwk("root", ROOT, "root-1")
    t = vf.group("chained.mint", trust=TRUST)
    base = {"key": root, "holder": AGENT[0], "scopes": ["tool:search", "tool:fs:*"],
            "max_depth": 3, "expires": NOW + HOUR}
    vf.add(t, "max_depth 16, the largest allowed", ["MintInput"], {**base, "max_depth": 16})
    vf.add(t, "max_depth 17 refused", ["MintRefusal"], {**base, "max_depth": 17},
           error="aip_input_invalid")
    vf.add(t, "max_depth -1 refused", ["MintRefusal"], {**base, "max_depth": -1},
           error="aip_input_invalid")
    vf.add(t, "budget ceiling 0, the smallest allowed", ["MintInput"],
           {**base, "budget_ceiling": 0})
    vf.add(t, "budget ceiling -1 refused (it would mean none)", ["MintRefusal"],
           {**base, "budget_ceiling": -1}, error="aip_input_invalid")
    vf.add(t, "a principal, written into block 0", ["MintInput"],
           {**base, "principal": AGENT[5]})
    vf.add(t, "a principal that is not an identifier", ["MintRefusal"],
           {**base, "principal": "aip:nothing"}, error="aip_input_invalid")
    vf.add(t, "a holder that is not an identifier", ["MintRefusal"],
           {**base, "holder": "agent-0"}, error="aip_input_invalid")
    vf.add(t, "only a prefix scope", ["MintInput"], {**base, "scopes": ["tool:fs:*"]})
    vf.add(t, "scope *: the block's check grants any tool", ["MintInput"],
           {**base, "scopes": ["*"]})

    t = vf.group("chained.delegate", trust=TRUST)
    depth0 = b64url(b.build(chain(0, invoke=False)))
    invoked = b64url(b.build(chain(0)))
    agent0, agent1 = _jwk("agent0", AGENT[0]), _jwk("agent1", AGENT[1])
    hop0 = {"token": depth0, "key": agent0, "delegate": AGENT[1], "context": "hop 1",
            "check": check}
    vf.add(t, "after an invocation block", ["DelegateRefusal"], {**hop0, "token": invoked},
           error="aip_chain_invalid")
    vf.add(t, "a delegate that is not an identifier", ["DelegateRefusal"],
           {**hop0, "delegate": "agent-1"}, error="aip_input_invalid")
    vf.add(t, "scopes outside the grammar", ["DelegateRefusal"],
           {**hop0, "scopes": ["bad scope!"]}, error="aip_input_invalid")
    vf.add(t, "an expiry one second later than the holder's", ["DelegateRefusal"],
           {**hop0, "expires": NOW + HOUR + 1}, error="aip_attenuation_violation")
    vf.add(t, "an earlier expiry is written into the block", ["Inherited"],
           {**hop0, "expires": NOW + 600})
    vf.add(t, "a budget ceiling on a chain without one", ["Inherited"],
           {**hop0, "budget_ceiling": 250})
    vf.add(t, "a budget ceiling of -1 (it would drop the ceiling)", ["DelegateRefusal"],
           {**hop0, "budget_ceiling": -1}, error="aip_input_invalid")
    shallow1 = b64url(b.build([mint(max_depth=1)]))
    vf.add(t, "the one hop max_depth 1 allows", ["DelegateRefusal", "Inherited"],
           {**hop0, "token": shallow1})
    full = b64url(b.build([mint(max_depth=1), hop(1, AGENT[0], AGENT[1])]))
    hop1 = {"key": agent1, "delegate": AGENT[2], "context": "hop 2", "check": check}
    vf.add(t, "a second hop beyond block 0's max_depth 1", ["DelegateRefusal"],
           {**hop1, "token": full}, error="aip_depth_exceeded")
    capped = b64url(b.build([mint(SHALLOW, max_depth=8), hop(1, AGENT[0], AGENT[1],
                                                             root="shallow")]))
    vf.add(t, "a second hop beyond the issuer document's max_depth 1", ["DelegateRefusal"],
           {**hop1, "token": capped}, error="aip_depth_exceeded")
    budget = b64url(b.build([mint(budget=500), hop(1, AGENT[0], AGENT[1], budget=300)]))
    on_budget = {**hop1, "token": budget}
    vf.add(t, "no budget ceiling given: the last hop's (300, not block 0's 500)", ["Inherited"],
           on_budget)
    vf.add(t, "a budget ceiling equal to the holder's", ["Inherited"],
           {**on_budget, "budget_ceiling": 300})
    vf.add(t, "a lower budget ceiling", ["Inherited"], {**on_budget, "budget_ceiling": 120})
    vf.add(t, "a budget ceiling of 0, the smallest allowed (nothing may be spent)", ["Inherited"],
           {**on_budget, "budget_ceiling": 0})
    vf.add(t, "a budget ceiling above the last hop's but below block 0's", ["DelegateRefusal"],
           {**on_budget, "budget_ceiling": 400}, error="aip_budget_exceeded")
    principal = b64url(b.build([mint(principal=AGENT[5])]))
    vf.add(t, "a chain with a principal", ["Inherited"], {**hop0, "token": principal})

    t = vf.group("chained.invoke", trust=TRUST)
    vf.add(t, "after an invocation block", ["InvokeRefusal"],
           {"token": invoked, "key": agent0, "request": request(), "check": check},
           error="aip_chain_invalid")


# --- the Biscuit protobuf envelope ----------------------------------------------------------

_WIRE_NOTES: dict[str, dict[str, Any]] = {
    "WireIgnored": {"description": "Fields the envelope step does not read (unknown fields of "
                    "wire types 0, 1, 2 and 5, root_key_id, fields in another order) change "
                    "nothing; multi-byte keys, lengths and 10-byte varints decode.",
                    "requirements": ["AIP-CHN-007", "AIP-CHN-011"]},
    "WireMalformed": {"description": "Protobuf defects: a truncated or 11-byte varint, a length "
                      "or fixed-width value past the end, field number 0, wire type 6 or 7, a "
                      "length-delimited schema field sent with another wire type.",
                      "requirements": ["AIP-CHN-005"]},
    "EnvelopeShape": {"description": "No authority block or proof, two authority blocks, an "
                      "authority block without its block, next key or signature, or with an "
                      "external signature.", "requirements": ["AIP-CHN-005"]},
    "AuthorityEncoding": {"description": "Block 0 as encoded: a symbol that is not UTF-8 or not "
                          "defined, a fact without predicate, a predicate without name, an "
                          "aip_authority fact whose identity is not a string term.",
                          "requirements": ["AIP-CHN-006"]},
    "BlockCount": {"description": "24 blocks pass the count and 25 do not, whatever the order "
                   "of the fields.", "requirements": ["AIP-CHN-004", "AIP-CHN-007", "AIP-CHN-013"]},
}


_OFFSET_SYM = 1024  # Biscuit v3: a block's own symbols are numbered from 1024


def _pb_varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes(out) + bytes([value])


def _pb_key(number: int, wire: int) -> bytes:
    return _pb_varint(number << 3 | wire)


def _pb(number: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return _pb_key(number, 2) + _pb_varint(len(payload)) + payload


def _pb_int(number: int, value: int) -> bytes:
    return _pb_key(number, 0) + _pb_varint(value)


def _wire(b: Builder) -> dict[str, Any]:
    f = _File(b, "wire", "The Biscuit protobuf envelope as the verifier decodes it before any "
              "signature check (spec/chained.md, AIP-CHN-004..007). Defects are crafted bytes.")
    f.vf.notes.update(_WIRE_NOTES)
    minted = [mint()]
    data = b.build(minted)
    top = split(data)
    authority = next(field_payload(raw) for n, raw in top if n == 2)
    proof = next(raw for n, raw in top if n == 4)
    signed = split(authority)  # block (1), nextKey (2), signature (3)
    block = next(field_payload(raw) for n, raw in signed if n == 1)
    symbols = [field_payload(raw) for n, raw in split(block) if n == 1]
    assert symbols[0] == b"aip_authority"

    def token(*parts: bytes) -> str:
        return b64url(b"".join(parts))

    def with_signed(*extra: bytes, drop: int = 0) -> bytes:
        """The authority field with ``drop`` (a SignedBlock field number) removed and
        ``extra`` fields appended."""
        kept = b"".join(raw for n, raw in signed if n != drop)
        return _pb(2, kept + b"".join(extra))

    def with_block(*extra: bytes, first_term: bytes | None = None) -> bytes:
        """The authority field whose block has ``extra`` fields appended (its signature no
        longer matches) or the first term of its aip_authority fact replaced."""
        fields = []
        for n, raw in split(block):
            if n == 4 and first_term is not None:
                fact = field_payload(raw)
                predicate = split(field_payload(split(fact)[0][1]))
                name, terms = predicate[0][1], [r for m, r in predicate if m == 2]
                if name == _pb_int(1, _OFFSET_SYM):
                    raw = _pb(4, _pb(1, name + _pb(2, first_term) + b"".join(terms[1:])))
            fields.append(raw)
        new_block = b"".join(fields) + b"".join(extra)
        return _pb(2, _pb(1, new_block) + b"".join(raw for n, raw in signed if n != 1))

    exp = expected(minted)

    def ok(comment: str, flags: list[str], tok: str, output: dict[str, Any] = exp) -> None:
        f.vf.add(f.tests, comment, flags, {"token": tok, "request": request()}, expected=output)

    def bad(comment: str, flags: list[str], tok: str, error: str = "aip_token_malformed") -> None:
        f.vf.add(f.tests, comment, flags, {"token": tok, "request": request()}, error=error)

    # Fields the envelope step skips (AIP-CHN-007): the token verifies as without them. The
    # zero octets after each skipped field make any misaligned reader meet field number 0.
    skipped = (_pb_key(15, 1) + bytes(8) + _pb_key(15, 5) + bytes(4) + _pb_int(16, 0)
               + _pb_int(1, 7) + _pb(15, bytes(128)))
    ok("unknown fixed64, fixed32, two-octet-key varint and 128-octet (two-octet length) "
       "fields and a root_key_id before the authority block; a fixed64 field ends the token",
       ["WireIgnored"], token(skipped, data, _pb_key(15, 1), bytes(8)))
    ok("an unknown fixed32 field ends the token", ["WireIgnored"],
       token(data, _pb_key(15, 5), bytes(4)))
    ok("root_key_id as a 10-octet varint (the longest allowed)", ["WireIgnored"],
       token(_pb_key(1, 0), b"\xff" * 9, b"\x01", data))
    ok("an unknown field in the authority's SignedBlock (not signed)", ["WireIgnored"],
       token(with_signed(_pb_int(15, 0)), proof))
    one = [mint(), hop(1, AGENT[0], AGENT[1])]
    parts = split(b.build(one))
    ok("the authority block after the other block and the proof first", ["WireIgnored"],
       token(*(raw for n, raw in parts if n == 4), *(raw for n, raw in parts if n == 3),
             *(raw for n, raw in parts if n == 2)), expected(one))
    # Protobuf defects (AIP-CHN-005).
    for comment, tok in [
        ("a varint field's value missing at the end", token(data, _pb_key(1, 0))),
        ("a length-delimited field's length missing at the end", token(data, _pb_key(15, 2))),
        ("an 11-octet varint", token(_pb_key(1, 0), b"\x80" * 10, b"\x01", data)),
        ("a length running 3 octets past the end", token(data, _pb_key(15, 2), b"\x05ab")),
        ("a fixed64 value one octet short", token(data, _pb_key(15, 1), bytes(7))),
        ("a fixed32 value one octet short", token(data, _pb_key(15, 5), bytes(3))),
        ("field number 0", token(data, b"\x00\x00")),
        ("wire type 6", token(data, _pb_key(15, 6), bytes(8))),
        ("wire type 7", token(data, _pb_key(15, 7), bytes(8))),
        ("the authority field as a varint", token(_pb_int(2, 0), data)),
        ("the authority field as a fixed64 holding a SignedBlock's three empty fields",
         token(_pb_key(2, 1), _pb(1, b"") + _pb(2, b"") + _pb(3, b"") + _pb_int(15, 0), proof)),
        ("a block field as a varint", token(data, _pb_int(3, 0))),
        ("a block field as a fixed32", token(data, _pb_key(3, 5), bytes(4))),
        ("the proof as a varint", token(with_signed(), _pb_int(4, 0))),
        ("the proof as a fixed64", token(with_signed(), _pb_key(4, 1), bytes(8))),
        ("the authority's signature as a varint", token(with_signed(_pb_int(3, 0), drop=3), proof)),
        ("the authority's next key as a fixed32",
         token(with_signed(_pb_key(2, 5) + bytes(4), drop=2), proof)),
        ("the authority's block as a varint", token(with_signed(_pb_int(1, 0), drop=1), proof)),
        ("the authority's external signature as a varint",
         token(with_signed(_pb_int(4, 0)), proof)),
    ]:
        bad(comment, ["WireMalformed"], tok)
    # Envelope shape (AIP-CHN-005).
    for comment, tok in [
        ("no proof", token(with_signed())),
        ("no authority block", token(proof)),
        ("the authority field twice", token(with_signed(), with_signed(), proof)),
        ("the authority block carries an external signature",
         token(with_signed(_pb(4, b"")), proof)),
        ("the authority block lacks its block bytes", token(with_signed(drop=1), proof)),
        ("the authority block lacks its next key", token(with_signed(drop=2), proof)),
        ("the authority block lacks its signature", token(with_signed(drop=3), proof)),
    ]:
        bad(comment, ["EnvelopeShape"], tok)
    # Block 0 as encoded (AIP-CHN-006): read before the signatures, so these are malformed
    # although the altered block no longer verifies.
    last = _OFFSET_SYM + len(symbols)
    for comment, tok in [
        ("a block 0 symbol that is not UTF-8", token(with_block(_pb(1, b"\xff")), proof)),
        ("a block 0 symbol as a varint", token(with_block(_pb_int(1, 0)), proof)),
        ("a block 0 fact without predicate", token(with_block(_pb(4, b"")), proof)),
        ("a block 0 fact whose predicate has no name", token(with_block(_pb(4, _pb(1, b""))),
                                                             proof)),
        ("a block 0 fact named by symbol 28 (past the default table)",
         token(with_block(_pb(4, _pb(1, _pb_int(1, 28)))), proof)),
        (f"a block 0 fact named by symbol {last} (one past block 0's symbols)",
         token(with_block(_pb(4, _pb(1, _pb_int(1, last)))), proof)),
        ("a block 0 fact whose term is sent as a varint",
         token(with_block(_pb(4, _pb(1, _pb_int(1, 0) + _pb_int(2, _OFFSET_SYM)))), proof)),
        ("a block 0 fact as a fixed32", token(with_block(_pb_key(4, 5) + bytes(4)), proof)),
        ("aip_authority's identity is an integer term sent length-delimited",
         token(with_block(first_term=_pb(2, b"\x01")), proof)),
    ]:
        bad(comment, ["AuthorityEncoding"], tok)
    # Block count (AIP-CHN-004): copies of one small appended block are counted before any
    # signature is checked; at 24 blocks the copies then fail verification (AIP-CHN-013).
    small = split(b.build([mint(), {"op": "append", "kind": "raw", "root": "root",
                                    "code": "n(1);"}]))
    blocks = [raw for n, raw in small if n == 3]
    auth1 = next(raw for n, raw in small if n == 2)
    proof1 = next(raw for n, raw in small if n == 4)
    bad("24 blocks (block 1 and 22 copies): counted, then the copies fail verification",
        ["BlockCount"], token(auth1, *blocks * 23, proof1), "aip_signature_invalid")
    bad("25 blocks", ["BlockCount"], token(auth1, *blocks * 24, proof1), "aip_limit_exceeded")
    bad("25 blocks with the authority block after the others", ["BlockCount"],
        token(*blocks * 24, auth1, proof1), "aip_limit_exceeded")
    return f.vf.build()


def generate() -> dict[str, dict[str, Any]]:
    b = Builder.load(KEYS)
    out = {
        "chained/chains.json": _chains(b),
        "chained/attacks.json": _attacks(b),
        "chained/invocation.json": _invocation(b),
        "chained/revocation.json": _revocation(b),
        "chained/issuance.json": _issuance(b),
        "chained/wire.json": _wire(b),
    }
    b.save()
    return out
