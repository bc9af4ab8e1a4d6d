"""The conformance suite, in process: every vector case through ``aip.harness.handle``,
scored by the suite's own ``score`` (valid/invalid, error code, expected output, the suite's
output checks) after the suite's answer-schema check. One test per case, so that mutmut runs
only the cases that reach a mutated function. Used only by ``eval/mutation/run.py``; the
subprocess equivalent is ``aip-conformance run``."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

import aip
from aip.harness import handle
from aip_conformance._harness import Answer
from aip_conformance._runner import score
from aip_conformance._schemas import schema_errors
from aip_conformance._vectors import iter_cases, load_all_vectors

# Run under a local time zone that is neither UTC nor a whole number of hours away from it
# (UTC-03:30), so that code leaning on the process's local zone (a naive datetime where the
# wire says UTC) computes wrong times and fails the time-boundary vectors instead of passing
# only because the machine happens to be on UTC (_time.parse_time mutant #10).
os.environ["TZ"] = "America/St_Johns"
time.tzset()

ROOT = Path(os.environ.get("AIP_REPO_ROOT", Path(__file__).resolve().parents[2]))
CASES = {case.id: case for case in iter_cases(load_all_vectors(ROOT))}
START = handle({"cmd": "start", "version": 1}) or {}
OPERATIONS = set(START.get("implementation", {}).get("operations", []))


# Memos kept in plain dicts rather than ``functools.lru_cache`` (same defect otherwise: the
# clean run fills them and a mutant on the path that fills or reads them never runs it).
PLAIN_MEMOS = (("aip._chained", "_SELF_CERTIFYING"),)


def clear_caches() -> None:
    """Empty every ``functools.lru_cache`` of ``aip`` and the plain-dict memos above. mutmut
    forks each mutant's run from a process that already ran the clean suite, so results memoised by the UNMUTATED code (parsed
    identifiers, scopes, Datalog rules) would otherwise be served to the mutant, and mutants on
    those paths would survive without being exercised."""
    for name, module in list(sys.modules.items()):
        if name == "aip" or name.startswith("aip."):
            for value in list(vars(module).values()):
                clear = getattr(value, "cache_clear", None)
                if callable(clear):
                    clear()
    for module_name, attribute in PLAIN_MEMOS:
        memo = getattr(sys.modules.get(module_name), attribute, None)
        if isinstance(memo, dict):
            memo.clear()


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    clear_caches()


def test_the_mutated_code_is_what_runs() -> None:
    if os.environ.get("AIP_MUTATION_RUN"):
        assert "mutants" in Path(aip.__file__).parts, aip.__file__


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_case(case_id: str) -> None:
    case = CASES[case_id]
    assert case.operation in OPERATIONS, f"{case_id}: operation {case.operation} not claimed"
    raw = handle({"cmd": "run", "seq": 1, "case": case.request()})
    answer_json = json.loads(json.dumps(raw))  # what crosses the wire
    problems = schema_errors(ROOT / "schemas", "harness/answer-run.schema.json", answer_json)
    assert not problems, f"{case_id}: answer off schema: {problems[:3]}"
    if "result" in answer_json:
        result = answer_json["result"]
        answer = (Answer(kind="result", valid=True, output=result["output"]) if result["valid"]
                  else Answer(kind="result", valid=False, error=result["error"],
                              message=result["message"]))
    elif "skipped" in answer_json:
        answer = Answer(kind="skipped", reason=answer_json["reason"])
    else:
        answer = Answer(kind="errored", context={"problem": "errored",
                                                  "context": answer_json["context"]})
    outcome, reason = score(case, answer)
    assert outcome == "passed", f"{case_id}: {outcome}: {reason}"
