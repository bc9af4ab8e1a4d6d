"""Reports of a run: report.json, junit.xml, and the terminal summary."""

from __future__ import annotations

import json
import os
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from ._runner import CaseRecord, RunResult

__all__ = [
    "REPORT_SCHEMA_ID",
    "SUITE_NAME",
    "SUITE_VERSION",
    "format_summary",
    "junit_xml",
    "report_json",
    "write_atomic",
    "write_reports",
]

SUITE_NAME = "aip-conformance"
SUITE_VERSION = "1.0.0.dev0"
REPORT_SCHEMA_ID = "aip-conformance-report-v1"


def _iso(dt: Any) -> str:
    return str(dt.isoformat().replace("+00:00", "Z"))


def _case_json(rec: CaseRecord) -> dict[str, Any]:
    c = rec.case
    return {
        "id": c.id,
        "profile": c.profile,
        "file": c.file,
        "operation": c.operation,
        "comment": c.comment,
        "flags": list(c.flags),
        "requirements": list(c.requirements),
        "outcome": rec.outcome,
        "baseline": rec.baseline,
        "baseline_reason": rec.baseline_reason,
        "expected": c.expectation(),
        "got": rec.got,
        "reason": rec.reason,
        "duration_ms": rec.duration_ms,
    }


def report_json(result: RunResult) -> dict[str, Any]:
    """The run as a JSON object valid against schemas/report.schema.json."""
    impl = result.implementation
    return {
        "schema": REPORT_SCHEMA_ID,
        "suite": {"name": SUITE_NAME, "version": SUITE_VERSION, "protocol": 1},
        "implementation": dict(impl.raw),
        "command": list(result.command),
        "started": _iso(result.started),
        "finished": _iso(result.finished),
        "profiles": list(result.profiles),
        "ok": result.ok,
        "restarts": result.restarts,
        "summary": {
            "profiles": {
                s.profile: {
                    "claimed": s.claimed,
                    "total": s.total,
                    "passed": s.passed,
                    "failed": s.failed,
                    "skipped": s.skipped,
                    "errored": s.errored,
                    "expected_failures": s.expected_failures,
                    "stale": s.stale,
                    "conforms": s.conforms,
                    "ok": s.ok,
                }
                for s in result.profile_summaries()
            },
            "requirements": {
                s.requirement: {"cases": s.cases, "passed": s.passed, "failed": s.failed}
                for s in result.requirement_summaries()
            },
        },
        "cases": [_case_json(r) for r in result.records],
    }


def junit_xml(result: RunResult) -> bytes:
    """JUnit XML: one testsuite per profile, one testcase per case."""
    suites = ET.Element("testsuites", name=SUITE_NAME)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    elapsed = (result.finished - result.started).total_seconds()
    by_profile: dict[str, list[CaseRecord]] = {p: [] for p in result.profiles}
    for rec in result.records:
        by_profile.setdefault(rec.case.profile, []).append(rec)
    for profile, recs in by_profile.items():
        counts = {"tests": len(recs), "failures": 0, "errors": 0, "skipped": 0}
        suite = ET.SubElement(suites, "testsuite", name=profile)
        for rec in recs:
            tc = ET.SubElement(
                suite,
                "testcase",
                classname=f"{profile}.{Path(rec.case.file).stem}",
                name=rec.case.id,
                time=f"{rec.duration_ms / 1000:.3f}",
            )
            if rec.baseline == "stale":
                counts["failures"] += 1
                ET.SubElement(
                    tc, "failure", type="stale", message="listed in the baseline but passes"
                ).text = rec.baseline_reason
            elif rec.baseline == "expected-failure":
                # Reported like pytest reports xfail: a skip with the reason.
                counts["skipped"] += 1
                ET.SubElement(
                    tc, "skipped", type="expected-failure",
                    message=f"expected failure ({rec.outcome}): {rec.baseline_reason}",
                )
            elif rec.outcome == "failed":
                counts["failures"] += 1
                ET.SubElement(tc, "failure", type="mismatch", message=rec.reason).text = (
                    json.dumps({"expected": rec.case.expectation(), "got": rec.got}, indent=2)
                )
            elif rec.outcome == "errored":
                counts["errors"] += 1
                ET.SubElement(tc, "error", type="errored", message=rec.reason).text = (
                    json.dumps(rec.got, indent=2)
                )
            elif rec.outcome == "skipped":
                counts["skipped"] += 1
                ET.SubElement(tc, "skipped", message=rec.reason)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", f"{sum(r.duration_ms for r in recs) / 1000:.3f}")
    for key, value in totals.items():
        suites.set(key, str(value))
    suites.set("time", f"{elapsed:.3f}")
    ET.indent(suites)
    data: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_reports(result: RunResult, directory: Path) -> tuple[Path, Path]:
    """Write report.json and junit.xml into `directory`; return their paths."""
    report = directory / "report.json"
    junit = directory / "junit.xml"
    text = json.dumps(report_json(result), indent=2, ensure_ascii=False) + "\n"
    write_atomic(report, text.encode("utf-8"))
    write_atomic(junit, junit_xml(result))
    return report, junit


def format_summary(result: RunResult) -> str:
    """The human summary: per profile, per requirement, then every failure."""
    impl = result.implementation
    lines = [f"implementation: {impl.name} {impl.version} ({impl.language})", ""]
    lines.append(f"{'profile':<12} {'claimed':>7} {'cases':>6} {'passed':>6} {'failed':>6} "
                 f"{'skipped':>7} {'errored':>7} {'xfail':>5} {'stale':>5}  status")
    for s in result.profile_summaries():
        status = "conforms" if s.conforms else ("ok (baseline)" if s.ok else "does not conform")
        if not s.claimed:
            status += " (not claimed: informational)"
        lines.append(
            f"{s.profile:<12} {'yes' if s.claimed else 'no':>7} {s.total:>6} {s.passed:>6} "
            f"{s.failed:>6} {s.skipped:>7} {s.errored:>7} {s.expected_failures:>5} "
            f"{s.stale:>5}  {status}"
        )
    reqs = result.requirement_summaries()
    if reqs:
        lines += ["", f"{'requirement':<16} {'cases':>5} {'passed':>6} {'failed':>6}"]
        for r in reqs:
            lines.append(f"{r.requirement:<16} {r.cases:>5} {r.passed:>6} {r.failed:>6}")
    bad = [r for r in result.records if r.outcome != "passed" or r.baseline == "stale"]
    if bad:
        lines += ["", "not passed:"]
        for rec in bad:
            tag = rec.outcome.upper()
            reason = rec.reason
            if rec.baseline == "stale":
                tag, reason = "STALE", f"passes but the baseline expects a failure: "\
                    f"{rec.baseline_reason}"
            elif rec.baseline == "expected-failure":
                tag = f"XFAIL({rec.outcome})"
            comment = f" ({rec.case.comment})" if rec.case.comment else ""
            lines.append(f"  {tag:<8} {rec.case.id}{comment}: {reason}")
    lines += ["", "result: " + ("PASS" if result.ok else "FAIL")]
    return "\n".join(lines)
