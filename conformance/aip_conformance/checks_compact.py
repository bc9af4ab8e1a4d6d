"""Independent checks of tokens and proofs an implementation issued (compact profile).

Valid `compact.issue` and `proof.create` cases cannot be compared by value (JSON member order
and whitespace may differ), so the runner passes their input and output here. Each function
returns a list of problems (empty when the output is right), checking with primitives only:
the JWS shape, strict base64url, the header, the claims, and the Ed25519 signature under the
public key derived from the private key the case supplied. Never imports ``aip``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ._b64 import b64url_or_none as _b64d

__all__ = ["OUTPUT_CHECKS", "check_created_proof", "check_issued_token", "check_output"]


def _no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate member {k!r}")
        out[k] = v
    return out


def _decode(jws: object, problems: list[str]) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes] | None:
    if not isinstance(jws, str):
        problems.append("output is not a string")
        return None
    parts = jws.split(".")
    if len(parts) != 3:
        problems.append(f"{len(parts)} segments, not 3")
        return None
    decoded = [_b64d(p) for p in parts]
    if any(d is None for d in decoded):
        problems.append("a segment is not unpadded canonical base64url")
        return None
    h, p, s = (d for d in decoded if d is not None)
    try:
        header = json.loads(h, object_pairs_hook=_no_dupes)
        claims = json.loads(p, object_pairs_hook=_no_dupes)
    except ValueError as exc:
        problems.append(f"header or payload is not strict JSON: {exc}")
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        problems.append("header or payload is not a JSON object")
        return None
    return header, claims, s, f"{parts[0]}.{parts[1]}".encode("ascii")


def _signature_ok(jwk: Mapping[str, Any], signature: bytes, signing_input: bytes,
                  problems: list[str]) -> None:
    seed = _b64d(str(jwk.get("d", "")))
    if seed is None or len(seed) != 32:
        problems.append("case key is unusable (suite bug)")
        return
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    try:
        public.verify(signature, signing_input)
    except InvalidSignature:
        problems.append("signature does not verify under the case's key")


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def check_issued_token(case_input: Mapping[str, Any], output: Mapping[str, Any]) -> list[str]:
    """`compact.issue`: header alg EdDSA, typ aip+jwt, kid of the key; payload equal to the
    claims asked for; no embedded keys or crit; signature valid under the key."""
    problems: list[str] = []
    got = _decode(output.get("token"), problems)
    if got is None:
        return problems
    header, claims, signature, signing_input = got
    key = case_input.get("key") or {}
    want_kid = key.get("kid", case_input.get("claims", {}).get("iss"))
    if header.get("alg") != "EdDSA":
        problems.append(f"header alg is {header.get('alg')!r}")
    if header.get("typ") != "aip+jwt":
        problems.append(f"header typ is {header.get('typ')!r}")
    if header.get("kid") != want_kid:
        problems.append(f"header kid is {header.get('kid')!r}, expected {want_kid!r}")
    for name in ("jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256", "crit"):
        if name in header:
            problems.append(f"header carries {name!r}")
    if claims != case_input.get("claims"):
        problems.append("payload claims differ from the claims asked for")
    _signature_ok(key, signature, signing_input, problems)
    return problems


def check_created_proof(case_input: Mapping[str, Any], output: Mapping[str, Any]) -> list[str]:
    """`proof.create`: typ aip-proof+jwt, claims bound to the token and the request, digests
    computed independently (SHA-256, RFC 8785), signature valid under the holder's key."""
    problems: list[str] = []
    got = _decode(output.get("proof"), problems)
    if got is None:
        return problems
    header, claims, signature, signing_input = got
    if header.get("alg") != "EdDSA" or header.get("typ") != "aip-proof+jwt":
        problems.append(f"header alg/typ are {header.get('alg')!r}/{header.get('typ')!r}")
    for name in ("jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256", "crit"):
        if name in header:
            problems.append(f"header carries {name!r}")
    key = case_input.get("key") or {}
    holder = case_input.get("holder")
    if "kid" in header and header["kid"] != key.get("kid", holder):
        problems.append(f"header kid is {header['kid']!r}")
    if "kid" not in header and str(holder).startswith("aip:web:"):  # AIP-PRF-001
        problems.append("header has no kid, required for an aip:web holder")
    token = str(case_input.get("token", ""))
    want: dict[str, Any] = {
        "iss": holder, "aud": case_input.get("audience"), "iat": case_input.get("iat"),
        "jti": case_input.get("jti"), "op": case_input.get("operation"),
        "token_hash": _sha256(token.encode("ascii")),
        "args_hash": _sha256(rfc8785.dumps(case_input.get("arguments") or {})),
    }
    if case_input.get("tool") is not None:
        want["tool"] = case_input["tool"]
    if want["jti"] is None:  # no jti asked for: the holder picks a fresh one (AIP-PRF-013)
        jti = claims.get("jti")
        if not isinstance(jti, str) or not 1 <= len(jti) <= 128:
            problems.append(f"claim jti is {jti!r}, not a string of 1..128 characters")
        del want["jti"]
    for name, value in want.items():
        if claims.get(name) != value:
            problems.append(f"claim {name} is {claims.get(name)!r}, expected {value!r}")
    if case_input.get("tool") is None and "tool" in claims:
        problems.append("claim tool present but no tool was called")
    _signature_ok(key, signature, signing_input, problems)
    return problems


OUTPUT_CHECKS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]]] = {
    "compact.issue": check_issued_token,
    "proof.create": check_created_proof,
}


def check_output(operation: str, case_input: Mapping[str, Any], output: Mapping[str, Any]) -> list[str]:
    """Problems with a valid answer's output for operations that need an independent check."""
    check = OUTPUT_CHECKS.get(operation)
    return check(case_input, output) if check else []
