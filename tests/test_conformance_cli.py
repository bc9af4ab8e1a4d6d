"""`aip-conformance` exit codes: 0 pass, 1 problems found, 2 usage/setup errors, no tracebacks."""

from __future__ import annotations

import io
import json
import shlex
from pathlib import Path

import pytest
from impls.synthetic import VALID_A, case, fake, make_root, standard_cases, vector_file

from aip_conformance.cli import _Progress, main


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_root(tmp_path, {"synthetic/s.json": vector_file(standard_cases())})
    monkeypatch.setenv("AIP_CONFORMANCE_ROOT", str(root))
    return root


def test_run_exits_0_when_every_claimed_case_passes(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", "--impl", shlex.join(fake()), "--report", str(tmp_path / "out")])
    out = capsys.readouterr()
    assert code == 0
    assert "synthetic" in out.out and "result: PASS" in out.out
    assert "AIP-SYN-001" in out.out  # the per-requirement summary
    assert "\r" not in out.err  # no progress line when not a terminal
    assert json.loads((tmp_path / "out" / "report.json").read_text())["ok"] is True


def test_run_exits_1_and_lists_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_root(tmp_path, {"synthetic/s.json": vector_file([
        case(1, VALID_A, result="invalid", error="aip_x", comment="expired document")])})
    monkeypatch.setenv("AIP_CONFORMANCE_ROOT", str(root))
    code = main(["run", "--impl", shlex.join(fake()), "--report", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAILED   synthetic/s#1 (expired document): expected aip_x, got valid" in out


def test_setup_errors_exit_2_with_a_one_line_message(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", "--impl", "/nonexistent/impl", "--report", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: cannot start implementation")
    assert "Traceback" not in err
    assert main(["run", "--impl", shlex.join(fake()), "--profile", "nope"]) == 2
    assert main(["run", "--impl", shlex.join(fake()), "--baseline",
                 str(tmp_path / "missing.json")]) == 2


def test_missing_repository_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AIP_CONFORMANCE_ROOT", str(tmp_path))
    assert main(["requirements"]) == 2
    assert "AIP_CONFORMANCE_ROOT" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["run", "--timeout", "soon"])
    assert exc.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_counter_line_on_a_terminal_only(tmp_path: Path) -> None:
    from aip_conformance._vectors import load_vectors

    root = make_root(tmp_path, {"synthetic/s.json": vector_file(standard_cases())})
    cases = load_vectors(root / "vectors/synthetic/s.json", root=root).cases
    term = FakeTerminal()
    progress = _Progress(term)
    progress(0, 3, cases[0])
    progress(3, 3, cases[2])
    progress.finish()
    assert term.getvalue().startswith("\r[0/3] synthetic/s#1\r[3/3] done")
    assert term.getvalue().endswith("\r")
    pipe = io.StringIO()
    quiet = _Progress(pipe)
    quiet(0, 3, cases[0])
    quiet.finish()
    assert pipe.getvalue() == ""
