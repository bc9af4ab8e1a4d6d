"""The runner scores on error codes, honours baselines, and writes schema-valid reports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from impls.synthetic import INVALID_X, VALID_A, case, fake, make_root, standard_cases, vector_file

from aip_conformance import BaselineError, ConformanceError, run_suite
from aip_conformance._report import format_summary, junit_xml, report_json, write_reports
from aip_conformance._runner import RunResult, subset_mismatch
from aip_conformance._schemas import schema_errors


def mixed_root(tmp_path: Path) -> Path:
    """Cases covering every outcome against the echo fake."""
    return make_root(tmp_path, {
        "synthetic/mixed.json": vector_file([
            case(1, VALID_A, expected={"a": 1}),                       # pass
            case(2, VALID_A, result="invalid", error="aip_x"),         # fail: got valid
            case(3, INVALID_X, result="invalid", error="aip_y"),       # fail: wrong code
            case(4, INVALID_X),                                        # fail: expected valid
            case(5, VALID_A, expected={"a": 2}),                       # fail: output differs
            case(6, {"skipped": True, "reason": "later"}),             # skipped by impl
            case(7, {"errored": True, "context": {}}),                 # errored by impl
        ]),
        "synthetic/other-op.json": vector_file([case(1, VALID_A)], operation="unknown.op"),
    })


def by_id(result: RunResult) -> dict[str, tuple[str, str]]:
    return {r.case.id: (r.outcome, r.reason) for r in result.records}


def test_cases_are_compared_on_validity_then_error_code(tmp_path: Path) -> None:
    result = run_suite(fake(), root=mixed_root(tmp_path))
    outcomes = by_id(result)
    assert outcomes["synthetic/mixed#1"] == ("passed", "")
    assert outcomes["synthetic/mixed#2"] == ("failed", "expected aip_x, got valid")
    assert outcomes["synthetic/mixed#3"] == ("failed", "expected aip_y, got aip_x")
    assert outcomes["synthetic/mixed#4"] == ("failed", "expected valid, got aip_x")
    assert outcomes["synthetic/mixed#5"] == ("failed", "output differs: $.a: expected 2, got 1")
    assert outcomes["synthetic/mixed#6"] == ("skipped", "later")
    assert outcomes["synthetic/mixed#7"][0] == "errored"
    assert not result.ok


def test_unsupported_operation_is_skipped_but_not_passed(tmp_path: Path) -> None:
    root = make_root(tmp_path, {
        "synthetic/a.json": vector_file([case(1, VALID_A)]),
        "synthetic/b.json": vector_file([case(1, VALID_A)], operation="unknown.op"),
    })
    result = run_suite(fake(), root=root)
    assert by_id(result)["synthetic/b#1"] == ("skipped", "operation not supported")
    assert not result.ok
    (summary,) = result.profile_summaries()
    assert (summary.passed, summary.skipped, summary.conforms) == (1, 1, False)


def test_every_fault_is_errored_and_the_run_goes_on(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"synthetic/s.json": vector_file(standard_cases(misbehave_tc2=True))})
    for mode in ("crash", "garbage", "wrong-seq", "bad-shape"):
        result = run_suite(fake(mode), root=root)
        assert [r.outcome for r in result.records] == ["passed", "errored", "passed"], mode


def test_a_hanging_case_is_errored_after_the_timeout(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"synthetic/s.json": vector_file(standard_cases(misbehave_tc2=True))})
    result = run_suite(fake("hang"), root=root, timeout=1.0)
    assert [r.outcome for r in result.records] == ["passed", "errored", "passed"]
    assert result.restarts == 1


def test_all_passing_run_is_ok(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"synthetic/s.json": vector_file(standard_cases())})
    result = run_suite(fake(), root=root)
    assert result.ok
    assert [s.conforms for s in result.profile_summaries()] == [True]
    reqs = {r.requirement: (r.cases, r.passed) for r in result.requirement_summaries()}
    assert reqs == {"AIP-SYN-001": (2, 2), "AIP-SYN-002": (1, 1)}


def test_profiles_default_to_the_claimed_ones_and_can_be_restricted(tmp_path: Path) -> None:
    root = make_root(tmp_path, {
        "synthetic/s.json": vector_file(standard_cases()),
        "identity/i.json": vector_file([case(1, INVALID_X)], profile="identity"),
    })
    claimed_only = run_suite(fake(), root=root)
    assert {r.case.profile for r in claimed_only.records} == {"synthetic"}
    assert claimed_only.ok
    # Selecting an unclaimed profile runs it for information; it does not decide the verdict.
    both = run_suite(fake(), root=root, profiles=["synthetic", "identity"])
    assert {r.case.profile for r in both.records} == {"synthetic", "identity"}
    assert both.ok
    with pytest.raises(ConformanceError, match="unknown profile 'nope'"):
        run_suite(fake(), root=root, profiles=["nope"])


def write_baseline(tmp_path: Path, entries: dict[str, str]) -> Path:
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"expected_failures": entries}), encoding="utf-8")
    return path


def test_baseline_turns_listed_failures_into_expected_failures(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"synthetic/s.json": vector_file([
        case(1, VALID_A), case(2, VALID_A, result="invalid", error="aip_x")])})
    baseline = write_baseline(tmp_path, {"synthetic/s#2": "known bug #12"})
    result = run_suite(fake(), root=root, baseline=baseline)
    assert result.ok
    rec = result.records[1]
    assert (rec.outcome, rec.baseline, rec.baseline_reason) == (
        "failed", "expected-failure", "known bug #12")
    (summary,) = result.profile_summaries()
    assert (summary.expected_failures, summary.conforms, summary.ok) == (1, False, True)


def test_baseline_entry_for_a_passing_case_is_stale_and_fails_the_run(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"synthetic/s.json": vector_file(standard_cases())})
    baseline = write_baseline(tmp_path, {"synthetic/s#1": "was broken"})
    result = run_suite(fake(), root=root, baseline=baseline)
    assert not result.ok
    assert result.records[0].baseline == "stale"
    assert "STALE" in format_summary(result)


def test_baseline_naming_an_unknown_case_is_an_error(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"synthetic/s.json": vector_file(standard_cases())})
    baseline = write_baseline(tmp_path, {"synthetic/s#99": "?"})
    with pytest.raises(BaselineError, match=r"unknown case ids: synthetic/s#99"):
        run_suite(fake(), root=root, baseline=baseline)
    bad = tmp_path / "bad.json"
    bad.write_text('{"expected_failures": {"synthetic/s#1": ""}}', encoding="utf-8")
    with pytest.raises(BaselineError):
        run_suite(fake(), root=root, baseline=bad)


def test_report_json_validates_against_its_schema(tmp_path: Path) -> None:
    root = mixed_root(tmp_path)
    result = run_suite(fake(), root=root, baseline=write_baseline(
        tmp_path, {"synthetic/mixed#2": "known", "synthetic/mixed#1": "stale one"}))
    report, junit = write_reports(result, tmp_path / "reports")
    data = json.loads(report.read_text(encoding="utf-8"))
    assert schema_errors(root / "schemas", "report.schema.json", data) == []
    assert data["implementation"]["name"] == "fake"
    assert data["summary"]["profiles"]["synthetic"]["stale"] == 1
    case2 = next(c for c in data["cases"] if c["id"] == "synthetic/mixed#2")
    assert case2["expected"] == {"result": "invalid", "error": "aip_x"}
    assert case2["got"] == VALID_A
    assert case2["requirements"] == ["AIP-SYN-001"]
    # Atomic writes leave no temporary files behind.
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["junit.xml",
                                                                       "report.json"]
    assert junit.exists()


def test_junit_xml_maps_outcomes_to_failures_errors_and_skips(tmp_path: Path) -> None:
    result = run_suite(fake(), root=mixed_root(tmp_path))
    tree = ET.fromstring(junit_xml(result))
    assert tree.tag == "testsuites"
    (suite,) = tree.findall("testsuite")
    assert suite.get("name") == "synthetic"
    assert suite.attrib["tests"] == "8"
    assert (suite.attrib["failures"], suite.attrib["errors"], suite.attrib["skipped"]) == (
        "4", "1", "2")
    cases = {tc.get("name"): tc for tc in suite.findall("testcase")}
    failure = cases["synthetic/mixed#2"].find("failure")
    assert failure is not None and failure.get("message") == "expected aip_x, got valid"
    assert cases["synthetic/mixed#7"].find("error") is not None
    assert cases["synthetic/mixed#6"].find("skipped") is not None
    assert list(cases["synthetic/mixed#1"]) == []


def test_report_json_is_deterministic_in_shape(tmp_path: Path) -> None:
    result = run_suite(fake(), root=make_root(tmp_path, {
        "synthetic/s.json": vector_file(standard_cases())}))
    data = report_json(result)
    assert data["ok"] is True
    assert data["started"].endswith("Z") and data["finished"].endswith("Z")
    assert data["command"][-1] == "echo"


@pytest.mark.parametrize(
    ("expected", "got", "where"),
    [
        ({"a": 1}, {"a": 1, "b": 2}, None),
        ({"a": {"b": [1, 2]}}, {"a": {"b": [1, 2], "c": 0}}, None),
        ({"a": [1]}, {"a": [1, 2]}, "$.a: expected [1], got [1, 2]"),
        ({"a": 1}, {}, "$.a: missing"),
        ({"a": True}, {"a": 1}, "$.a: expected true, got 1"),
        ({"a": None}, {"a": None}, None),
        ({"a": {"b": 1}}, {"a": 3}, "$.a: expected an object, got 3"),
    ],
)
def test_subset_match_follows_the_contract(expected: object, got: object,
                                           where: str | None) -> None:
    assert subset_mismatch(expected, got) == where
