"""The suite can fail: deliberately broken implementations are caught by the right cases."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BROKEN = Path(__file__).parent / "broken"
ROOT = Path(__file__).resolve().parents[1]


def run_suite(impl: str | None, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    cmd = [sys.executable, "-m", "aip_conformance", "run", "--profile", "identity",
           "--report", str(tmp_path), *extra]
    if impl:
        cmd += ["--impl", f"{sys.executable} {BROKEN / impl}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    report = json.loads((tmp_path / "report.json").read_text())
    return proc.returncode, report, proc.stdout + proc.stderr


def outcomes(report: dict[str, Any]) -> dict[str, str]:
    return {case["id"]: case["outcome"] for case in report["cases"]}


def expected_invalid(report: dict[str, Any]) -> set[str]:
    return {c["id"] for c in report["cases"] if c["expected"]["result"] == "invalid"}


def test_the_reference_passes_every_identity_case(tmp_path: Path) -> None:
    code, report, output = run_suite(None, tmp_path)
    assert code == 0, output
    assert set(outcomes(report).values()) == {"passed"}
    assert len(report["cases"]) >= 40
    assert (tmp_path / "junit.xml").read_text().startswith("<?xml")


def test_an_implementation_that_accepts_everything_fails_every_invalid_case(tmp_path: Path) -> None:
    code, report, _ = run_suite("always_valid.py", tmp_path)
    assert code != 0
    failed = {cid for cid, outcome in outcomes(report).items() if outcome == "failed"}
    assert expected_invalid(report) <= failed


def test_an_implementation_that_ignores_document_expiry_fails_exactly_the_expiry_cases(tmp_path: Path) -> None:
    code, report, _ = run_suite("ignores_expiry.py", tmp_path)
    assert code != 0
    failed = {c["comment"] for c in report["cases"] if c["outcome"] != "passed"}
    assert failed == {
        "expires one second before now - skew",
        "expired a year ago",
        "pinned document has expired",
    }


def test_a_crash_and_a_hang_are_errored_never_passed_and_the_run_goes_on(tmp_path: Path) -> None:
    code, report, _ = run_suite("crashes_and_hangs.py", tmp_path, "--timeout", "2")
    assert code != 0
    got = outcomes(report)
    assert got["identity/identifiers#3"] == "errored"
    assert got["identity/identifiers#5"] == "errored"
    others = {cid: o for cid, o in got.items() if cid not in ("identity/identifiers#3", "identity/identifiers#5")}
    assert set(others.values()) == {"passed"}
    assert report["restarts"] >= 2


def test_an_implementation_that_makes_bad_tokens_fails_every_making_case(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "aip_conformance", "run", "--profile", "compact", "--profile", "chained",
           "--report", str(tmp_path), "--impl", f"{sys.executable} {BROKEN / 'tampers_what_it_makes.py'}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode != 0
    report = json.loads((tmp_path / "report.json").read_text())
    making = {"compact.issue", "proof.create", "chained.mint", "chained.delegate", "chained.invoke"}
    made = [c for c in report["cases"] if c["operation"] in making and c["expected"]["result"] == "valid"]
    assert len(made) >= 5
    for case in made:
        assert case["outcome"] == "failed", case["id"]
        assert "suite's own check" in case["reason"], case["reason"]
    others = [c for c in report["cases"] if c["operation"] not in making]
    assert others and all(c["outcome"] == "passed" for c in others)
