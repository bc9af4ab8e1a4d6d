"""Fuzz targets, one per wire format. Each takes raw bytes from the fuzzer; the only exception
allowed to escape is :class:`aip.AIPError` carrying a registry code (issue 7, fuzzing).

Run one with atheris for a bounded time, for example::

    .venv/bin/python fuzz/run.py identity_document --minutes 2

Targets are plain functions so that the hypothesis property tests and atheris share them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from aip import ERROR_CODES, AIPError, parse_identifier, verify_document
from aip._json import loads_strict

NOW = 1767225600

Target = Callable[[bytes], None]
TARGETS: dict[str, Target] = {}


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
            raise AssertionError(f"bad error {exc.code!r}: {exc.reason!r}") from exc


@target("identifier")
def fuzz_identifier(data: bytes) -> None:
    expect_aip_errors(lambda: parse_identifier(data.decode("utf-8", "replace")))


@target("identity_document")
def fuzz_identity_document(data: bytes) -> None:
    expect_aip_errors(lambda: verify_document(data, now=NOW))


@target("strict_json")
def fuzz_strict_json(data: bytes) -> None:
    expect_aip_errors(lambda: loads_strict(data, code="aip_token_malformed", what="fuzz input",
                                           max_bytes=64 * 1024))


# Which vector inputs seed each target's corpus: (vector file, input member).
SEEDS: dict[str, tuple[str, str]] = {
    "identifier": ("identity/identifiers.json", "identifier"),
    "identity_document": ("identity/documents.json", "document"),
    "strict_json": ("identity/documents.json", "document"),
}


def seed_corpus(name: str, folder: Path) -> int:
    """Write the vector inputs of ``name``'s wire format into ``folder``; return the count."""
    if name not in SEEDS:
        return 0
    vectors = Path(__file__).resolve().parents[1] / "vectors"
    file, member = SEEDS[name]
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for group in json.loads((vectors / file).read_text())["testGroups"]:
        for test in group["tests"]:
            value = test["input"].get(member)
            if isinstance(value, str):
                data = value.encode("utf-8", "surrogatepass")
                (folder / hashlib.sha256(data).hexdigest()[:16]).write_bytes(data)
                count += 1
    return count
