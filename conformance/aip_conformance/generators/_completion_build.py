"""Chained builder for completion vectors: ``_chained_build.Builder`` with its own cache file.

The byte-reproducibility mechanism is the one of ``_chained_build`` (see its module
documentation); only the cache lives in ``_completion_cache.json`` so that the two generators
never drop each other's entries. One extra deterministic step, ``patch``, replaces one
occurrence of a byte string by another of the same length (an altered value inside a signed
block, structure unchanged); it is never cached.
"""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ._chained_build import Builder, Step, base64_decode

__all__ = ["CompletionBuilder", "varint"]

_CACHE = Path(__file__).with_name("_completion_cache.json")


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


class CompletionBuilder(Builder):
    @classmethod
    def load(cls, keys: dict[str, Ed25519PrivateKey]) -> CompletionBuilder:
        cache = json.loads(_CACHE.read_text()) if _CACHE.exists() else {}
        return cls(keys, cache, set())

    def save(self) -> None:
        kept = {k: self.cache[k] for k in sorted(self.used)}
        text = json.dumps(kept, indent=0, sort_keys=True) + "\n"
        if not _CACHE.exists() or _CACHE.read_text() != text:
            _CACHE.write_text(text)

    def _surgery(self, data: bytes, step: Step) -> bytes:
        if step["op"] == "patch":
            old, new = bytes.fromhex(step["old"]), bytes.fromhex(step["new"])
            assert len(old) == len(new) and data.count(old) == 1, step
            return data.replace(old, new)
        return super()._surgery(data, step)


_ = base64_decode
