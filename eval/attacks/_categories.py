"""The attack categories. Each crafts its attempts from primitives, deterministically from a
seeded ``random.Random``: attempt ``i`` of a category varies fields, positions, keys and
values, so no two attempts are copies. Each attempt names the registry code that the spec's
verification algorithm gives for it (the first failing step, AIP-ERR-002).

A category lists the token modes it makes sense for; an arm receives the attempts of every
mode it accepts, and shows "n/a" for a category none of whose modes it accepts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import biscuit_auth
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from aip_conformance.generators._common import public_raw
from aip_conformance.probe._craft import Identity

from ._client import Attempt
from ._world import (
    OTHER_AUDIENCE,
    PROOF_TYP,
    TOKEN_TYP,
    Hop,
    Inv,
    World,
    b64url,
    completion_block,
    craft,
    field_payload,
    length_delimited,
    split,
    token_digest,
)

__all__ = ["CATEGORIES", "Category", "legit"]

_B: Any = biscuit_auth
Crafter = Callable[[World, random.Random, int, str], Attempt]


@dataclass(frozen=True)
class Category:
    key: str
    title: str
    group: str
    modes: tuple[str, ...]
    requirements: str
    craft: Crafter


CATEGORIES: list[Category] = []


def category(key: str, title: str, group: str, modes: tuple[str, ...],
             requirements: str) -> Callable[[Crafter], Crafter]:
    def register(fn: Crafter) -> Crafter:
        CATEGORIES.append(Category(key, title, group, modes, requirements, fn))
        return fn
    return register


def creds(token: str, proof: str | None = None, *, header: str = "authorization") -> dict[str, str]:
    out = {header: f"AIP {token}" if header == "authorization" else token}
    if proof is not None:
        out["x-aip-proof"] = proof
    return out


def enc(data: bytes) -> str:
    return b64url(data)


def _pick(rng: random.Random, i: int, options: list[Any]) -> Any:
    """Option ``i`` (cycling), so every option is used before any repeats."""
    return options[i % len(options)]


def compact_call(w: World, rng: random.Random, label: str, expect: str, *, token: str | None = None,
                 tool: str = "search", arguments: dict[str, Any] | None = None,
                 proof: str | None = "", **proof_changes: Any) -> Attempt:
    """A compact call; ``proof=""`` makes an honest proof for the call, ``None`` sends none."""
    args = arguments if arguments is not None else w.arguments(rng)
    tok = token if token is not None else w.token(rng)
    prf = w.proof(rng, tok, tool, args, **proof_changes) if proof == "" else proof
    return Attempt(label, expect, creds(tok, prf), tool=tool, arguments=args)


def chained_call(w: World, rng: random.Random, label: str, expect: str, data: bytes, *,
                 tool: str = "search", arguments: dict[str, Any] | None = None) -> Attempt:
    return Attempt(label, expect, creds(enc(data)), tool=tool,
                   arguments=arguments if arguments is not None else {})


def legit(w: World, rng: random.Random, mode: str, i: int) -> Attempt:
    """A legitimate call (what every arm must accept)."""
    args = w.arguments(rng)
    tool = _pick(rng, i, ["search", "calc", "fs:read"])
    if mode == "compact":
        return compact_call(w, rng, "legitimate", "", tool=tool, arguments=args)
    depth = i % 3
    data = w.chain(rng, hops=w.hops(depth), inv=Inv(tool, args))
    return chained_call(w, rng, f"legitimate depth {depth}", "", data, tool=tool, arguments=args)


# ============================================================================================
# The paper's six
# ============================================================================================

_OUTSIDE = ["delete", "admin", "exec", "shell", "payments.transfer", "email.send", "db.drop",
            "fs", "users.create", "secrets.read", "deploy", "wire", "kill", "sudo", "reboot",
            "calc2", "searchx", "fs_write", "net.open", "keys.export"]


@category("scope_widening", "Scope widening", "paper", ("compact", "chained"), "AIP-SCOPE-006, AIP-CHN-030")
def scope_widening(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    target = _OUTSIDE[i % len(_OUTSIDE)]
    if mode == "compact":
        granted = rng.sample(["tool:search", "tool:calc", "tool:fs:read", "tool:fs:*"], rng.randint(1, 3))
        token = w.token(rng, scope=granted)
        return compact_call(w, rng, f"scope {granted} calls {target}", "aip_scope_insufficient",
                            token=token, tool=target)
    depth = 1 + i % 3
    at = rng.randint(1, depth)
    wider = _pick(rng, i // 3, [["tool:*"], ["*"], ["tool:search", f"tool:{target}"],
                                ["tool:fs:*", "tool:search"], ["tool:calc", f"tool:{target}"]])
    hops = w.hops(depth)
    for hop in hops[at - 1:]:
        hop.scopes = wider
    tool = rng.choice([target, "search"])
    args = w.arguments(rng)
    data = w.chain(rng, scopes=["tool:search", "tool:calc"], hops=hops, inv=Inv(tool, args))
    return chained_call(w, rng, f"hop {at}/{depth} widens to {wider}, calls {tool}",
                        "aip_attenuation_violation", data, tool=tool, arguments=args)


@category("depth_violation", "Delegation depth violation", "paper", ("chained",), "AIP-CHN-035")
def depth_violation(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    max_depth = i % 3
    depth = max_depth + 1 + (i // 3) % 3
    args = w.arguments(rng)
    tool = rng.choice(["search", "calc"])
    data = w.chain(rng, max_depth=max_depth, hops=w.hops(depth), inv=Inv(tool, args))
    return chained_call(w, rng, f"depth {depth} > max_depth {max_depth}", "aip_depth_exceeded",
                        data, tool=tool, arguments=args)


@category("expired_replay", "Expired token replay", "paper", ("compact", "chained"), "AIP-TOK-023, AIP-CHN-034")
def expired_replay(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    ago = _pick(rng, i, [61, 75, 120, 300, 900, 3600, 7200, 43200, 86400, 604800]) + rng.randrange(50)
    if mode == "compact":
        lifetime = rng.choice([60, 600, 3600, 86400])
        exp = w.now - ago
        token = w.token(rng, iat=exp - lifetime, nbf=exp - lifetime, exp=exp)
        return compact_call(w, rng, f"expired {ago}s ago", "aip_token_expired", token=token)
    args = w.arguments(rng)
    depth = i % 3
    if i % 2 == 0 or depth == 0:
        data = w.chain(rng, expires=w.now - ago, hops=w.hops(depth), inv=Inv("search", args))
        label = f"block 0 expired {ago}s ago, depth {depth}"
    else:
        at = rng.randint(1, depth)
        hops = w.hops(depth)
        for hop in hops[at - 1:]:
            hop.expires = w.now - ago
        data = w.chain(rng, hops=hops, inv=Inv("search", args))
        label = f"hop {at}/{depth} expired {ago}s ago"
    return chained_call(w, rng, label, "aip_token_expired", data, arguments=args)


@category("wrong_key", "Wrong signing key", "paper", ("compact", "chained"), "AIP-TOK-022, AIP-CHN-013")
def wrong_key(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    key = w.raw_key(f"wrong-key-{mode}-{i}")
    web = i % 3 == 2
    if mode == "compact":
        if web:
            token = w.token(rng, key=key, kid=rng.choice(["key-1", "key-2"]), iss=w.W.id)
        else:
            token = w.token(rng, key=key, iss=rng.choice([w.A.id, w.B.id]), kid=None)
            token = _rekid(token, key, _claims_of(token)["iss"])
        return compact_call(w, rng, "token signed by an unrelated key" + (" (aip:web issuer)" if web else ""),
                            "aip_signature_invalid", token=token)
    args = w.arguments(rng)
    root = w.W if web else rng.choice([w.A, w.B])
    data = w.chain(rng, root=root, root_key=key, hops=w.hops(i % 3), inv=Inv("search", args))
    return chained_call(w, rng, f"block 0 claims {root.id[:24]}..., signed by an unrelated key",
                        "aip_signature_invalid", data, arguments=args)


_BLANK = ["", " ", "\t", "\n", "\r\n", "\u00a0", "\u2003", "\u3000", "\u2028", "\u2029", "\u200a",
          "\u1680", "\u205f", "\u0085", "\x0b", "\x0c", " \t\n ", "\u2000\u2001\u2002", "a" * 1025,
          "context " * 200]


@category("empty_context", "Empty delegation context (audit evasion)", "paper", ("chained",), "AIP-CHN-027")
def empty_context(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    depth = 1 + i % 3
    at = rng.randint(1, depth)
    hops = w.hops(depth)
    hops[at - 1].context = _BLANK[i % len(_BLANK)]
    args = w.arguments(rng)
    data = w.chain(rng, hops=hops, inv=Inv("search", args))
    return chained_call(w, rng, f"hop {at}/{depth} context {_BLANK[i % len(_BLANK)][:12]!r}",
                        "aip_context_missing", data, arguments=args)


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _flip_char(text: str, rng: random.Random, positions: list[int]) -> tuple[str, int]:
    at = rng.choice(positions)
    new = rng.choice([c for c in _B64 if c != text[at]])
    return text[:at] + new + text[at + 1:], at


def _inside(j: int, regions: list[tuple[int, int]]) -> bool:
    first, last = (6 * j) // 8, (6 * j + 5) // 8
    return any(a <= first and last < b for a, b in regions)


@category("one_char_forgery", "One-character token forgery", "paper", ("compact", "chained"), "AIP-TOK-022, AIP-CHN-013")
def one_char_forgery(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    args = w.arguments(rng)
    if mode == "compact":
        token = w.token(rng, jti="".join(rng.choice(_B64[:62]) for _ in range(24)))
        head, payload, sig = token.split(".")
        if i % 2 == 0:  # a character of the signature (not the last, whose low bits are padding)
            forged, at = _flip_char(sig, rng, list(range(len(sig) - 1)))
            token2 = f"{head}.{payload}.{forged}"
            where = f"signature char {at}"
        else:  # a character of the payload that lands inside the jti value
            raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            start = raw.index(b'"jti":"') + 7
            region = [(start, raw.index(b'"', start))]
            spots = [j for j in range(len(payload) - 1) if _inside(j, region)]
            while True:
                forged, at = _flip_char(payload, rng, spots)
                new = base64.urlsafe_b64decode(forged + "=" * (-len(forged) % 4))
                changed = new[region[0][0]:region[0][1]]
                if all(32 <= b < 127 and b not in b'"\\' for b in changed):
                    break
            token2 = f"{head}.{forged}.{sig}"
            where = f"payload char {at} (in jti)"
        proof = w.proof(rng, token2, "search", args)
        return Attempt(f"{where} changed", "aip_signature_invalid", creds(token2, proof), arguments=args)
    data = w.chain(rng, hops=w.hops(i % 3), inv=Inv("search", args))
    regions = _signature_regions(data)
    text = enc(data)
    spots = [j for j in range(len(text) - 1) if _inside(j, regions)]
    forged, at = _flip_char(text, rng, spots)
    return Attempt(f"char {at} (inside a block signature) changed", "aip_signature_invalid",
                   creds(forged), arguments=args)


def _signature_regions(data: bytes) -> list[tuple[int, int]]:
    """Absolute byte ranges of every block signature (SignedBlock field 3) in a Biscuit."""
    out: list[tuple[int, int]] = []
    pos = 0
    for number, raw in split(data):
        if number in (2, 3):
            payload = field_payload(raw)
            offset = pos + len(raw) - len(payload)
            inner_pos = 0
            for inner_number, inner_raw in split(payload):
                if inner_number == 3:
                    sig = field_payload(inner_raw)
                    start = offset + inner_pos + len(inner_raw) - len(sig)
                    out.append((start, start + len(sig)))
                inner_pos += len(inner_raw)
        pos += len(raw)
    return out


# ============================================================================================
# RFC 8725 classes (compact tokens)
# ============================================================================================

def _claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return value


def _rekid(token: str, key: Any, kid: str) -> str:
    return craft({"alg": "EdDSA", "typ": TOKEN_TYP, "kid": kid}, _claims_of(token), key)


def _escalated(w: World, rng: random.Random, i: int) -> dict[str, Any]:
    return w.claims(rng, scope=_pick(rng, i, [["*"], ["tool:*"], ["tool:admin", "tool:search"]]))


@category("alg_none", "alg none", "rfc8725", ("compact",), "AIP-TOK-004")
def alg_none(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    alg = _pick(rng, i, ["none", "None", "NONE", "nOnE"])
    header = {"alg": alg, "typ": TOKEN_TYP, "kid": w.A.kid}
    claims = _escalated(w, rng, i // 4)
    sig = _pick(rng, i // 4, [b"", b"", rng.randbytes(64), rng.randbytes(16), b"\x00" * 64])
    token = craft(header, claims, None, signature=sig)
    return compact_call(w, rng, f"alg {alg!r}, {len(sig)}-byte signature", "aip_algorithm_unsupported",
                        token=token, tool="admin" if "tool:admin" in claims["scope"] else "search")


def _hmac(alg: str, secret: bytes, signing_input: bytes) -> bytes:
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    return hmac.new(secret, signing_input, digest).digest()


@category("hs256_public_key", "HMAC with the public key as secret", "rfc8725", ("compact",), "AIP-TOK-004")
def hs256_public_key(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    raw = public_raw(w.A.key)
    pem = w.A.key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    secrets_ = [raw, w.A.id.encode(), w.A.id.split(":")[-1].encode(), pem,
                json.dumps({"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)}).encode(),
                b64url(raw).encode(), base64.b64encode(raw), raw.hex().encode()]
    alg = _pick(rng, i, ["HS256", "HS384", "HS512"])
    secret = secrets_[i % len(secrets_)]
    header = {"alg": alg, "typ": TOKEN_TYP, "kid": w.A.kid}
    claims = _escalated(w, rng, i)
    h = b64url(json.dumps(header, separators=(",", ":")).encode())
    p = b64url(json.dumps(claims, separators=(",", ":")).encode())
    token = f"{h}.{p}.{b64url(_hmac(alg, secret, f'{h}.{p}'.encode()))}"
    return compact_call(w, rng, f"{alg} keyed with public key form {i % len(secrets_)}",
                        "aip_algorithm_unsupported", token=token)


_EC = ec.derive_private_key(int.from_bytes(hashlib.sha256(b"aip-eval/p256").digest(), "big"), ec.SECP256R1())
_RSA: list[Any] = []


def _rsa() -> Any:
    if not _RSA:
        _RSA.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _RSA[0]


@category("alg_confusion", "Algorithm / key-type confusion", "rfc8725", ("compact",), "AIP-TOK-004")
def alg_confusion(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    variants: list[tuple[Any, str]] = [
        ("ES256", "ec"), ("ES384", "random96"), ("ES512", "random132"), ("RS256", "rsa"),
        ("PS256", "rsa-pss"), ("Ed25519", "ed"), ("ED25519", "ed"), ("eddsa", "ed"), ("EDDSA", "ed"),
        ("EdDSA ", "ed"), (" EdDSA", "ed"), ("Ed448", "random114"), ("ES256K", "ec"), (None, "ed"),
        (["EdDSA"], "ed"), (1, "ed"), ("", "ed"), ("EdDSA\u0000", "ed"), ("EcDSA", "ed"), ("EdDSA+ES256", "ed")]
    alg, how = variants[i % len(variants)]
    header: dict[str, Any] = {"typ": TOKEN_TYP, "kid": w.A.kid}
    if alg is not None:
        header["alg"] = alg
    claims = _escalated(w, rng, i)
    h = b64url(json.dumps(header, separators=(",", ":")).encode())
    p = b64url(json.dumps(claims, separators=(",", ":")).encode())
    data = f"{h}.{p}".encode()
    if how == "ec":
        r, s = decode_dss_signature(_EC.sign(data, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    elif how == "rsa":
        from cryptography.hazmat.primitives.asymmetric import padding
        sig = _rsa().sign(data, padding.PKCS1v15(), hashes.SHA256())
    elif how == "rsa-pss":
        from cryptography.hazmat.primitives.asymmetric import padding
        sig = _rsa().sign(data, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    elif how.startswith("random"):
        sig = rng.randbytes(int(how[6:]))
    else:
        sig = w.A.key.sign(data)
    return compact_call(w, rng, f"alg {alg!r} ({how})", "aip_algorithm_unsupported", token=f"{h}.{p}.{b64url(sig)}")


@category("embedded_key", "Embedded key headers (jwk, jku, x5u, x5c, x5t)", "rfc8725", ("compact",), "AIP-TOK-007")
def embedded_key(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    attacker = w.raw_key(f"embedded-{i}")
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url(public_raw(attacker))}
    member = _pick(rng, i, ["jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256", "jwk+jku"])
    header: dict[str, Any] = {"alg": "EdDSA", "typ": TOKEN_TYP, "kid": rng.choice([w.A.kid, "attacker-key"])}
    if member.startswith("jwk"):
        header["jwk"] = jwk
    if member in ("jku", "jwk+jku"):
        header["jku"] = f"https://attacker{i}.example/.well-known/jwks.json"
    if member == "x5u":
        header["x5u"] = f"https://attacker{i}.example/cert.pem"
    if member == "x5c":
        header["x5c"] = [base64.b64encode(rng.randbytes(300)).decode()]
    if member == "x5t":
        header["x5t"] = b64url(rng.randbytes(20))
    if member == "x5t#S256":
        header["x5t#S256"] = b64url(rng.randbytes(32))
    token = craft(header, _escalated(w, rng, i), attacker)
    return compact_call(w, rng, f"header {member}, signed by the embedded key", "aip_token_malformed", token=token)


@category("crit_header", "crit header", "rfc8725", ("compact",), "AIP-TOK-008")
def crit_header(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    crit = _pick(rng, i, [["exp"], ["b64"], ["aip-ext"], [], "exp", ["kid"], ["http://x/ext"], ["b64", "exp"],
                          None, [1]])
    header: dict[str, Any] = {"alg": "EdDSA", "typ": TOKEN_TYP, "kid": w.A.kid, "crit": crit}
    if i % 2:
        header["b64"] = False
    token = craft(header, w.claims(rng), w.A.key)
    return compact_call(w, rng, f"crit {crit!r}" + (" with b64:false" if i % 2 else ""),
                        "aip_token_malformed", token=token)


@category("typ_confusion", "typ confusion (cross-JWT substitution)", "rfc8725", ("compact",), "AIP-TOK-005")
def typ_confusion(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    args = w.arguments(rng)
    if i % 5 == 4:  # an invocation proof (signed by the holder) presented as the token
        other = w.token(rng)
        as_token = w.proof(rng, other, "search", args, iss=w.H.id)
        return compact_call(w, rng, "an invocation proof presented as the token", "aip_token_malformed",
                            token=as_token, arguments=args)
    typ = _pick(rng, i, ["JWT", "at+jwt", PROOF_TYP, "application/aip+jwt", "AIP+JWT", "aip+JWT", "dpop+jwt",
                         "aip-receipt+jwt", "aip-revocation+jws", None, "", " aip+jwt", "aip+jwt ", 1,
                         "aip+jws", "aip"])
    header: dict[str, Any] = {"alg": "EdDSA", "kid": w.A.kid}
    if typ is not None:
        header["typ"] = typ
    return compact_call(w, rng, f"typ {typ!r}", "aip_token_malformed", token=craft(header, w.claims(rng), w.A.key),
                        arguments=args)


# ============================================================================================
# Invocation binding: substitution and replay
# ============================================================================================

_TOOLS = ["search", "calc", "fs:read", "fs:write", "delete", "mail.send", "export", "admin"]


@category("tool_substitution", "Invocation substitution: tool", "invocation", ("compact", "chained"), "AIP-PRF-009, AIP-CHN-043")
def tool_substitution(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    bound, called = rng.sample(_TOOLS, 2)
    args = w.arguments(rng)
    if mode == "compact":
        token = w.token(rng, scope=["tool:*"])
        proof = w.proof(rng, token, bound, args)
        return Attempt(f"proof for {bound}, call {called}", "aip_invocation_mismatch", creds(token, proof),
                       tool=called, arguments=args)
    data = w.chain(rng, scopes=["tool:*"], hops=w.hops(i % 3), inv=Inv(bound, args))
    return chained_call(w, rng, f"invocation for {bound}, call {called}", "aip_invocation_mismatch", data,
                        tool=called, arguments=args)


def _mutate(rng: random.Random, args: dict[str, Any], i: int) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(args))
    how = i % 8
    if how == 0:
        out["q"] = out["q"] + " OR 1=1"
    elif how == 1:
        out["limit"] = out.get("limit", 10) + 1000
    elif how == 2:
        out["admin"] = True
    elif how == 3:
        del out["q"]
    elif how == 4:
        out["q"] = out["q"].upper()
    elif how == 5:
        out["limit"] = str(out.get("limit", 10))
    elif how == 6:
        out["filters"] = {"lang": "xx", "safe": False}
    else:
        out["q"] = out["q"] + "\u0301"
    if out == args:
        out["extra"] = rng.randrange(10**6)
    return out


@category("argument_substitution", "Invocation substitution: arguments", "invocation", ("compact", "chained"), "AIP-PRF-009, AIP-CHN-044")
def argument_substitution(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    args = w.arguments(rng)
    sent = _mutate(rng, args, i)
    tool = rng.choice(["search", "calc"])
    if mode == "compact":
        token = w.token(rng)
        return Attempt(f"arguments changed (mutation {i % 8})", "aip_invocation_mismatch",
                       creds(token, w.proof(rng, token, tool, args)), tool=tool, arguments=sent)
    data = w.chain(rng, hops=w.hops(i % 3), inv=Inv(tool, args))
    return chained_call(w, rng, f"arguments changed (mutation {i % 8})", "aip_invocation_mismatch", data,
                        tool=tool, arguments=sent)


_AUDS = [OTHER_AUDIENCE, "https://tools.example.com/mcp", "aip:web:tools.example.net/agents/other-server/",
         "AIP:WEB:TOOLS.EXAMPLE.NET/AGENTS/OTHER-SERVER", "*", "aip:web:localhost/mcp"]


@category("audience_substitution", "Invocation substitution: audience", "invocation", ("compact", "chained"), "AIP-TOK-026, AIP-PRF-008, AIP-CHN-042")
def audience_substitution(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    other = _pick(rng, i, [*_AUDS, w.audience + "x", w.audience.upper()])
    if mode == "compact":
        kind = i % 3
        if kind == 0:
            token = w.token(rng, aud=other)
            return compact_call(w, rng, f"token and proof for {other[:32]}", "aip_audience_mismatch",
                                token=token, aud=other)
        if kind == 1:
            token = w.token(rng, aud=[other, OTHER_AUDIENCE + "2"] if other != OTHER_AUDIENCE + "2" else [other])
            return compact_call(w, rng, "token audience list without this server", "aip_audience_mismatch", token=token)
        return compact_call(w, rng, f"proof for {other[:32]}", "aip_audience_mismatch", aud=other)
    args = w.arguments(rng)
    data = w.chain(rng, hops=w.hops(i % 3), inv=Inv("search", args, audience=other))
    return chained_call(w, rng, f"invocation for {other[:32]}", "aip_audience_mismatch", data, arguments=args)


@category("proof_replay", "Replay of an invocation proof", "invocation", ("compact",), "AIP-RPL-001")
def proof_replay(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    tool = _pick(rng, i, ["search", "calc", "fs:read"])
    attempt = compact_call(w, rng, f"same proof sent twice ({tool})", "aip_replay_detected", tool=tool)
    if i % 2:  # the replay uses the draft-01 header instead of Authorization
        token = attempt.headers.pop("authorization")[4:]
        attempt.headers["x-aip-token"] = token
        attempt.label += " via X-AIP-Token"
    attempt.prime = True
    return attempt


@category("invocation_replay", "Replay of an invocation block", "invocation", ("chained",), "AIP-CHN-047")
def invocation_replay(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    args = w.arguments(rng)
    tool = _pick(rng, i, ["search", "calc", "fs:read"])
    depth = i % 3
    data = w.chain(rng, hops=w.hops(depth), inv=Inv(tool, args))
    attempt = chained_call(w, rng, f"same chain sent twice (depth {depth}, {tool})", "aip_replay_detected",
                           data, tool=tool, arguments=args)
    attempt.prime = True
    return attempt


@category("proof_rebinding", "Proof moved to another token", "invocation", ("compact",), "AIP-PRF-004")
def proof_rebinding(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    args = w.arguments(rng)
    first = w.token(rng, scope=["tool:search"])
    second = w.token(rng, scope=_pick(rng, i, [["tool:*"], ["tool:search", "tool:admin"], ["*"], ["tool:search"]]))
    kind = i % 4
    if kind == 3:  # the digest spelt in upper case hex
        proof = w.proof(rng, second, "search", args, token_hash="sha256:" + token_digest(second)[7:].upper())
        label = "token_hash in upper-case hex"
    else:
        proof = w.proof(rng, first, "search", args)
        label = "proof made for another token of the same holder"
    return Attempt(label, "aip_proof_invalid", creds(second, proof), arguments=args)


@category("stale_invocation", "Stale or future-dated invocation", "invocation", ("compact", "chained"), "AIP-PRF-010, AIP-CHN-045, AIP-CHN-046")
def stale_invocation(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    future = i % 2 == 1
    delta = _pick(rng, i // 2, [75, 90, 300, 3600, 86400]) + (300 if not future else 0) + rng.randrange(30)
    iat = w.now + delta if future else w.now - delta
    args = w.arguments(rng)
    label = f"invocation iat {'+' if future else '-'}{delta}s"
    if mode == "compact":
        return compact_call(w, rng, label, "aip_proof_invalid", arguments=args, iat=iat)
    data = w.chain(rng, hops=w.hops(i % 3), inv=Inv("search", args, iat=iat))
    return chained_call(w, rng, label, "aip_token_not_yet_valid" if future else "aip_proof_invalid", data,
                        arguments=args)


@category("holder_impersonation", "Stolen token, proof by another key", "invocation", ("compact",), "AIP-PRF-006, AIP-PRF-007")
def holder_impersonation(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    args = w.arguments(rng)
    token = w.token(rng)
    thief = w.ident(f"thief-{i}")
    if i % 3 == 0:
        proof = w.proof(rng, token, "search", args, holder=thief)
        return Attempt("proof by the thief as itself", "aip_proof_invalid", creds(token, proof), arguments=args)
    signer = thief.key if i % 3 == 1 else w.D[i % 5].key
    proof = w.proof(rng, token, "search", args, key=signer)
    return Attempt("proof naming the holder, signed by another key", "aip_signature_invalid",
                   creds(token, proof), arguments=args)


@category("missing_invocation", "Bearer use: no proof or invocation block", "invocation", ("compact", "chained"), "AIP-PRF-011, AIP-CHN-048")
def missing_invocation(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    args = w.arguments(rng)
    if mode == "compact":
        attempt = compact_call(w, rng, "token without proof", "aip_proof_missing", arguments=args, proof=None)
        if i % 2:
            attempt.headers["x-aip-proof"] = ""
            attempt.label += " (empty X-AIP-Proof)"
        return attempt
    depth = i % 4
    data = w.chain(rng, hops=w.hops(depth))
    return chained_call(w, rng, f"chain of depth {depth} without invocation block", "aip_proof_missing", data,
                        tool=rng.choice(["search", "calc"]), arguments=args)


# ============================================================================================
# Chain integrity
# ============================================================================================

@category("delegator_spoofing", "Delegator spoofing (hop signed by another key)", "chain", ("chained",), "AIP-CHN-025, AIP-CHN-040")
def delegator_spoofing(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    depth = 1 + i % 3
    args = w.arguments(rng)
    forger = _pick(rng, i, [w.M, w.ident(f"forger-{i}"), w.D[4], w.B])
    hops = w.hops(depth)
    inv = Inv("search", args)
    if i % 4 == 3:
        inv.signer = forger
        label = f"invocation naming the last delegate, signed by another key (depth {depth})"
    else:
        at = rng.randint(1, depth)
        hops[at - 1].signer = forger
        label = f"hop {at}/{depth} names its real delegator, signed by another key"
    return chained_call(w, rng, label, "aip_signature_invalid", w.chain(rng, hops=hops, inv=inv), arguments=args)


def _blocks(data: bytes) -> tuple[list[tuple[int, bytes]], list[int]]:
    fields = split(data)
    return fields, [i for i, (n, _) in enumerate(fields) if n == 3]


@category("chain_splicing", "Chain splicing (block from another chain)", "chain", ("chained",), "AIP-CHN-013")
def chain_splicing(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    depth = 1 + i % 3
    args = w.arguments(rng)
    target = w.chain(rng, hops=w.hops(depth), inv=Inv("search", args))
    donor = w.chain(rng, scopes=["tool:*"], hops=w.hops(depth), inv=Inv("search", args))
    at = rng.randint(1, depth + 1)
    fields, blocks = _blocks(target)
    _, donor_blocks = _blocks(donor)
    donor_fields = split(donor)
    fields[blocks[at - 1]] = donor_fields[donor_blocks[at - 1]]
    data = b"".join(f for _, f in fields)
    return chained_call(w, rng, f"block {at} of {depth + 1} replaced by the same block of a wider chain",
                        "aip_signature_invalid", data, arguments=args)


@category("chain_truncation", "Chain truncation, reordering, duplication", "chain", ("chained",), "AIP-CHN-013")
def chain_truncation(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    depth = 2 + i % 3
    args = w.arguments(rng)
    data = w.chain(rng, hops=w.hops(depth), inv=Inv("search", args))
    fields, blocks = _blocks(data)
    how = i % 3
    if how == 0:
        at = rng.randint(1, depth + 1)
        del fields[blocks[at - 1]]
        label = f"block {at} of {depth + 1} removed"
    elif how == 1:
        at = rng.randint(1, depth)
        a, b = blocks[at - 1], blocks[at]
        fields[a], fields[b] = fields[b], fields[a]
        label = f"blocks {at} and {at + 1} swapped"
    else:
        at = rng.randint(1, depth)
        fields.insert(blocks[at - 1] + 1, fields[blocks[at - 1]])
        label = f"block {at} duplicated"
    return chained_call(w, rng, label, "aip_signature_invalid", b"".join(f for _, f in fields), arguments=args)


@category("plain_append", "Plain appended block (draft-01 style hop)", "chain", ("chained",), "AIP-CHN-024")
def plain_append(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    depth = i % 3
    args = w.arguments(rng)
    hops = w.hops(depth)
    thief = _pick(rng, i, [w.M, w.ident(f"appender-{i}")])
    last = w.last_of(depth)
    if i % 2 == 0:
        hops.append(Hop(last, thief, scopes=rng.choice([None, ["tool:search"]]), plain=True,
                        context="plain hop"))
        inv = Inv("search", args, invoker=thief)
        label = f"plain-appended hop to a new delegate after depth {depth}"
    else:
        inv = Inv("search", args, plain=True)
        label = f"invocation block plain-appended at depth {depth}"
    return chained_call(w, rng, label, "aip_chain_invalid", w.chain(rng, hops=hops, inv=inv), arguments=args)


_INJECT = ['x"); aip_delegation(1, "a", "b", "c", "d", "*", 2030-01-01T00:00:00Z, -1, ""); //',
           'ok"); tool("tool:delete'
           , 'ctx\ncheck if true;\nright("tool:delete");', 'x") or true; allow if true; //',
           "'); tool(\"tool:delete\") <- time($t); //", "a\u0000b\"c"]


@category("datalog_injection", "Datalog injection by an intermediate delegate", "chain", ("chained",), "AIP-CHN-021, AIP-CHN-028, AIP-CHN-029")
def datalog_injection(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    depth = 1 + i % 3
    at = rng.randint(1, depth)
    hops = w.hops(depth)
    target = rng.choice(["delete", "admin", "exec"])
    args = w.arguments(rng)
    kind = i % 5
    expect = "aip_scope_insufficient"
    if kind == 0:
        hops[at - 1].context = _INJECT[(i // 5) % len(_INJECT)]
        label = "quotes and Datalog in the context string"
    elif kind == 1:
        hops[at - 1].extra = _pick(rng, i // 5, ['right("tool:delete");', f'tool("tool:{target}");',
                                                 f'tool("tool:{target}") <- time($t);', 'right("*");'])
        label = f"extra Datalog in the hop: {hops[at - 1].extra}"
    elif kind == 2:
        hops[at - 1].extra = "aip_authority({i}, {k}, {h}, {s}, 16, {e}, -1, \"\");"
        hops[at - 1].extra_params = {"i": w.A.id, "k": w.A.kid, "h": w.last_of(at).id, "s": "*",
                                     "e": _when_plus(w, 3600)}
        label = "a second aip_authority fact (granting *) inside a hop"
    elif kind == 3:
        hops[at - 1].extra = "aip_delegation({seq}, {d}, {k}, {g}, \"wider\", \"*\", {e}, -1, \"\");"
        prev = w.last_of(at - 1)
        hops[at - 1].extra_params = {"seq": at, "d": prev.id, "k": prev.kid, "g": w.last_of(at).id,
                                     "e": _when_plus(w, 3600)}
        expect = "aip_chain_invalid"
        label = "a second aip_delegation fact (granting *) in the same hop"
    else:
        hops[at - 1].context = f'x", "{w.M.id}'
        hops[at - 1].extra = "delegate({m});"
        hops[at - 1].extra_params = {"m": w.M.id}
        label = "context closing the string plus a forged delegate fact"
    data = w.chain(rng, scopes=["tool:search", "tool:calc"], hops=hops, inv=Inv(target, args))
    return chained_call(w, rng, f"hop {at}/{depth}: {label}; calls {target}", expect, data, tool=target,
                        arguments=args)


def _when_plus(w: World, seconds: int) -> Any:
    import datetime as _dt
    return _dt.datetime.fromtimestamp(w.now + seconds, tz=_dt.UTC)


@category("broken_link", "Broken delegation link or misplaced invocation", "chain", ("chained",), "AIP-CHN-026, AIP-CHN-040, AIP-CHN-041")
def broken_link(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    depth = 1 + i % 3
    args = w.arguments(rng)
    hops = w.hops(depth)
    kind = (i // 3) % 4
    inv: Inv | None = Inv("search", args)
    tail: list[tuple[Any, Any, bool]] = []
    if kind == 0:
        at = rng.randint(1, depth)
        outsider = rng.choice([w.M, w.D[4], w.B])
        hops[at - 1].delegator = outsider
        label = f"hop {at} delegated by someone who is not the previous delegate (signed by it)"
    elif kind == 1:
        earlier = w.last_of(rng.randint(0, depth - 1))
        assert inv is not None
        inv.invoker = earlier
        label = "invocation by an earlier holder, not the last delegate"
    elif kind == 2:
        assert inv is not None
        first = w.chain(rng, hops=hops, inv=inv)
        last = w.last_of(depth)
        block = _B.BlockBuilder(
            "aip_invocation({seq}, {inv}, {kid}, {aud}, \"tools/call\", \"search\", {h}, {jti}, {iat});",
            {"seq": depth + 2, "inv": last.id, "kid": last.kid, "aud": w.audience,
             "h": "sha256:" + hashlib.sha256(b"x").hexdigest(), "jti": w.jti(rng), "iat": _when_plus(w, 0)})
        data = w.append(first, w.A, last, block)
        return chained_call(w, rng, f"a second invocation block (depth {depth})", "aip_chain_invalid", data,
                            arguments=args)
    else:
        last = w.last_of(depth)
        tail.append((last, w.delegation_block(depth + 2, last, w.M), False))
        label = "a delegation block after the invocation"
    data = w.chain(rng, hops=hops, inv=inv, tail=tail)
    return chained_call(w, rng, f"{label} (depth {depth})", "aip_chain_invalid", data, arguments=args)


@category("root_confusion", "Root-identity confusion (one trusted issuer posing as another)", "identity", ("compact", "chained"), "AIP-TOK-021, AIP-CHN-011")
def root_confusion(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    # (claimed identity, kid, signer, expected)
    variants = [
        (w.A.id, w.A.kid, w.B.key, "aip_signature_invalid"),
        (w.A.id, w.B.kid, w.B.key, "aip_key_unknown"),
        (w.W.id, "key-1", w.A.key, "aip_signature_invalid"),
        (w.W.id, "key-2", w.B.key, "aip_signature_invalid"),
        (w.W.id, w.B.kid, w.B.key, "aip_key_unknown"),
        (w.B.id, w.B.kid, w.W1, "aip_signature_invalid"),
        (w.A.id, "key-1", w.W1, "aip_key_unknown"),
    ]
    claimed, kid, signer, expect = variants[i % len(variants)]
    args = w.arguments(rng)
    if mode == "compact":
        token = craft({"alg": "EdDSA", "typ": TOKEN_TYP, "kid": kid},
                      w.claims(rng, iss=claimed, scope=rng.choice([["*"], w.scopes])), signer)
        return compact_call(w, rng, f"iss {claimed[:20]}.. kid {kid[:20]}.. signed by another trusted issuer",
                            expect, token=token, arguments=args)
    root = Identity(claimed, kid, signer)
    data = w.chain(rng, root=root, hops=w.hops(i % 3), inv=Inv("search", args))
    return chained_call(w, rng, f"block 0 claims {claimed[:20]}.. kid {kid[:20]}.., signed by another trusted issuer",
                        expect, data, arguments=args)


@category("untrusted_issuer", "Self-issued token (untrusted issuer)", "identity", ("compact", "chained"), "AIP-TOK-020, AIP-CHN-012")
def untrusted_issuer(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    args = w.arguments(rng)
    rogue = w.ident(f"rogue-{i}")
    web = i % 2 == 1
    issuer = Identity(f"aip:web:rogue{i}.example.com/agents/root", "key-1", rogue.key) if web else rogue
    if mode == "compact":
        token = craft({"alg": "EdDSA", "typ": TOKEN_TYP, "kid": issuer.kid},
                      w.claims(rng, iss=issuer.id, scope=["*"]), issuer.key)
        return compact_call(w, rng, f"self-issued by {'an aip:web' if web else 'an aip:key'} identity",
                            "aip_identity_unresolvable", token=token, arguments=args)
    data = w.chain(rng, root=issuer, scopes=["*"], hops=w.hops(i % 3), inv=Inv("search", args))
    return chained_call(w, rng, f"chain rooted at {'an aip:web' if web else 'an aip:key'} identity nobody trusts",
                        "aip_identity_unresolvable", data, arguments=args)


@category("downgrade", "Downgrade from chained to compact", "identity", ("compact",), "AIP-CHN-071, AIP-TOK-020, AIP-TOK-022")
def downgrade(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    depth = 1 + i % 3
    delegate = w.last_of(depth)
    chain = enc(w.chain(rng, hops=w.hops(depth)))
    args = w.arguments(rng)
    kind = (i // 3) % 3
    extra = {"aip_chain": chain} if rng.random() < 0.5 else {}
    if kind == 0:
        token = craft({"alg": "EdDSA", "typ": TOKEN_TYP, "kid": w.A.kid},
                      w.claims(rng, sub=delegate.id, scope=["*"], **extra), delegate.key)
        expect, label = "aip_signature_invalid", "delegate mints a compact token as the root"
    elif kind == 1:
        token = craft({"alg": "EdDSA", "typ": TOKEN_TYP, "kid": delegate.kid},
                      w.claims(rng, iss=delegate.id, sub=delegate.id, scope=["*"], aip_chain=chain), delegate.key)
        expect, label = "aip_identity_unresolvable", "delegate self-issues a compact token carrying its chain"
    else:
        token = craft({"alg": "EdDSA", "typ": TOKEN_TYP, "kid": w.H.kid},
                      w.claims(rng, iss=w.H.id, sub=delegate.id, scope=["tool:search"], **extra), w.H.key)
        expect, label = "aip_identity_unresolvable", "the chain's holder issues a compact token to a delegate"
    proof = w.proof(rng, token, "search", args, holder=delegate)
    return Attempt(f"{label} (depth {depth})", expect, creds(token, proof), arguments=args)


@category("completion_forgery", "Completion / attestation forgery", "provenance", ("chained",), "AIP-CMP-008, spec/completion.md C1-C5, T1")
def completion_forgery(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    depth = i % 3
    args = w.arguments(rng)
    jti = w.jti(rng)
    hops = w.hops(depth)
    kind = i % 6
    if kind == 4:  # a completion with no invocation before it
        base = w.chain(rng, hops=hops)
        block = completion_block(seq=depth + 1, executor=w.S.id, kid=w.S.kid, jti=jti,
                                 token_hash=token_digest(enc(base)), completed_at=w.now)
        data = w.append(base, w.A, w.S, block)
        return chained_call(w, rng, f"completion block with no invocation (depth {depth})",
                            "aip_completion_invalid", data, arguments=args)
    base = w.chain(rng, hops=hops, inv=Inv("search", args, jti=jti))
    seq = depth + 2
    digest = token_digest(enc(base))
    if kind == 5:
        block = _B.BlockBuilder(
            "aip_attestation({seq}, \"third_party\", {a}, {k}, true, {r}, \"looks fine\", {t});",
            {"seq": seq, "a": w.M.id, "k": w.M.kid, "r": "sha256:" + "cd" * 32, "t": _when_plus(w, 0)})
        return chained_call(w, rng, "attestation block with no completion", "aip_attestation_invalid",
                            w.append(base, w.A, w.M, block), arguments=args)
    variants = [  # (signer, executor named, jti, expected, label)
        (w.M, w.S, jti, "aip_signature_invalid", "completion naming the executor, signed by the attacker"),
        (w.M, w.M, jti, "aip_completion_invalid", "completion by the attacker as executor"),
        (w.S, w.S, w.jti(rng), "aip_completion_invalid", "completion bound to another invocation jti"),
        (w.S, w.S, jti, "aip_completion_invalid", "a genuinely completed chain reused for a new call"),
    ]
    signer, executor, bound, expect, label = variants[kind]
    block = completion_block(seq=seq, executor=executor.id, kid=executor.kid, jti=bound, token_hash=digest,
                             completed_at=w.now, status=rng.choice(["completed", "failed", "partial"]))
    return chained_call(w, rng, f"{label} (depth {depth})", expect, w.append(base, w.A, signer, block),
                        arguments=args)


@category("document_forgery", "Identity document forgery (self-signed document presented inline)", "identity", ("compact", "chained"), "AIP-TOK-007, AIP-TOK-021, AIP-CHN-011")
def document_forgery(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    forger = w.raw_key(f"doc-forger-{i}")
    kid = _pick(rng, i, ["key-1", "key-evil", "key-2", "key-1", "k"])
    victim = w.W.id if i % 7 != 6 else f"aip:web:victim{i}.example.com/agents/boss"
    doc = w.document(victim, [(kid, forger)], (kid, forger))
    expect = ("aip_identity_unresolvable" if victim != w.W.id
              else "aip_signature_invalid" if kid in ("key-1", "key-2") else "aip_key_unknown")
    where = _pick(rng, i // 5, ["header", "claim", "http", "meta"])
    args = w.arguments(rng)
    blob = b64url(json.dumps(doc).encode())
    if mode == "compact":
        header: dict[str, Any] = {"alg": "EdDSA", "typ": TOKEN_TYP, "kid": kid}
        claims = w.claims(rng, iss=victim, scope=["*"])
        if where == "header":
            header["aip_document"] = doc
        if where == "claim":
            claims["aip_document"] = doc
        token = craft(header, claims, forger)
        attempt = compact_call(w, rng, "", expect, token=token, arguments=args)
    else:
        data = w.chain(rng, root=Identity(victim, kid, forger), scopes=["*"], hops=w.hops(i % 3),
                       inv=Inv("search", args),
                       authority_extra="aip_document({doc});" if where in ("header", "claim") else None,
                       authority_params={"doc": json.dumps(doc)} if where in ("header", "claim") else None)
        attempt = chained_call(w, rng, "", expect, data, arguments=args)
    if where == "http":
        attempt.headers["x-aip-identity-document"] = blob
    if where == "meta":
        attempt.meta = {"aip/document": doc}
    attempt.label = f"forged document for {victim[8:30]}.. (kid {kid}) in the {where}"
    return attempt


@category("revoked_keys", "Revoked keys and revoked blocks", "identity", ("chained",), "AIP-REV-001, AIP-REV-002")
def revoked_keys(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    args = w.arguments(rng)
    kind = i % 3
    if kind == 2:
        base = w.revoked_bases[i % len(w.revoked_bases)]
        depth = (i // 3) % 3
        data = w.extend(base, w.hops(depth), Inv("search", args))
        return chained_call(w, rng, f"chain whose block 0 is on the revocation list (depth {depth})",
                            "aip_key_revoked", data, arguments=args)
    revoked = w.R[(i // 3) % 2]
    depth = 1 + (i // 6) % 3
    people = [w.H, *w.D]
    if kind == 0:  # the revoked identity is a delegate that delegates further
        at = rng.randint(1, depth)
        chain_people = [*people[:at], revoked, *people[at:depth + 1]]
        label = f"revoked key delegates at hop {at + 1}"
    else:  # the revoked identity makes the invocation
        chain_people = [*people[:depth], revoked]
        label = "revoked key signs the invocation"
    hops = [Hop(chain_people[k], chain_people[k + 1], context=f"hop {k + 1}") for k in range(len(chain_people) - 1)]
    data = w.chain(rng, max_depth=8, hops=hops, inv=Inv("search", args))
    return chained_call(w, rng, f"{label} (depth {len(hops)})", "aip_key_revoked", data, arguments=args)


# ============================================================================================
# Resource exhaustion and malformed input
# ============================================================================================

@category("oversized", "Oversized token, proof or request", "exhaustion", ("compact", "chained"), "AIP-TOK-002, AIP-PRF-002, AIP-CHN-003, AIP-HTTP-004, AIP-HTTP-011")
def oversized(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    args = w.arguments(rng)
    kind = i % 3
    if kind == 2:  # request body over 1 MiB
        big = dict(args, blob="x" * (1024 * 1024 + rng.randrange(1, 200_000)))
        if mode == "compact":
            return compact_call(w, rng, f"request body of {len(big['blob'])} bytes", "aip_limit_exceeded",
                                arguments=big)
        data = w.chain(rng, hops=w.hops(i % 3), inv=Inv("search", big))
        return chained_call(w, rng, f"request body of {len(big['blob'])} bytes", "aip_limit_exceeded", data,
                            arguments=big)
    if mode == "compact":
        size = rng.randrange(8193 - 600, 14000)
        if kind == 0:
            token = w.token(rng, pad="p" * size)
            return compact_call(w, rng, f"token of {len(token)} characters", "aip_limit_exceeded", token=token,
                                arguments=args)
        token = w.token(rng)
        proof = w.proof(rng, token, "search", args, pad="p" * size)
        return Attempt(f"proof of {len(proof)} characters", "aip_limit_exceeded", creds(token, proof),
                       arguments=args)
    data = w.chain(rng, hops=w.hops(i % 3), inv=Inv("search", args))
    pad = rng.randrange(12300, 30000) - len(data)
    data = data + length_delimited(15, b"\x00" * pad)
    return chained_call(w, rng, f"chain of {len(enc(data))} characters", "aip_limit_exceeded", data,
                        arguments=args)


@category("too_many_blocks", "Too many blocks", "exhaustion", ("chained",), "AIP-CHN-004")
def too_many_blocks(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    args = w.arguments(rng)
    total = 25 + i % 12
    depth = i % 3
    extra = total - depth - 2
    tail = [(w.last_of(depth), _B.BlockBuilder(f"filler({k});"), i % 2 == 0) for k in range(extra)]
    data = w.chain(rng, hops=w.hops(depth), inv=Inv("search", args), tail=tail)
    return chained_call(w, rng, f"{total} blocks ({'plain' if i % 2 == 0 else 'third-party'} filler)",
                        "aip_limit_exceeded", data, arguments=args)


def _nested(depth: int, rng: random.Random) -> Any:
    value: Any = rng.randrange(10)
    for _ in range(depth):
        value = [value] if rng.random() < 0.5 else {"n": value}
    return value


@category("deep_json", "Deeply nested JSON", "exhaustion", ("compact", "chained"), "AIP-JSON-004")
def deep_json(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    depth = _pick(rng, i // 4, [33, 40, 64, 100, 500, 1000, 2000])
    args = w.arguments(rng)
    where = i % 4 if mode == "compact" else 3
    if where == 0:
        header = {"alg": "EdDSA", "typ": TOKEN_TYP, "kid": w.A.kid, "x": _nested(depth - 1, rng)}
        token = craft(header, w.claims(rng), w.A.key)
        return compact_call(w, rng, f"header nested {depth} deep", "aip_limit_exceeded", token=token, arguments=args)
    if where == 1:
        token = w.token(rng, x=_nested(depth - 1, rng))
        return compact_call(w, rng, f"claims nested {depth} deep", "aip_limit_exceeded", token=token, arguments=args)
    if where == 2:
        return compact_call(w, rng, f"proof nested {depth} deep", "aip_limit_exceeded", arguments=args,
                            x=_nested(depth - 1, rng))
    deep = dict(args, x=_nested(depth, rng))
    body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                       "params": {"name": "search", "arguments": deep}}).encode()
    if mode == "compact":
        attempt = compact_call(w, rng, f"arguments nested {depth} deep", "aip_limit_exceeded", arguments=deep)
    else:
        data = w.chain(rng, hops=w.hops(i % 3), inv=Inv("search", deep))
        attempt = chained_call(w, rng, f"arguments nested {depth} deep", "aip_limit_exceeded", data, arguments=deep)
    attempt.raw_body = body
    return attempt


@category("datalog_bomb", "Datalog bomb in a hop", "exhaustion", ("chained",), "AIP-CHN-060, AIP-CHN-061")
def datalog_bomb(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    depth = 1 + i % 3
    at = rng.randint(1, depth)
    hops = w.hops(depth)
    kind = (i // 3) % 3
    if kind == 0:
        n = 33 + rng.randrange(30)
        code = " ".join(f"a({k});" for k in range(n)) + " p($x, $y) <- a($x), a($y);"
        label = f"{n}x{n} cross product"
    elif kind == 1:
        n = 101 + rng.randrange(60)
        code = "r0(0); " + " ".join(f"r{k + 1}($x) <- r{k}($x);" for k in range(n))
        label = f"chain of {n} rules"
    else:
        n = 11 + rng.randrange(8)
        code = " ".join(f"a({k});" for k in range(n)) + " q($x, $y, $z) <- a($x), a($y), a($z);"
        label = f"{n}^3 triple product"
    hops[at - 1].extra = code
    args = w.arguments(rng)
    data = w.chain(rng, hops=hops, inv=Inv("search", args))
    return chained_call(w, rng, f"hop {at}/{depth}: {label}", "aip_limit_exceeded", data, arguments=args)


@category("malformed_encoding", "Malformed token encoding", "malformed", ("compact", "chained"), "AIP-TOK-001, AIP-TOK-003, AIP-CHN-001")
def malformed_encoding(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    args = w.arguments(rng)
    if mode == "compact":
        token = w.token(rng)
        h, p, s = token.split(".")
        claims = _claims_of(token)
        bom = b64url(b"\xef\xbb\xbf" + base64.urlsafe_b64decode(h + "=="))
        dup_alg = b64url(json.dumps({"alg": "EdDSA", "typ": TOKEN_TYP, "kid": w.A.kid}).encode()[:-1]
                         + b', "alg": "none"}')
        dup_scope = b64url(json.dumps(claims).encode()[:-1] + b', "scope": ["*"]}')
        nan = b64url(json.dumps(claims).encode().replace(b'"max_depth": 0', b'"max_depth": NaN'))
        std_sig = base64.b64encode(base64.urlsafe_b64decode(s + "==")).decode()
        not_json, array, empty = b64url(b"not json"), b64url(b"[1,2]"), b64url(b"[]")
        last = "B" if s[-1] != "B" else "C"
        variants = [
            token + "=", f"{h}=.{p}.{s}", f"{h}.{p}.{s}.{s}", f"{h}.{p}", f"{h}..{s}",
            f"{h}.{p}.{std_sig}", f"{h}.{p}.{s[:-4]}", f"{h}.{p}.{s}AAAA",
            f"{not_json}.{p}.{s}", f"{array}.{p}.{s}", f"{bom}.{p}.{s}", f"{dup_alg}.{p}.{s}",
            f"{h}.{empty}.{s}", f"{h}.{dup_scope}.{s}", f"{h}.{nan}.{s}", f"{h}.{p}.{s[:-1]}{last}",
            f"{h}.{p}.{s} x", f"{h}.{p}.{s[:10]}*{s[11:]}", f"{h}.{p}.{s[:10]}+{s[11:]}",
            f"{h}.{p}.{s[:10]}/{s[11:]}",
        ]
        forged = variants[i % len(variants)]
        return compact_call(w, rng, f"encoding defect {i % len(variants)}", "aip_token_malformed", token=forged,
                            arguments=args)
    data = w.chain(rng, hops=w.hops(i % 3), inv=Inv("search", args))
    text = enc(data)
    std = base64.b64encode(data).decode()
    variants = [
        text + "=", text + "==", std if std != text else std + "=", " " + text[1:], text[:40] + "*" + text[41:],
        enc(b"\xff" * (20 + i)), enc(b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
        _noncanonical_end(text),
    ]
    forged = variants[i % len(variants)]
    return Attempt(f"chain encoding defect {i % len(variants)}", "aip_token_malformed", creds(forged.strip() or "x"),
                   arguments=args)


def _noncanonical_end(text: str) -> str:
    """The last character changed so its unused low bits are not zero (AIP-ENC: canonical
    trailing bits); with no unused bits, one character too many (an impossible length)."""
    unused = {2: 4, 3: 2}.get(len(text) % 4, 0)
    if not unused:
        return text + "A"
    value = _B64.index(text[-1]) | 1
    return text[:-1] + _B64[value]


@category("draft01_token", "draft-01 tokens (no audience, jti, key id; plain authority)", "malformed", ("compact", "chained"), "AIP-TOK-029, AIP-CHN-070")
def draft01_token(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    args = w.arguments(rng)
    if mode == "compact":
        drop = _pick(rng, i, [("kid",), ("aud",), ("jti",), ("kid", "aud", "jti"), ("aud", "jti"), ("kid", "jti")])
        claims = w.claims(rng, nbf=None, **{k: None for k in drop if k != "kid"})
        header: dict[str, Any] = {"alg": "EdDSA", "typ": TOKEN_TYP}
        if "kid" not in drop:
            header["kid"] = w.A.kid
        token = craft(header, claims, w.A.key)
        return compact_call(w, rng, f"draft-01 token without {', '.join(drop)}", "aip_token_malformed",
                            token=token, arguments=args)
    scopes = rng.sample(["tool:search", "tool:calc", "tool:admin"], 2)
    code = 'identity({i}); right({r}); max_depth(3); check if tool($t), {s}.contains($t);'
    builder = _B.BiscuitBuilder(code, {"i": w.A.id, "r": scopes[0], "s": set(scopes)})
    token = builder.build(_priv(w.A.key))
    if i % 2:
        token = token.append(_B.BlockBuilder(
            'delegator({a}); delegate({b}); context("draft-01 hop"); check if tool($t), {s}.contains($t);',
            {"a": w.H.id, "b": w.D[0].id, "s": set(scopes)}))
    return chained_call(w, rng, "draft-01 chained token" + (" with a plain hop" if i % 2 else ""),
                        "aip_chain_invalid", bytes(token.to_bytes()), arguments=args)


def _priv(key: Any) -> Any:
    return _B.PrivateKey.from_bytes(key.private_bytes_raw(), _B.Algorithm.Ed25519)


@category("missing_token", "No token (absent, empty, other scheme, reference only)", "malformed", ("compact", "chained"), "AIP-HTTP-006, AIP-HTTP-031")
def missing_token(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    args = w.arguments(rng)
    variants: list[dict[str, str]] = [
        {}, {"authorization": f"Bearer {b64url(rng.randbytes(24))}"}, {"authorization": f"Basic {b64url(rng.randbytes(12))}"},
        {"x-aip-token-ref": f"https://tokens{i}.example.com/t/{b64url(rng.randbytes(8))}"},
        {"authorization": "AIP", "x-aip-proof": "x"}, {"x-aip-token": ""},
        {"authorization": f"Digest {b64url(rng.randbytes(8))}"}, {"cookie": f"aip={b64url(rng.randbytes(20))}"},
    ]
    headers = variants[i % len(variants)]
    return Attempt(f"credentials {sorted(headers)}", "aip_token_missing", dict(headers), arguments=args)


@category("header_smuggling", "Conflicting or repeated credential headers", "malformed", ("compact", "chained"), "AIP-HTTP-003")
def header_smuggling(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    args = w.arguments(rng)
    if mode == "compact":
        one = compact_call(w, rng, "", "", arguments=args)
        two = compact_call(w, rng, "", "", arguments=args, token=w.token(rng, scope=["*"]))
        t1, p1 = one.headers["authorization"][4:], one.headers["x-aip-proof"]
        t2, p2 = two.headers["authorization"][4:], two.headers["x-aip-proof"]
    else:
        t1 = enc(w.chain(rng, hops=w.hops(i % 3), inv=Inv("search", args)))
        t2 = enc(w.chain(rng, scopes=["*"], hops=w.hops(i % 2), inv=Inv("search", args)))
        p1 = p2 = b64url(rng.randbytes(8))
    variants = [
        ("Authorization and X-AIP-Token with different tokens",
         [("authorization", f"AIP {t1}"), ("x-aip-token", t2), ("x-aip-proof", p1)]),
        ("Authorization repeated", [("authorization", f"AIP {t1}"), ("authorization", f"AIP {t2}"), ("x-aip-proof", p1)]),
        ("X-AIP-Token repeated", [("x-aip-token", t1), ("x-aip-token", t2), ("x-aip-proof", p2)]),
        ("X-AIP-Proof repeated", [("authorization", f"AIP {t1}"), ("x-aip-proof", p1), ("x-aip-proof", p2)]),
        ("Authorization repeated with the same token", [("authorization", f"AIP {t1}"), ("authorization", f"AIP {t1}"),
                                                        ("x-aip-proof", p1)]),
    ]
    label, headers = variants[i % len(variants)]
    return Attempt(label, "aip_token_malformed", {}, arguments=args, raw_headers=headers)


@category("batch_smuggling", "tools/call inside a JSON-RPC batch", "malformed", ("compact", "chained"), "AIP-MCP-003")
def batch_smuggling(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    legit_call = legit(w, rng, mode, i)
    call = {"jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": {"name": legit_call.tool, "arguments": legit_call.arguments}}
    extra: list[Any] = [{"jsonrpc": "2.0", "id": 8 + k, "method": "tools/list"} for k in range(i % 3)]
    batch = [call, *extra] if i % 2 == 0 else [*extra, call]
    attempt = Attempt(f"batch of {len(batch)} with a tools/call", "aip_input_invalid", legit_call.headers,
                      arguments=legit_call.arguments, raw_body=json.dumps(batch).encode())
    return attempt


_NEAR = [("tool:fs:*", "fs"), ("tool:search", "Search"), ("tool:search", "SEARCH"), ("tool:search", "search."),
         ("tool:search", "searc"), ("tool:search", "search_x"), ("tool:fs:*", "fsx:read"),
         ("tool:fs:read", "fs:read:extra"), ("tool:calc", "calc/../search"), ("tool:a.b", "a"),
         ("tool:search", "tool:search"), ("tool:fs:read", "fs:Read"), ("tool:fs:*", "f:s"),
         ("tool:x-y", "x_y"), ("tool:search", "search-"), ("tool:fs:*", "fs.read"), ("tool:calc", "calc:add"),
         ("tool:search", "search/"), ("tool:fs:*", "fs-read"), ("tool:search", "Search:*x")]


@category("scope_confusion", "Scope near-misses (case, prefix boundary, separators)", "scope", ("compact", "chained"), "AIP-SCOPE-004, AIP-SCOPE-005")
def scope_confusion(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    granted, tool = _NEAR[i % len(_NEAR)]
    if tool == "Search:*x":
        tool = "Search:x"
    args = w.arguments(rng)
    if mode == "compact":
        token = w.token(rng, scope=[granted])
        return compact_call(w, rng, f"scope {granted} calls {tool}", "aip_scope_insufficient", token=token,
                            tool=tool, arguments=args)
    data = w.chain(rng, scopes=[granted], hops=w.hops(i % 3), inv=Inv(tool, args))
    return chained_call(w, rng, f"scope {granted} calls {tool}", "aip_scope_insufficient", data, tool=tool,
                        arguments=args)


@category("budget_inflation", "Budget ceiling raised or dropped by a hop", "attenuation", ("chained",), "AIP-CHN-032")
def budget_inflation(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    ceiling = rng.choice([100, 500, 1000, 2500, 10000])
    depth = 1 + i % 3
    at = rng.randint(1, depth)
    hops = w.hops(depth)
    for k, hop in enumerate(hops, start=1):
        hop.budget = ceiling
        if k == at:
            hop.budget = -1 if i % 4 == 3 else ceiling + rng.randint(1, 10 * ceiling)
    args = w.arguments(rng)
    data = w.chain(rng, budget=ceiling, hops=hops, inv=Inv("search", args))
    what = "drops" if hops[at - 1].budget == -1 else f"raises to {hops[at - 1].budget}"
    return chained_call(w, rng, f"hop {at}/{depth} {what} the ceiling {ceiling}", "aip_budget_exceeded", data,
                        arguments=args)


@category("attenuation_time_principal", "Expiry extended or principal changed by a hop", "attenuation", ("chained",), "AIP-CHN-031, AIP-CHN-033")
def attenuation_time_principal(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    depth = 1 + i % 3
    at = rng.randint(1, depth)
    hops = w.hops(depth)
    args = w.arguments(rng)
    expires = w.now + 600
    principal = ""
    kind = (i // 3) % 3
    if kind == 0:
        for hop in hops[at - 1:]:
            hop.expires = expires + rng.randint(1, 86400)
        label = "extends the expiry"
    elif kind == 1:
        principal = w.D[4].id
        for hop in hops:
            hop.principal = principal
        hops[at - 1].principal = w.M.id
        label = "changes the principal"
    else:
        hops[at - 1].principal = w.M.id
        label = "adds a principal"
    data = w.chain(rng, expires=expires, principal=principal, hops=hops, inv=Inv("search", args))
    return chained_call(w, rng, f"hop {at}/{depth} {label}", "aip_attenuation_violation", data, arguments=args)


@category("kid_manipulation", "Key id manipulation", "rfc8725", ("compact",), "AIP-TOK-006, AIP-TOK-021")
def kid_manipulation(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    variants: list[tuple[Any, str]] = [
        ("../../../../etc/passwd", "aip_key_unknown"), ("key-1' OR '1'='1", "aip_key_unknown"),
        ("https://attacker.example/key.json", "aip_key_unknown"), (w.B.kid, "aip_key_unknown"),
        (w.M.kid, "aip_key_unknown"), (w.A.kid.upper(), "aip_key_unknown"), (w.A.kid + " ", "aip_key_unknown"),
        ("key-1", "aip_key_unknown"), ("", "aip_token_malformed"), ("k" * 257, "aip_token_malformed"),
        (1, "aip_token_malformed"), (None, "aip_token_malformed"), ([w.A.kid], "aip_token_malformed"),
        ({"kid": w.A.kid}, "aip_token_malformed"), (w.A.kid[:-1], "aip_key_unknown"), ("\u0000", "aip_key_unknown")]
    kid, expect = variants[i % len(variants)]
    header: dict[str, Any] = {"alg": "EdDSA", "typ": TOKEN_TYP}
    if kid is not None:
        header["kid"] = kid
    signer = w.raw_key(f"kid-attacker-{i}")
    token = craft(header, _escalated(w, rng, i), signer)
    return compact_call(w, rng, f"kid {str(kid)[:24]!r}", expect, token=token)


@category("not_yet_valid", "Token not yet valid (nbf / iat in the future)", "time", ("compact",), "AIP-TOK-024, AIP-TOK-025")
def not_yet_valid(w: World, rng: random.Random, i: int, mode: str) -> Attempt:
    ahead = _pick(rng, i // 2, [75, 120, 600, 3600, 7200, 43200]) + rng.randrange(30)
    if i % 2 == 0:
        token = w.token(rng, nbf=w.now + ahead, exp=w.now + ahead + 600)
        label = f"nbf +{ahead}s"
    else:
        token = w.token(rng, iat=w.now + ahead, nbf=None, exp=w.now + ahead + 600)
        label = f"iat +{ahead}s"
    return compact_call(w, rng, label, "aip_token_not_yet_valid", token=token)


