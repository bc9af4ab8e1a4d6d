"""`pytest --aip-impl CMD` runs each conformance case as a pytest item in a third party's pytest."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

from impls.synthetic import VALID_A, case, fake, make_root, standard_cases, vector_file

# Plugins that only slow the inner pytest's start-up (hypothesis takes over a second).
QUIET_PLUGINS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:anyio")


def run_pytest(tmp_path: Path, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    installed = any(ep.value == "aip_conformance.pytest_plugin"
                    for ep in entry_points(group="pytest11"))
    plugin = [] if installed else ["-p", "aip_conformance.pytest_plugin"]
    env = {**os.environ, "AIP_CONFORMANCE_ROOT": str(root)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", *QUIET_PLUGINS, *plugin, "-q", *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )


def test_each_case_becomes_a_pytest_item(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"synthetic/s.json": vector_file([
        *standard_cases(),
        case(4, VALID_A, result="invalid", error="aip_x", comment="must be refused"),
        case(5, {"skipped": True, "reason": "not implemented"}),
    ])})
    proc = run_pytest(tmp_path, root, "--aip-impl", shlex.join(fake()), "-rs")
    assert "3 passed" in proc.stdout and "1 failed" in proc.stdout, proc.stdout + proc.stderr
    assert "1 skipped" in proc.stdout
    assert "synthetic/s#4 (must be refused): expected aip_x, got valid" in proc.stdout
    assert proc.returncode == 1


def test_profile_option_restricts_the_cases(tmp_path: Path) -> None:
    root = make_root(tmp_path, {
        "synthetic/s.json": vector_file(standard_cases()),
        "identity/i.json": vector_file([case(1, VALID_A)], profile="identity"),
    })
    proc = run_pytest(tmp_path, root, "--aip-impl", shlex.join(fake()),
                      "--aip-profile", "identity")
    assert "1 passed" in proc.stdout, proc.stdout + proc.stderr
    assert proc.returncode == 0


def test_without_the_option_the_plugin_adds_nothing(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"synthetic/s.json": vector_file(standard_cases())})
    proc = run_pytest(tmp_path, root)
    assert proc.returncode == 5  # pytest's "no tests collected"


def test_an_implementation_that_cannot_start_is_a_usage_error(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"synthetic/s.json": vector_file(standard_cases())})
    proc = run_pytest(tmp_path, root, "--aip-impl", "/nonexistent/impl")
    assert proc.returncode == 4  # pytest's usage error
    assert "aip-conformance: cannot start implementation" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
