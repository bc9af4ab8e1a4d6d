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

from ._chained_build import Builder, Step
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
                    {k: NOTES[k] for k in ("Issuance", "HonestRefusal")})
    check = {"root_public_key": b64url(public_raw(KEYS["root"]))}
    t = vf.group("chained.mint", trust=TRUST)
    vf.add(t, "aip:web issuer mints for an aip:key holder", ["Issuance"],
           {"key": _jwk("root", ROOT, "root-1"), "holder": AGENT[0],
            "scopes": ["tool:search", "tool:fs:*"], "max_depth": 3, "expires": NOW + HOUR})
    vf.add(t, "aip:key issuer mints with a budget ceiling", ["Issuance"],
           {"key": _jwk("agent9", AGENT[9]), "holder": AGENT[0], "scopes": ["*"],
            "max_depth": 0, "expires": NOW + 600, "budget_ceiling": 500})
    vf.add(t, "a scope outside the grammar", ["HonestRefusal"],
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
    vf.add(t, "someone other than the holder", ["HonestRefusal"],
           {"token": depth1, "key": _jwk("agent3", AGENT[3]), "delegate": AGENT[2],
            "context": "hop 2", "check": check}, error="aip_chain_invalid")
    vf.add(t, "widening to *", ["HonestRefusal"],
           {"token": depth0, "key": _jwk("agent0", AGENT[0]), "delegate": AGENT[1],
            "context": "hop", "scopes": ["*"], "check": check},
           error="aip_attenuation_violation")
    vf.add(t, "whitespace context", ["HonestRefusal"],
           {"token": depth0, "key": _jwk("agent0", AGENT[0]), "delegate": AGENT[1],
            "context": " \t ", "check": check}, error="aip_context_missing")
    t = vf.group("chained.invoke", trust=TRUST)
    vf.add(t, "last delegate invokes", ["Issuance"],
           {"token": depth1, "key": _jwk("agent1", AGENT[1]), "request": request(),
            "jti": "issuance-jti-0001", "check": check})
    vf.add(t, "holder of a depth-0 chain invokes with empty arguments", ["Issuance"],
           {"token": depth0, "key": _jwk("agent0", AGENT[0]), "request": request(arguments={}),
            "check": check})
    vf.add(t, "not the last delegate", ["HonestRefusal"],
           {"token": depth1, "key": _jwk("agent0", AGENT[0]), "request": request(),
            "check": check}, error="aip_chain_invalid")
    vf.add(t, "tool outside the scopes", ["HonestRefusal"],
           {"token": depth1, "key": _jwk("agent1", AGENT[1]), "request": request("delete"),
            "check": check}, error="aip_scope_insufficient")
    return vf.build()


def generate() -> dict[str, dict[str, Any]]:
    b = Builder.load(KEYS)
    out = {
        "chained/chains.json": _chains(b),
        "chained/attacks.json": _attacks(b),
        "chained/invocation.json": _invocation(b),
        "chained/revocation.json": _revocation(b),
        "chained/issuance.json": _issuance(b),
    }
    b.save()
    return out
