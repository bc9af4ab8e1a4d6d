"""Fuzz targets, one per wire format. Each takes raw bytes from the fuzzer; the only exception
allowed to escape the reference is :class:`aip.AIPError` carrying a registry code (issue 7,
fuzzing; spec/errors.md AIP-ERR-001).

Run one with atheris for a bounded time, for example::

    .venv/bin/python fuzz/run.py compact_token --minutes 2 --corpus build/fuzz/compact_token

Targets are plain functions so that the hypothesis property tests and atheris share them.

Most targets put the fuzz input in place of one member of a *valid* vector case (same trust,
clock and request) and send the case through ``aip.harness.handle``, the reference's harness
adapter, so that the fuzzer starts from inputs that pass every check and mutates one wire
object at a time. The adapter turns an :class:`AIPError` into an ``invalid`` answer and any
other exception into ``errored``; an ``errored`` answer, or an error code outside the
registry, or a multi-line message, is a finding.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aip import ERROR_CODES, AIPError, parse_identifier, verify_document
from aip._json import loads_strict
from aip.harness import handle

NOW = 1767225600
VECTORS = Path(__file__).resolve().parents[1] / "vectors"

Target = Callable[[bytes], None]
TARGETS: dict[str, Target] = {}


class Finding(AssertionError):
    """A fuzz input made the reference misbehave (not a clean AIP error)."""


def target(name: str) -> Callable[[Target], Target]:
    def register(fn: Target) -> Target:
        TARGETS[name] = fn
        return fn

    return register


def expect_aip_errors(fn: Callable[[], object]) -> None:
    try:
        fn()
    except AIPError as exc:
        if exc.code not in ERROR_CODES or "\n" in exc.reason:
            raise Finding(f"bad error {exc.code!r}: {exc.reason!r}") from exc


def check_answer(answer: dict[str, Any] | None) -> dict[str, Any]:
    """An answer of the harness adapter must be a result (valid, or invalid with a registry
    code and a one-line message)."""
    if answer is None or "result" not in answer:
        raise Finding(f"not a result: {json.dumps(answer)[:2000]}")
    result = answer["result"]
    if not result["valid"]:
        if result["error"] not in ERROR_CODES:
            raise Finding(f"unregistered code {result['error']!r}")
        if "\n" in result["message"] or "\r" in result["message"]:
            raise Finding(f"multi-line message {result['message']!r}")
    return answer


# --- vector templates ---------------------------------------------------------------------------

@functools.cache
def _template(file: str, operation: str, member: str) -> dict[str, Any]:
    """The first valid case of ``file`` whose operation is ``operation`` and whose input has
    ``member``: the case the fuzz input is put into."""
    for group in json.loads((VECTORS / file).read_text(encoding="utf-8"))["testGroups"]:
        if group["operation"] != operation:
            continue
        for test in group["tests"]:
            if test["result"] == "valid" and member in test["input"]:
                return {"id": f"fuzz/{file}", "operation": operation, "now": group["now"],
                        "trust": group.get("trust", {}), "input": dict(test["input"])}
    raise LookupError(f"no valid {operation} case with {member!r} in {file}")


def run_case(file: str, operation: str, member: str, value: Any) -> dict[str, Any]:
    case = json.loads(json.dumps(_template(file, operation, member)))
    case["input"][member] = value
    return check_answer(handle({"cmd": "run", "seq": 1, "case": case}))


def _text(data: bytes) -> str:
    """Bytes as a wire string: UTF-8 where valid, each other byte as one code point."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# --- targets ------------------------------------------------------------------------------------

@target("identifier")
def fuzz_identifier(data: bytes) -> None:
    expect_aip_errors(lambda: parse_identifier(data.decode("utf-8", "replace")))


@target("identity_document")
def fuzz_identity_document(data: bytes) -> None:
    expect_aip_errors(lambda: verify_document(data, now=NOW))
    run_case("identity/documents.json", "document.verify", "document", _text(data))


@target("strict_json")
def fuzz_strict_json(data: bytes) -> None:
    expect_aip_errors(lambda: loads_strict(data, code="aip_token_malformed", what="fuzz input",
                                           max_bytes=64 * 1024))


@target("compact_token")
def fuzz_compact_token(data: bytes) -> None:
    """A compact token (JWS compact serialization) in a bearer verification."""
    run_case("compact/tokens.json", "compact.verify", "token", _text(data))


@target("proof")
def fuzz_proof(data: bytes) -> None:
    """An invocation proof JWT next to a valid token, for a fixed request."""
    run_case("compact/proofs.json", "compact.verify", "proof", _text(data))


@target("chained_token")
def fuzz_chained_token(data: bytes) -> None:
    """Raw Biscuit bytes (the fuzzer works below base64url) as an invoked chained token,
    verified against the vector's request."""
    run_case("chained/invocation.json", "chained.verify", "token", _b64(data))


@target("chained_token_text")
def fuzz_chained_token_text(data: bytes) -> None:
    """The chained token as text (base64url defects, sizes)."""
    run_case("chained/chains.json", "chained.verify", "token", _text(data))


@target("revocation_list")
def fuzz_revocation_list(data: bytes) -> None:
    """A signed revocation list (JWS) consulted by a chained verification."""
    run_case("chained/revocation.json", "chained.verify", "revocation_lists", [_text(data)])


@target("receipt")
def fuzz_receipt(data: bytes) -> None:
    """A compact-mode completion receipt (JWS) in an audit of token + proof + receipt."""
    run_case("completion/compact.json", "audit.verify", "receipt", _text(data))


@target("completed_chain")
def fuzz_completed_chain(data: bytes) -> None:
    """Raw Biscuit bytes as a chain with completion and attestation blocks, audited."""
    run_case("completion/chained.json", "audit.verify", "token", _b64(data))


@target("harness_case")
def fuzz_harness_case(data: bytes) -> None:
    """A whole harness ``run`` request (any operation, any input) as JSON."""
    try:
        case = json.loads(data)
    except (ValueError, RecursionError):
        return
    if not isinstance(case, dict):
        return
    answer = handle({"cmd": "run", "seq": 1, "case": case})
    if answer is not None and ("result" in answer or "skipped" in answer):
        if "result" in answer:
            check_answer(answer)
        return
    if answer is not None and "errored" in answer and not _well_formed(case):
        return  # a request the suite would never send (the adapter reports it, by design)
    raise Finding(f"errored: {json.dumps(answer)[:2000]}")


def _well_formed(case: dict[str, Any]) -> bool:
    """Is ``case`` shaped like a harness case (what the suite's schema allows)?"""
    return (isinstance(case.get("operation"), str) and isinstance(case.get("input"), dict)
            and isinstance(case.get("trust", {}), dict)
            and type(case.get("now", 0)) is int and isinstance(case.get("id", ""), str))


# --- seeds --------------------------------------------------------------------------------------

def _b64_or_none(value: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        return None


# Which vector inputs seed each target's corpus: (vector file, input member, transform).
def _raw(value: Any) -> bytes | None:
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else None


def _first(value: Any) -> bytes | None:
    return _raw(value[0]) if isinstance(value, list) and value else None


def _biscuit(value: Any) -> bytes | None:
    return _b64_or_none(value) if isinstance(value, str) else None


SEEDS: dict[str, list[tuple[str, str, Callable[[Any], bytes | None]]]] = {
    "identifier": [("identity/identifiers.json", "identifier", _raw)],
    "identity_document": [("identity/documents.json", "document", _raw)],
    "strict_json": [("identity/documents.json", "document", _raw)],
    "compact_token": [("compact/tokens.json", "token", _raw)],
    "proof": [("compact/proofs.json", "proof", _raw)],
    "chained_token": [(f"chained/{f}.json", "token", _biscuit)
                      for f in ("chains", "invocation", "attacks", "revocation")],
    "chained_token_text": [("chained/chains.json", "token", _raw)],
    "revocation_list": [("chained/revocation.json", "revocation_lists", _first)],
    "receipt": [("completion/compact.json", "receipt", _raw)],
    "completed_chain": [("completion/chained.json", "token", _biscuit)],
}


def seeds(name: str) -> list[bytes]:
    """The vector inputs of ``name``'s wire format (deduplicated, in file order)."""
    if name == "harness_case":
        out = []
        for path in sorted(VECTORS.glob("*/*.json")):
            for group in json.loads(path.read_text(encoding="utf-8"))["testGroups"]:
                for test in group["tests"][:3]:
                    case = {"id": "seed", "operation": group["operation"], "now": group["now"],
                            "trust": group.get("trust", {}), "input": test["input"]}
                    out.append(json.dumps(case).encode())
        return out
    found: dict[bytes, None] = {}
    for file, member, transform in SEEDS.get(name, []):
        for group in json.loads((VECTORS / file).read_text(encoding="utf-8"))["testGroups"]:
            for test in group["tests"]:
                if member in test["input"]:
                    data = transform(test["input"][member])
                    if data is not None:
                        found[data] = None
    return list(found)


def seed_corpus(name: str, folder: Path) -> int:
    """Write the vector inputs of ``name``'s wire format into ``folder``; return the count."""
    folder.mkdir(parents=True, exist_ok=True)
    items = seeds(name)
    for data in items:
        (folder / hashlib.sha256(data).hexdigest()[:16]).write_bytes(data)
    return len(items)
