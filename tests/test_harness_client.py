"""The harness client scores every kind of implementation fault as `errored` and carries on."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from impls.synthetic import FAKE_IMPL, REPO, fake

from aip_conformance import HarnessClient, HarnessError
from aip_conformance._harness import DEFAULT_IMPL, split_command

SCHEMAS = REPO / "schemas"
OK = {"answer": {"result": {"valid": True, "output": {"x": 1}}}}
BAD = {"answer": {"result": {"valid": True, "output": {"x": 1}}}, "misbehave": True}


def request(input_: dict[str, object], id_: str = "synthetic/t#1") -> dict[str, object]:
    return {"id": id_, "operation": "echo", "now": 0, "trust": {}, "input": input_}


def client(mode: str, *extra: str, timeout: float = 5.0) -> HarnessClient:
    return HarnessClient(fake(mode, *extra), schemas_dir=SCHEMAS, timeout=timeout,
                         stop_timeout=0.5)


def test_handshake_reports_the_implementation_claims() -> None:
    with client("echo", "identity,compact") as c:
        assert c.implementation is not None
        assert c.implementation.name == "fake"
        assert c.implementation.profiles == ("identity", "compact")
        assert c.implementation.operations == ("echo",)


def test_results_are_passed_through() -> None:
    with client("echo") as c:
        answer = c.run(request(OK))
        assert answer.kind == "result" and answer.valid is True
        assert answer.output == {"x": 1}
        inv = c.run(request({"answer": {"result": {"valid": False, "error": "aip_x",
                                                   "message": "m"}}}))
        assert (inv.valid, inv.error, inv.message) == (False, "aip_x", "m")


def test_skipped_and_errored_answers_of_the_implementation_are_kept() -> None:
    with client("echo") as c:
        skipped = c.run(request({"answer": {"skipped": True, "reason": "not yet"}}))
        assert (skipped.kind, skipped.reason) == ("skipped", "not yet")
        errored = c.run(request({"answer": {"errored": True, "context": {"why": "bug"}}}))
        assert errored.kind == "errored"
        assert errored.context == {"problem": "reported by the implementation",
                                   "context": {"why": "bug"}}
        assert c.restarts == 0


def test_crash_mid_run_is_errored_with_stderr_and_the_next_case_runs() -> None:
    with client("crash") as c:
        assert c.run(request(OK)).kind == "result"
        crashed = c.run(request(BAD, "synthetic/t#2"))
        assert crashed.kind == "errored"
        assert crashed.context is not None
        assert str(crashed.context["problem"]).startswith("crash")
        assert crashed.context["exit_status"] == 3
        assert "boom: cannot handle case synthetic/t#2" in str(crashed.context["stderr"])
        assert c.run(request(OK)).kind == "result"
        assert c.restarts == 1


def test_hang_times_out_as_errored_and_the_implementation_is_restarted() -> None:
    with client("hang", timeout=1.0) as c:
        t0 = time.monotonic()
        hung = c.run(request(BAD))
        assert time.monotonic() - t0 < 1.8
        assert hung.kind == "errored"
        assert hung.context is not None and "timeout" in str(hung.context["problem"])
        assert c.run(request(OK)).kind == "result"
        assert c.restarts == 1


def test_non_json_line_is_errored_and_the_run_continues() -> None:
    with client("garbage") as c:
        bad = c.run(request(BAD))
        assert bad.kind == "errored"
        assert bad.context is not None
        assert bad.context["problem"] == "answer is not valid JSON"
        assert bad.context["line"] == "DEBUG: this is not JSON"
        assert c.run(request(OK)).kind == "result"


def test_seq_mismatch_is_errored() -> None:
    with client("wrong-seq") as c:
        bad = c.run(request(BAD))
        assert bad.kind == "errored"
        assert bad.context is not None and "seq mismatch" in str(bad.context["problem"])
        assert c.run(request(OK)).kind == "result"


def test_answer_breaking_the_schema_is_errored_with_the_violations() -> None:
    with client("bad-shape") as c:
        bad = c.run(request(BAD))
        assert bad.kind == "errored"
        assert bad.context is not None
        assert "answer-run.schema.json" in str(bad.context["problem"])
        assert bad.context["violations"]
        assert c.run(request(OK)).kind == "result"


def test_invalid_answer_to_start_is_a_setup_error() -> None:
    with pytest.raises(HarnessError, match="invalid answer to start"):
        client("bad-start").start()


def test_exit_before_start_answer_is_a_setup_error_with_stderr() -> None:
    with pytest.raises(HarnessError, match=r"exited with status 4(.|\n)*cannot load keys"):
        client("die-at-start").start()


def test_missing_command_is_a_setup_error() -> None:
    c = HarnessClient(["/nonexistent/aip-impl"], schemas_dir=SCHEMAS)
    with pytest.raises(HarnessError, match="cannot start implementation"):
        c.start()


def test_restart_that_keeps_failing_gives_up_after_a_few_attempts(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    with client("die-on-restart", "synthetic", str(marker)) as c:
        assert c.run(request(BAD)).kind == "errored"  # the crash
        answers = [c.run(request(OK)) for _ in range(5)]
    assert all(a.kind == "errored" for a in answers)
    problems = [str((a.context or {})["problem"]) for a in answers]
    assert problems[:3] == ["restart failed"] * 3
    assert problems[3:] == ["implementation could not be restarted"] * 2


def test_an_implementation_that_ignores_stop_is_killed() -> None:
    c = client("ignore-stop")
    c.start()
    t0 = time.monotonic()
    c.stop()
    assert time.monotonic() - t0 < 1.5


def test_commands_are_split_like_a_shell_and_default_to_the_reference_adapter() -> None:
    assert split_command(f"python3 '{FAKE_IMPL}' echo") == ["python3", str(FAKE_IMPL), "echo"]
    assert split_command(["a", "b c"]) == ["a", "b c"]
    assert DEFAULT_IMPL[1:] == ("-m", "aip.harness")
    with pytest.raises(HarnessError):
        split_command("")
