"""Primitives shared by the vector generators: seeded keys, encodings, the vector-file shape.

Everything here is built on cryptography, base58 and rfc8785 directly; nothing comes from
``aip`` so that the reference is checked against bytes it did not make.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import base58
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = [
    "GENERATOR_VERSION",
    "NOW",
    "VectorFile",
    "b64url",
    "ed25519_multibase",
    "jcs",
    "key_id",
    "public_raw",
    "rfc3339",
    "seeded_key",
]

NOW = 1767225600  # 2026-01-01T00:00:00Z, the fixed clock of every vector
GENERATOR_VERSION = "1.0.0"


def seeded_key(label: str) -> Ed25519PrivateKey:
    """A deterministic Ed25519 key: the seed is SHA-256 of a public label (test keys only)."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"aip-vectors/" + label.encode()).digest())


def public_raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def ed25519_multibase(raw: bytes) -> str:
    """``z`` + base58btc(0xED 0x01 || key): the did:key form AIP settles on."""
    return "z" + base58.b58encode(b"\xed\x01" + raw).decode("ascii")


def key_id(key: Ed25519PrivateKey) -> str:
    return "aip:key:ed25519:" + ed25519_multibase(public_raw(key))


def jcs(value: Any) -> bytes:
    out: bytes = rfc8785.dumps(value)
    return out


def rfc3339(seconds: int) -> str:
    import datetime as _dt

    return _dt.datetime.fromtimestamp(seconds, tz=_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass
class VectorFile:
    """Accumulates groups and tests, numbering tcIds, and emits the Wycheproof-style object."""

    profile: str
    header: list[str]
    notes: dict[str, dict[str, Any]]
    groups: list[dict[str, Any]] = field(default_factory=list)
    _next: int = 1

    def group(self, operation: str, *, now: int = NOW, trust: dict[str, Any] | None = None) -> list[
        dict[str, Any]
    ]:
        tests: list[dict[str, Any]] = []
        self.groups.append({"operation": operation, "now": now, "trust": trust or {}, "tests": tests})
        return tests

    def add(
        self,
        tests: list[dict[str, Any]],
        comment: str,
        flags: list[str],
        input: dict[str, Any],
        *,
        error: str | None = None,
        expected: dict[str, Any] | None = None,
    ) -> None:
        for flag in flags:
            if flag not in self.notes:
                raise KeyError(f"flag {flag!r} has no note")
        test: dict[str, Any] = {"tcId": self._next, "comment": comment, "flags": flags, "input": input,
                                "result": "invalid" if error else "valid"}
        if error:
            test["error"] = error
        if expected is not None:
            test["expected"] = expected
        tests.append(test)
        self._next += 1

    def build(self) -> dict[str, Any]:
        count = sum(len(g["tests"]) for g in self.groups)
        return {
            "schema": "aip-vectors-v1",
            "profile": self.profile,
            "generatorVersion": GENERATOR_VERSION,
            "numberOfTests": count,
            "header": self.header,
            "notes": self.notes,
            "testGroups": self.groups,
        }
