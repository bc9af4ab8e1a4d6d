"""Running the vector cases through a harness and scoring them (on error codes only)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ._errors import BaselineError, ConformanceError
from ._harness import Answer, HarnessClient, Implementation
from ._outputs import output_problems
from ._schemas import schema_errors
from ._vectors import Case, iter_cases, load_all_vectors

__all__ = [
    "KNOWN_PROFILES",
    "CaseRecord",
    "Outcome",
    "ProfileSummary",
    "RequirementSummary",
    "RunResult",
    "load_baseline",
    "run_suite",
    "score",
    "subset_mismatch",
]

# The profiles the conformance chapter defines; vectors may add cases to any of them.
KNOWN_PROFILES = ("identity", "compact", "chained", "completion", "http", "mcp", "a2a")

Outcome = Literal["passed", "failed", "skipped", "errored"]
BaselineMark = Literal["expected-failure", "stale"]


def subset_mismatch(expected: Any, got: Any, path: str = "$") -> str | None:
    """Where `got` fails to contain `expected`, or None when it does.

    Dicts match when every expected key matches (extra keys in `got` are fine); lists must be
    equal; scalars equal. Booleans never equal numbers (JSON keeps them apart).
    """
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"{path}: expected an object, got {json.dumps(got)}"
        for key, value in expected.items():
            if key not in got:
                return f"{path}.{key}: missing"
            found = subset_mismatch(value, got[key], f"{path}.{key}")
            if found:
                return found
        return None
    same_type = isinstance(expected, bool) == isinstance(got, bool)
    if not same_type or expected != got:
        return f"{path}: expected {json.dumps(expected)}, got {json.dumps(got)}"
    return None


def score(case: Case, answer: Answer) -> tuple[Outcome, str]:
    """Compare an answer with what the case expects: valid vs invalid, then the error code."""
    if answer.kind == "skipped":
        return "skipped", answer.reason or "skipped by the implementation"
    if answer.kind == "errored":
        ctx = answer.context or {}
        return "errored", str(ctx.get("problem", "errored"))
    got = "valid" if answer.valid else str(answer.error)
    if case.result == "invalid":
        if answer.valid:
            return "failed", f"expected {case.error}, got valid"
        if answer.error != case.error:
            return "failed", f"expected {case.error}, got {got}"
        if answer.message and ("\n" in answer.message or "\r" in answer.message):
            # check "runner.error-message-one-line" (AIP-ERR-003)
            return "failed", "error message is not a single line (AIP-ERR-003)"
        return "passed", ""
    if not answer.valid:
        return "failed", f"expected valid, got {got}"
    if case.expected is not None:
        where = subset_mismatch(dict(case.expected), dict(answer.output or {}))
        if where:
            return "failed", f"output differs: {where}"
    problems = output_problems(case.operation, case.input, answer.output or {})
    if problems:
        return "failed", "output fails the suite's own check: " + "; ".join(problems)[:300]
    return "passed", ""


@dataclass
class CaseRecord:
    """One case's outcome, as reported."""

    case: Case
    outcome: Outcome
    reason: str
    got: dict[str, Any] | None
    duration_ms: float
    baseline: BaselineMark | None = None
    baseline_reason: str | None = None

    @property
    def ok(self) -> bool:
        """Does this case leave the run green (passed, or failed as the baseline expects)?"""
        if self.baseline == "stale":
            return False
        return self.outcome == "passed" or self.baseline == "expected-failure"


@dataclass
class ProfileSummary:
    profile: str
    claimed: bool
    total: int = 0
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    errored: int = 0
    expected_failures: int = 0
    stale: int = 0
    # conforms: every case passed outright (the chapter's definition of conformance);
    # ok: every case passed or failed as the baseline expects, and nothing is stale.
    conforms: bool = True
    ok: bool = True


@dataclass
class RequirementSummary:
    requirement: str
    cases: int = 0
    passed: int = 0
    failed: int = 0


@dataclass
class RunResult:
    """Everything a run produced; reports and the exit status derive from it."""

    implementation: Implementation
    command: list[str]
    started: datetime
    finished: datetime
    profiles: list[str]
    claimed: frozenset[str]
    records: list[CaseRecord] = field(default_factory=list)
    restarts: int = 0

    def profile_summaries(self) -> list[ProfileSummary]:
        out = {p: ProfileSummary(profile=p, claimed=p in self.claimed) for p in self.profiles}
        for rec in self.records:
            s = out[rec.case.profile]
            s.total += 1
            setattr(s, rec.outcome, getattr(s, rec.outcome) + 1)
            s.expected_failures += rec.baseline == "expected-failure"
            s.stale += rec.baseline == "stale"
            s.conforms = s.conforms and rec.outcome == "passed" and rec.baseline is None
            s.ok = s.ok and rec.ok
        return list(out.values())

    def requirement_summaries(self) -> list[RequirementSummary]:
        out: dict[str, RequirementSummary] = {}
        for rec in self.records:
            for req in rec.case.requirements:
                s = out.setdefault(req, RequirementSummary(requirement=req))
                s.cases += 1
                if rec.outcome == "passed":
                    s.passed += 1
                else:
                    s.failed += 1
        return [out[k] for k in sorted(out)]

    @property
    def ok(self) -> bool:
        """True when every case of every claimed and selected profile passes, after the
        baseline, and no baseline entry is stale."""
        for rec in self.records:
            if rec.baseline == "stale":
                return False
            if rec.case.profile in self.claimed and not rec.ok:
                return False
        return True


def load_baseline(path: Path, schemas_dir: Path, known_ids: Iterable[str]) -> dict[str, str]:
    """Read a baseline file; every listed case must exist in the vectors."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc}") from exc
    problems = schema_errors(schemas_dir, "baseline.schema.json", data)
    if problems:
        raise BaselineError(f"baseline {path}: " + "; ".join(problems))
    entries: dict[str, str] = data["expected_failures"]
    unknown = sorted(set(entries) - set(known_ids))
    if unknown:
        raise BaselineError(f"baseline {path} lists unknown case ids: {', '.join(unknown)}")
    return entries


def _now() -> datetime:
    return datetime.now(UTC)


def run_suite(
    command: str | Sequence[str],
    *,
    root: Path,
    profiles: Sequence[str] | None = None,
    baseline: Path | None = None,
    timeout: float = 10.0,
    progress: Callable[[int, int, Case], None] | None = None,
) -> RunResult:
    """Run every case of the selected profiles against the implementation `command`.

    `profiles` defaults to every profile the implementation claims. Raises
    `ConformanceError` for setup problems (bad vectors, baseline, unknown profile, the
    implementation not starting); implementation faults during the run are scored instead.
    """
    files = load_all_vectors(root)
    cases = list(iter_cases(files))
    known = set(KNOWN_PROFILES) | {c.profile for c in cases}
    for p in profiles or ():
        if p not in known:
            raise ConformanceError(f"unknown profile {p!r}; known: {', '.join(sorted(known))}")
    expected_failures = (
        load_baseline(baseline, root / "schemas", (c.id for c in cases)) if baseline else {}
    )
    started = _now()
    client = HarnessClient(command, schemas_dir=root / "schemas", timeout=timeout)
    with client:
        impl = client.implementation
        assert impl is not None
        selected = list(dict.fromkeys(profiles)) if profiles else list(impl.profiles)
        todo = [c for c in cases if c.profile in selected]
        records: list[CaseRecord] = []
        for i, case in enumerate(todo):
            if progress:
                progress(i, len(todo), case)
            records.append(_run_one(client, impl, case, expected_failures))
        if progress and todo:
            progress(len(todo), len(todo), todo[-1])
    return RunResult(
        implementation=impl,
        command=client.argv,
        started=started,
        finished=_now(),
        profiles=selected,
        claimed=frozenset(impl.profiles),
        records=records,
        restarts=client.restarts,
    )


def _run_one(
    client: HarnessClient, impl: Implementation, case: Case, baseline: Mapping[str, str]
) -> CaseRecord:
    t0 = time.perf_counter()
    got: dict[str, Any] | None
    if case.operation not in impl.operations:
        outcome: Outcome = "skipped"
        reason = "operation not supported"
        got = None
    else:
        answer = client.run(case.request())
        outcome, reason = score(case, answer)
        got = answer.as_json()
    rec = CaseRecord(
        case=case,
        outcome=outcome,
        reason=reason,
        got=got,
        duration_ms=round((time.perf_counter() - t0) * 1000, 3),
    )
    if case.id in baseline:
        rec.baseline = "stale" if outcome == "passed" else "expected-failure"
        rec.baseline_reason = baseline[case.id]
    return rec
