"""Crafting chained-mode tokens from primitives (biscuit-python, cryptography), never from ``aip``.

Byte reproducibility. biscuit-python draws a fresh random key pair for every block it signs
(the "next key" of the Biscuit proof chain) and 0.4 offers no way to seed it, so the same
recipe gives different bytes on every run. ``vectors check`` regenerates and compares byte
for byte, so the generator keeps a cache, ``_chained_cache.json`` next to this file:

* every *random* step (mint, third-party append, plain append) is keyed by SHA-256 over the
  exact bytes it starts from and the canonical JSON of the step;
* on a hit, the cached output is kept only when it still decodes, still holds the input
  token's blocks unchanged plus exactly one new block, and that new block has the same
  Datalog and external key as a fresh build of the step (otherwise it is rebuilt);
* *deterministic* steps (byte surgery: tamper, remove, reorder, duplicate, splice) are
  recomputed from their input bytes every time and never cached.

So a cache hit is exactly "this step, applied to these bytes, made that token before", and a
regenerated vector file is byte-identical as long as the recipes are. Adding or changing a
recipe adds cache entries; unused entries are dropped when the generator writes the cache.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import biscuit_auth
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ._common import b64url, jcs, public_raw

__all__ = ["Builder", "Step"]

_CACHE = Path(__file__).with_name("_chained_cache.json")
_B: Any = biscuit_auth

AUTHORITY = ("aip_authority({identity}, {kid}, {holder}, {scopes}, {max_depth}, {expires}, "
             "{budget_ceiling}, {principal});")
DELEGATION = ("aip_delegation({seq}, {delegator}, {kid}, {delegate}, {context}, {scopes}, "
              "{expires}, {budget_ceiling}, {principal});")
INVOCATION = ("aip_invocation({seq}, {invoker}, {kid}, {audience}, {operation}, {tool}, "
              "{args_hash}, {jti}, {iat});")

Step = dict[str, Any]


def _when(seconds: int) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(seconds, tz=_dt.UTC)


def _priv(key: Ed25519PrivateKey) -> Any:
    return _B.PrivateKey.from_bytes(key.private_bytes_raw(), _B.Algorithm.Ed25519)


def _pub(key: Ed25519PrivateKey) -> Any:
    return _B.PublicKey.from_bytes(public_raw(key), _B.Algorithm.Ed25519)


def _scope_check(scopes: Sequence[str]) -> tuple[str, dict[str, Any]]:
    if "*" in scopes:
        return "check if tool($t);", {}
    exact = {s for s in scopes if not s.endswith("*")}
    prefixes = sorted(s[:-1] for s in scopes if s.endswith("*"))
    params: dict[str, Any] = {}
    parts = []
    if exact:
        params["aip_exact"] = exact
        parts.append("tool($t), {aip_exact}.contains($t)")
    for i, prefix in enumerate(prefixes):
        params[f"aip_prefix{i}"] = prefix
        parts.append(f"tool($t), $t.starts_with({{aip_prefix{i}}})")
    return "check if " + " or ".join(parts) + ";", params


def block_builder(step: Step) -> Any:
    """The BlockBuilder of a random step (values only ever as parameters)."""
    kind = step["kind"]
    if kind == "raw":
        return _B.BlockBuilder(step["code"], step.get("params") or None)
    f = step["fields"]
    if kind == "authority":
        b = _B.BlockBuilder(AUTHORITY, {
            "identity": f["identity"], "kid": f["kid"], "holder": f["holder"],
            "scopes": " ".join(f["scopes"]), "max_depth": f["max_depth"],
            "expires": _when(f["expires"]), "budget_ceiling": f.get("budget_ceiling", -1),
            "principal": f.get("principal", "")})
    elif kind == "delegation":
        b = _B.BlockBuilder(DELEGATION, {
            "seq": f["seq"], "delegator": f["delegator"], "kid": f["kid"],
            "delegate": f["delegate"], "context": f["context"], "scopes": " ".join(f["scopes"]),
            "expires": _when(f["expires"]), "budget_ceiling": f.get("budget_ceiling", -1),
            "principal": f.get("principal", "")})
    elif kind == "invocation":
        return _B.BlockBuilder(INVOCATION, {
            "seq": f["seq"], "invoker": f["invoker"], "kid": f["kid"],
            "audience": f["audience"], "operation": f["operation"], "tool": f["tool"],
            "args_hash": f["args_hash"], "jti": f["jti"], "iat": _when(f["iat"])})
    else:
        raise ValueError(kind)
    if step.get("checks", True):
        check, params = _scope_check(f["scopes"])
        b.add_code(check, params)
        b.add_code("check if time($t), $t <= {aip_expires};", {"aip_expires": _when(f["expires"])})
    if step.get("extra"):
        b.add_code(step["extra"], step.get("extra_params") or None)
    return b


# --- protobuf surgery on the top-level Biscuit message -------------------------------------

def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def split(data: bytes) -> list[tuple[int, bytes]]:
    """Top-level fields as (field number, raw encoded field bytes)."""
    out = []
    pos = 0
    while pos < len(data):
        start = pos
        key, pos = _read_varint(data, pos)
        wire = key & 7
        if wire == 0:
            _, pos = _read_varint(data, pos)
        elif wire == 2:
            length, pos = _read_varint(data, pos)
            pos += length
        else:
            raise ValueError("unexpected wire type")
        out.append((key >> 3, data[start:pos]))
    return out


def field_payload(raw: bytes) -> bytes:
    _, pos = _read_varint(raw, 0)
    length, pos = _read_varint(raw, pos)
    return raw[pos:pos + length]


def length_delimited(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


# --- the builder -----------------------------------------------------------------------------

@dataclass
class Builder:
    keys: dict[str, Ed25519PrivateKey]
    cache: dict[str, str]
    used: set[str]

    @classmethod
    def load(cls, keys: dict[str, Ed25519PrivateKey]) -> Builder:
        cache = json.loads(_CACHE.read_text()) if _CACHE.exists() else {}
        return cls(keys, cache, set())

    def save(self) -> None:
        kept = {k: self.cache[k] for k in sorted(self.used)}
        text = json.dumps(kept, indent=0, sort_keys=True) + "\n"
        if not _CACHE.exists() or _CACHE.read_text() != text:
            _CACHE.write_text(text)

    def build(self, steps: Sequence[Step]) -> bytes:
        data = b""
        for step in steps:
            data = self.apply(data, step)
        return data

    def apply(self, data: bytes, step: Step) -> bytes:
        op = step["op"]
        if op in ("mint", "third_party", "append"):
            return self._random(data, step)
        return self._surgery(data, step)

    def _fresh(self, data: bytes, step: Step) -> Any:
        block = block_builder(step)
        if step["op"] == "mint":
            builder = _B.BiscuitBuilder()
            builder.merge(block)
            return builder.build(_priv(self.keys[step["signer"]]))
        token = _B.Biscuit.from_bytes(data, _pub(self.keys[step["root"]]))
        if step["op"] == "append":
            return token.append(block)
        request = token.third_party_request()
        signed = request.create_block(_priv(self.keys[step["signer"]]), block)
        external: str = step.get("external") or step["signer"]
        return token.append_third_party(_pub(self.keys[external]), signed)

    def _random(self, data: bytes, step: Step) -> bytes:
        key = hashlib.sha256(hashlib.sha256(data).digest() + jcs(step)).hexdigest()
        fresh = self._fresh(data, step)
        cached = self.cache.get(key)
        if cached is not None and self._same(data, cached, fresh, step):
            self.used.add(key)
            return base64_decode(cached)
        out = bytes(fresh.to_bytes())
        self.cache[key] = b64url(out)
        self.used.add(key)
        return out

    def _same(self, data: bytes, cached: str, fresh: Any, step: Step) -> bool:
        """The cached token holds ``data``'s blocks unchanged plus one block equal (Datalog
        and external key) to the fresh build of ``step``."""
        try:
            raw = base64_decode(cached)
            root = step["signer"] if step["op"] == "mint" else step["root"]
            token = _B.Biscuit.from_bytes(raw, _pub(self.keys[root]))
        except Exception:
            return False
        count = token.block_count()
        if count != fresh.block_count():
            return False
        if data:
            before = [f for f in split(data) if f[0] in (2, 3)]
            after = [f for f in split(raw) if f[0] in (2, 3)]
            if after[:len(before)] != before or len(after) != len(before) + 1:
                return False
        last = count - 1
        ext_a, ext_b = token.block_external_key(last), fresh.block_external_key(last)
        same_ext = (ext_a is None and ext_b is None) or (
            ext_a is not None and ext_b is not None and ext_a.to_bytes() == ext_b.to_bytes())
        return bool(same_ext and token.block_source(last) == fresh.block_source(last))

    def _surgery(self, data: bytes, step: Step) -> bytes:
        op = step["op"]
        fields = split(data)
        blocks = [i for i, (n, _) in enumerate(fields) if n == 3]
        if op == "flip":  # flip one bit at a byte offset counted from the end
            out = bytearray(data)
            out[len(out) - step["from_end"]] ^= step.get("mask", 1)
            return bytes(out)
        if op == "flip_text":  # flip one bit of a known ASCII string (structure unchanged)
            at = data.index(step["needle"].encode())
            out = bytearray(data)
            out[at + step.get("offset", 0)] ^= step.get("mask", 2)
            return bytes(out)
        if op == "flip_sig":  # flip one bit of signed block n's signature
            n = step["block"]
            index = blocks[n - 1] if n > 0 else next(i for i, f in enumerate(fields) if f[0] == 2)
            inner = split(field_payload(fields[index][1]))
            for j, (number, raw) in enumerate(inner):
                if number == 3:
                    sig = bytearray(field_payload(raw))
                    sig[0] ^= 1
                    inner[j] = (3, length_delimited(3, bytes(sig)))
            payload = b"".join(f for _, f in inner)
            fields[index] = (fields[index][0], length_delimited(fields[index][0], payload))
            return b"".join(f for _, f in fields)
        if op == "remove":
            del fields[blocks[step["block"] - 1]]
            return b"".join(f for _, f in fields)
        if op == "swap":
            a, b = blocks[step["a"] - 1], blocks[step["b"] - 1]
            fields[a], fields[b] = fields[b], fields[a]
            return b"".join(f for _, f in fields)
        if op == "duplicate":
            at = blocks[step["block"] - 1]
            fields.insert(at + 1, fields[at])
            return b"".join(f for _, f in fields)
        if op == "splice":  # replace block n by block m of another token
            other = split(base64_decode(step["donor"]))
            donor_blocks = [f for f in other if f[0] == 3]
            fields[blocks[step["block"] - 1]] = donor_blocks[step["donor_block"] - 1]
            return b"".join(f for _, f in fields)
        if op == "pad":  # make the token oversized with an unknown, ignored field
            return data + length_delimited(15, b"\x00" * step["bytes"])
        raise ValueError(op)


def base64_decode(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
