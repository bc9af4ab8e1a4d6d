"""The completion vectors against the reference harness, case by case, and the suite's output
checks shown to catch a wrong completion block, attestation and receipt."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aip.harness import handle
from aip_conformance.checks_completion import OUTPUT_CHECKS

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "completion"


def _cases() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    out = []
    for path in sorted(VECTORS.glob("*.json")):
        data = json.loads(path.read_text())
        for group in data["testGroups"]:
            for test in group["tests"]:
                out.append((f"{path.stem}#{test['tcId']}", group, test))
    return out


CASES = _cases()


def test_at_least_forty_vectors() -> None:
    assert len(CASES) >= 40


def _run(group: dict[str, Any], test: dict[str, Any]) -> dict[str, Any]:
    answer = handle({"cmd": "run", "seq": 1, "case": {
        "id": "x", "operation": group["operation"], "now": group["now"],
        "trust": group["trust"], "input": test["input"]}})
    assert answer is not None and "result" in answer, answer
    result: dict[str, Any] = answer["result"]
    return result


@pytest.mark.parametrize(("case_id", "group", "test"), CASES, ids=[c[0] for c in CASES])
def test_vector(case_id: str, group: dict[str, Any], test: dict[str, Any]) -> None:
    result = _run(group, test)
    if test["result"] == "invalid":
        assert result == {**result, "valid": False, "error": test["error"]}, case_id
        return
    assert result["valid"], result
    check = OUTPUT_CHECKS.get(group["operation"])
    if check is not None:
        assert check(test["input"], result["output"]) == []


def _issuance(operation: str) -> tuple[dict[str, Any], dict[str, Any]]:
    for _, group, test in CASES:
        if group["operation"] == operation and test["result"] == "valid":
            return test["input"], _run(group, test)["output"]
    raise AssertionError(operation)


def test_checks_catch_a_completion_with_other_values() -> None:
    case_input, output = _issuance("chained.complete")
    assert OUTPUT_CHECKS["chained.complete"]({**case_input, "status": "completed"}, output)
    assert OUTPUT_CHECKS["chained.complete"]({**case_input, "tokens_used": 11}, output)
    # The input token itself (no completion block appended) is refused too.
    assert OUTPUT_CHECKS["chained.complete"](case_input, {"token": case_input["token"]})


def test_checks_catch_a_wrong_attestation_and_receipt() -> None:
    case_input, output = _issuance("chained.attest")
    assert OUTPUT_CHECKS["chained.attest"]({**case_input, "kind": "third_party"}, output)
    case_input, output = _issuance("receipt.create")
    assert OUTPUT_CHECKS["receipt.create"](case_input, output) == []
    h, p, s = output["receipt"].split(".")
    assert OUTPUT_CHECKS["receipt.create"](case_input, {"receipt": f"{h}.{p}.{s[:-4]}AAAA"})
    assert OUTPUT_CHECKS["receipt.create"]({**case_input, "result_hash": "sha256:" + "f" * 64},
                                           output)
