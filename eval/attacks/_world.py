"""The cast of an attack run (seeded keys and identities, the trust every arm is given) and
the crafting primitives: compact JWS, invocation proofs and Biscuit chains built from
pyjwt-free primitives (cryptography, biscuit-python, rfc8785), never through ``aip``.

Everything an attack sends is crafted here or in the categories; the reference is used only
to configure the servers under test (trust store, pinned document, revocation list).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import biscuit_auth
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from aip_conformance.generators._chained_build import block_builder, field_payload, length_delimited, split
from aip_conformance.generators._common import b64url, ed25519_multibase, jcs, key_id, public_raw, rfc3339
from aip_conformance.generators._compact_common import craft
from aip_conformance.probe._craft import Identity

__all__ = ["Hop", "Inv", "World", "b64url", "craft", "field_payload", "length_delimited", "split"]

_B: Any = biscuit_auth
WEB_ROOT = "aip:web:issuer.example.com/agents/eval-root"
OTHER_AUDIENCE = "aip:web:tools.example.net/agents/other-server"
TOKEN_TYP = "aip+jwt"  # noqa: S105
PROOF_TYP = "aip-proof+jwt"


def _when(seconds: int) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(seconds, tz=_dt.UTC)


def priv(key: Ed25519PrivateKey) -> Any:
    return _B.PrivateKey.from_bytes(key.private_bytes_raw(), _B.Algorithm.Ed25519)


def pub(key: Ed25519PrivateKey) -> Any:
    return _B.PublicKey.from_bytes(public_raw(key), _B.Algorithm.Ed25519)


def args_digest(arguments: Mapping[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(jcs(dict(arguments))).hexdigest()


def token_digest(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass
class Hop:
    """One delegation block. ``signer`` signs it and ``external`` is the external key it
    names (both default to the delegator); ``plain`` appends it as a draft-01 plain block."""

    delegator: Identity
    delegate: Identity
    scopes: Sequence[str] | None = None  # None: the parent's
    context: str = "eval delegation"
    expires: int | None = None
    budget: int = -1
    principal: str = ""
    signer: Identity | None = None
    plain: bool = False
    kid: str | None = None
    seq: int | None = None
    extra: str | None = None
    extra_params: dict[str, Any] | None = None


@dataclass
class Inv:
    """The invocation block (``invoker`` defaults to the last delegate)."""

    tool: str
    arguments: Mapping[str, Any]
    invoker: Identity | None = None
    audience: str | None = None
    operation: str = "tools/call"
    iat: int | None = None
    jti: str | None = None
    signer: Identity | None = None
    plain: bool = False
    kid: str | None = None
    seq: int | None = None
    args_hash: str | None = None


@dataclass
class World:
    """Seeded identities and crafting helpers, bound to one clock reading ``now``."""

    seed: int
    now: int = field(default_factory=lambda: int(time.time()))

    def __post_init__(self) -> None:
        self.A = self.ident("issuer-a")          # trusted aip:key issuer (the main root)
        self.B = self.ident("issuer-b")          # another trusted aip:key issuer
        self.W1 = self.raw_key("web-root-key-1")  # keys of the trusted aip:web issuer
        self.W2 = self.raw_key("web-root-key-2")
        self.W = Identity(WEB_ROOT, "key-1", self.W1)
        self.H = self.ident("holder")
        self.D = [self.ident(f"delegate-{i}") for i in range(1, 6)]
        self.M = self.ident("mallory")           # the attacker's own aip:key identity
        self.R = [self.ident(f"revoked-{i}") for i in range(1, 3)]
        self.S = self.ident("server")            # the audience of every arm
        self.audience = self.S.id
        self.scopes = ["tool:search", "tool:calc", "tool:fs:*"]
        # Chains whose block 0 is on the chained arm's revocation list (by revocation id).
        rng = random.Random(f"{self.seed}/revoked")
        self.revoked_bases = [self.chain(rng, expires=self.now + 7200) for _ in range(4)]

    def revoked_ids(self) -> list[str]:
        return [_B.Biscuit.from_bytes(b, pub(self.A.key)).revocation_ids[0] for b in self.revoked_bases]

    # --- keys --------------------------------------------------------------------------------

    def raw_key(self, label: str) -> Ed25519PrivateKey:
        digest = hashlib.sha256(f"aip-eval/{self.seed}/{label}".encode()).digest()
        return Ed25519PrivateKey.from_private_bytes(digest)

    def ident(self, label: str) -> Identity:
        key = self.raw_key(label)
        ident = key_id(key)
        return Identity(ident, ident, key)

    def web_document(self) -> dict[str, Any]:
        """The aip:web root's genuine identity document (pinned in every AIP arm)."""
        return self.document(WEB_ROOT, [("key-1", self.W1), ("key-2", self.W2)], ("key-1", self.W1))

    def document(self, ident: str, keys: Sequence[tuple[str, Ed25519PrivateKey]],
                 signer: tuple[str, Ed25519PrivateKey]) -> dict[str, Any]:
        """A self-signed identity document (detached JWS over the RFC 8785 form)."""
        body: dict[str, Any] = {
            "aip": "1.0", "id": ident,
            "public_keys": [{"id": kid, "type": "Ed25519",
                             "public_key_multibase": ed25519_multibase(public_raw(key)),
                             "valid_from": rfc3339(self.now - 86400)} for kid, key in keys],
            "expires": rfc3339(self.now + 30 * 86400)}
        header = b64url(json.dumps({"alg": "EdDSA", "kid": signer[0], "typ": "aip-document+jws"},
                                   separators=(",", ":")).encode())
        sig = signer[1].sign(header.encode() + b"." + b64url(jcs(body)).encode())
        return {**body, "document_signature": f"{header}..{b64url(sig)}"}

    # --- variety -----------------------------------------------------------------------------

    @staticmethod
    def jti(rng: random.Random) -> str:
        return b64url(rng.randbytes(16))

    @staticmethod
    def arguments(rng: random.Random) -> dict[str, Any]:
        words = ["llamas", "alpacas", "capability", "delegation", "audit", "budget", "mcp"]
        out: dict[str, Any] = {"q": f"{rng.choice(words)} {rng.randrange(10**6)}"}
        if rng.random() < 0.5:
            out["limit"] = rng.randrange(1, 100)
        if rng.random() < 0.3:
            out["filters"] = {"lang": rng.choice(["en", "fr", "de"]), "safe": rng.random() < 0.5}
        return out

    # --- compact mode ------------------------------------------------------------------------

    def claims(self, rng: random.Random, **changes: Any) -> dict[str, Any]:
        """Honest claims from A to H for this audience; ``changes`` set (None deletes)."""
        iat = self.now - rng.randrange(0, 30)
        claims: dict[str, Any] = {
            "iss": self.A.id, "sub": self.H.id, "aud": self.audience, "scope": list(self.scopes),
            "max_depth": 0, "iat": iat, "nbf": iat, "exp": iat + 600 + rng.randrange(0, 600),
            "jti": self.jti(rng)}
        for name, value in changes.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def token(self, rng: random.Random, *, key: Ed25519PrivateKey | None = None,
              header: Mapping[str, Any] | None = None, kid: str | None = "",
              **changes: Any) -> str:
        """A compact token (signed by A unless ``key``); ``header`` replaces the header."""
        head: dict[str, Any] = dict(header) if header is not None else {
            "alg": "EdDSA", "typ": TOKEN_TYP, "kid": self.A.kid if kid == "" else kid}
        if header is None and kid is None:
            del head["kid"]
        return craft(head, self.claims(rng, **changes), key or self.A.key)

    def proof(self, rng: random.Random, token: str, tool: str | None, arguments: Mapping[str, Any],
              *, holder: Identity | None = None, key: Ed25519PrivateKey | None = None,
              header: Mapping[str, Any] | None = None, **changes: Any) -> str:
        who = holder or self.H
        claims: dict[str, Any] = {
            "iss": who.id, "aud": self.audience, "iat": self.now - rng.randrange(0, 20),
            "jti": self.jti(rng), "token_hash": token_digest(token), "op": "tools/call",
            "tool": tool, "args_hash": args_digest(arguments)}
        for name, value in changes.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        head = dict(header) if header is not None else {"alg": "EdDSA", "typ": PROOF_TYP}
        return craft(head, claims, key or who.key)

    # --- chained mode ------------------------------------------------------------------------

    def chain(self, rng: random.Random, *, root: Identity | None = None,
              root_key: Ed25519PrivateKey | None = None, holder: Identity | None = None,
              scopes: Sequence[str] | None = None, max_depth: int = 3, expires: int | None = None,
              budget: int = -1, principal: str = "", hops: Sequence[Hop] = (),
              inv: Inv | None = None, authority_extra: str | None = None,
              authority_params: dict[str, Any] | None = None,
              tail: Sequence[tuple[Identity, Any, bool]] = (), base: bytes | None = None) -> bytes:
        """A chained token as Biscuit bytes. ``tail`` appends further raw blocks: (signer,
        BlockBuilder, plain); ``base`` continues a token of A's (holder H) instead of minting."""
        issuer = root or self.A
        first = holder or self.H
        granted = list(scopes or self.scopes)
        until = expires if expires is not None else self.now + 600 + rng.randrange(0, 600)
        step: dict[str, Any] = {"kind": "authority", "fields": {
            "identity": issuer.id, "kid": issuer.kid, "holder": first.id, "scopes": granted,
            "max_depth": max_depth, "expires": until, "budget_ceiling": budget,
            "principal": principal}}
        if authority_extra:
            step["extra"], step["extra_params"] = authority_extra, authority_params
        if base is not None:
            token = _B.Biscuit.from_bytes(base, pub(self.A.key))
        else:
            builder = _B.BiscuitBuilder()
            builder.merge(block_builder(step))
            token = builder.build(priv(root_key or issuer.key))
        last, parent_scopes, parent_expires = first, granted, until
        for index, hop in enumerate(hops, start=1):
            hop_scopes = list(hop.scopes) if hop.scopes is not None else parent_scopes
            hop_expires = hop.expires if hop.expires is not None else parent_expires
            hstep: dict[str, Any] = {"kind": "delegation", "fields": {
                "seq": hop.seq if hop.seq is not None else index, "delegator": hop.delegator.id,
                "kid": hop.kid or hop.delegator.kid, "delegate": hop.delegate.id,
                "context": hop.context, "scopes": hop_scopes, "expires": hop_expires,
                "budget_ceiling": hop.budget, "principal": hop.principal}}
            if hop.extra:
                hstep["extra"], hstep["extra_params"] = hop.extra, hop.extra_params
            token = self._append(token, block_builder(hstep), hop.signer or hop.delegator, hop.plain)
            last, parent_scopes, parent_expires = hop.delegate, hop_scopes, hop_expires
        if inv is not None:
            invoker = inv.invoker or last
            istep = {"kind": "invocation", "fields": {
                "seq": inv.seq if inv.seq is not None else len(hops) + 1, "invoker": invoker.id,
                "kid": inv.kid or invoker.kid, "audience": inv.audience or self.audience,
                "operation": inv.operation, "tool": inv.tool,
                "args_hash": inv.args_hash or args_digest(inv.arguments),
                "jti": inv.jti or self.jti(rng),
                "iat": inv.iat if inv.iat is not None else self.now - rng.randrange(0, 20)}}
            token = self._append(token, block_builder(istep), inv.signer or invoker, inv.plain)
        for signer, block, plain in tail:
            token = self._append(token, block, signer, plain)
        return bytes(token.to_bytes())

    def extend(self, base: bytes, hops: Sequence[Hop], inv: Inv | None) -> bytes:
        """Continue a chain of A's minted to H (``base``) with ``hops`` and ``inv``."""
        return self.chain(random.Random(0), hops=hops, inv=inv, base=base)

    def append(self, data: bytes, root: Identity, signer: Identity, block: Any, plain: bool = False) -> bytes:
        token = _B.Biscuit.from_bytes(data, pub(root.key))
        return bytes(self._append(token, block, signer, plain).to_bytes())

    @staticmethod
    def delegation_block(seq: int, delegator: Identity, delegate: Identity, scopes: Sequence[str] = ("tool:search",),
                         expires: int | None = None) -> Any:
        return block_builder({"kind": "delegation", "fields": {
            "seq": seq, "delegator": delegator.id, "kid": delegator.kid, "delegate": delegate.id,
            "context": "late hop", "scopes": list(scopes), "expires": expires or 2**31,
            "budget_ceiling": -1, "principal": ""}})

    @staticmethod
    def _append(token: Any, block: Any, signer: Identity, plain: bool) -> Any:
        if plain:
            return token.append(block)
        request = token.third_party_request()
        return token.append_third_party(pub(signer.key), request.create_block(priv(signer.key), block))

    def hops(self, depth: int, **last: Any) -> list[Hop]:
        """``depth`` honest hops H -> D1 -> D2 ...; ``last`` overrides fields of the last."""
        people = [self.H, *self.D]
        out = [Hop(people[i], people[i + 1], context=f"eval hop {i + 1}") for i in range(depth)]
        if out and last:
            for name, value in last.items():
                setattr(out[-1], name, value)
        return out

    def last_of(self, depth: int) -> Identity:
        return ([self.H, *self.D])[depth]


def encode(data: bytes) -> str:
    return b64url(data)


def completion_block(*, seq: int, executor: str, kid: str, jti: str, token_hash: str,
                     completed_at: int, status: str = "completed",
                     result_hash: str = "sha256:" + "ab" * 32) -> Any:
    """The completion block of spec/completion.md, from its wire format (not from ``aip``)."""
    return _B.BlockBuilder(
        "aip_completion({seq}, {executor}, {kid}, {jti}, {token_hash}, {status}, {result_hash}, "
        "{verification_status}, {tokens_used}, {cost_usd}, {duration_ms}, {ldp}, {completed_at});",
        {"seq": seq, "executor": executor, "kid": kid, "jti": jti, "token_hash": token_hash,
         "status": status, "result_hash": result_hash, "verification_status": "verified",
         "tokens_used": -1, "cost_usd": "", "duration_ms": -1, "ldp": "",
         "completed_at": _when(completed_at)})
