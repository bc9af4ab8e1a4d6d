"""Helpers shared by the suite's tests: a synthetic repository root and the fake implementation."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
FAKE_IMPL = Path(__file__).resolve().parent / "fake_impl.py"

VALID_A = {"result": {"valid": True, "output": {"a": 1, "b": [1, 2]}}}
INVALID_X = {"result": {"valid": False, "error": "aip_x", "message": "nope"}}


def fake(mode: str = "echo", *extra: str) -> list[str]:
    """The argv of the fake implementation in `mode`."""
    return [sys.executable, str(FAKE_IMPL), mode, *extra]


def case(tc_id: int, answer: dict[str, Any], *, result: str = "valid", error: str | None = None,
         expected: dict[str, Any] | None = None, misbehave: bool = False,
         flags: list[str] | None = None, comment: str = "") -> dict[str, Any]:
    inp: dict[str, Any] = {"answer": answer}
    if misbehave:
        inp["misbehave"] = True
    test: dict[str, Any] = {"tcId": tc_id, "comment": comment or f"case {tc_id}",
                            "flags": flags or ["Basic"], "input": inp, "result": result}
    if error is not None:
        test["error"] = error
    if expected is not None:
        test["expected"] = expected
    return test


def vector_file(tests: list[dict[str, Any]], *, profile: str = "synthetic",
                operation: str = "echo") -> dict[str, Any]:
    return {
        "schema": "aip-vectors-v1",
        "profile": profile,
        "generatorVersion": "0.0.1",
        "numberOfTests": len(tests),
        "header": ["synthetic vectors for the suite's own tests"],
        "notes": {
            "Basic": {"description": "a basic case", "requirements": ["AIP-SYN-001"]},
            "Other": {"description": "another case", "requirements": ["AIP-SYN-002"]},
        },
        "testGroups": [{"operation": operation, "now": 1767225600, "trust": {}, "tests": tests}],
    }


def make_root(tmp: Path, files: dict[str, dict[str, Any]] | None = None) -> Path:
    """A repository root in `tmp`: the real schemas, an empty spec/, and the given vectors."""
    root = tmp / "repo"
    (root / "spec").mkdir(parents=True)
    shutil.copytree(REPO / "schemas", root / "schemas")
    for rel, obj in (files or {}).items():
        path = root / "vectors" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(obj, indent=2), encoding="utf-8")
    return root


def standard_cases(*, misbehave_tc2: bool = False) -> list[dict[str, Any]]:
    """Three cases that a well-behaved fake passes: valid+expected, invalid, valid."""
    return [
        case(1, VALID_A, expected={"a": 1}),
        case(2, INVALID_X, result="invalid", error="aip_x", misbehave=misbehave_tc2,
             flags=["Other"]),
        case(3, VALID_A),
    ]
