"""`aip token mint|delegate|invoke|verify|inspect` for chained tokens; errors are one coded line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

AIP = [sys.executable, "-m", "aip.cli"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AIP, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def assert_clean_failure(proc: subprocess.CompletedProcess[str], code: str) -> None:
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith(f"error: {code}: "), proc.stderr


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    d = tmp_path_factory.mktemp("chain")
    ids = {}
    for name in ("root", "a", "b", "c", "d"):
        assert run("keygen", "-o", f"{name}.jwk", cwd=d).returncode == 0
        ids[name] = json.loads((d / f"{name}.jwk").read_text())["aip_id"]
    trust = ["--trust", ids["root"]]
    steps = [
        ["token", "mint", "--key", "root.jwk", "--holder", ids["a"], "--scope", "tool:*",
         "--max-depth", "3", "-o", "t0"],
        ["token", "delegate", "t0", "--key", "a.jwk", "--to", ids["b"], "--context",
         "plan the trip", "--scope", "tool:search", "-o", "t1", *trust],
        ["token", "delegate", "t1", "--key", "b.jwk", "--to", ids["c"], "--context",
         "find hotels", "-o", "t2", *trust],
        ["token", "delegate", "t2", "--key", "c.jwk", "--to", ids["d"], "--context",
         'x"); delegate("mallory', "-o", "t3", *trust],
        ["token", "invoke", "t3", "--key", "d.jwk", "--audience", "https://api.example",
         "--tool", "search", "--arguments", '{"q": "paris"}', "-o", "t4", *trust],
    ]
    for step in steps:
        proc = run(*step, cwd=d)
        assert proc.returncode == 0, proc.stderr
    return d, ids


def test_three_hops_and_an_invocation_verify(chain: tuple[Path, dict[str, str]]) -> None:
    d, ids = chain
    proc = run("token", "verify", "t4", "--trust", ids["root"], "--audience",
               "https://api.example", "--tool", "search", "--arguments", '{"q":"paris"}',
               "--require-invocation", cwd=d)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["valid"] and out["authorized"] and out["depth"] == 3
    assert [h["delegate"] for h in out["hops"]] == [ids["b"], ids["c"], ids["d"]]


def test_inspect_draws_every_hop_with_identity_and_context(
        chain: tuple[Path, dict[str, str]]) -> None:
    d, ids = chain
    proc = run("token", "inspect", "t4", "--trust", ids["root"], "--audience", "x", cwd=d)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    for name in ("root", "a", "b", "c", "d"):
        assert ids[name] in text
    assert '"plan the trip"' in text and '"find hotels"' in text
    assert 'context "x\\"); delegate(\\"mallory"' in text  # quoted, never a second fact
    assert text.count("└─ block") == 5


@pytest.mark.parametrize(("args", "code"), [
    (["token", "verify", "t4", "--audience", "x"], "aip_identity_unresolvable"),
    (["token", "verify", "not*a*token", "--audience", "x"], "aip_token_malformed"),
    (["token", "verify", "t4", "--trust", "ROOT", "--audience", "https://api.example",
      "--tool", "search", "--arguments", '{"q":"rome"}'], "aip_invocation_mismatch"),
    (["token", "verify", "t4", "--trust", "ROOT", "--audience", "https://evil.example",
      "--tool", "search", "--arguments", '{"q":"paris"}'], "aip_audience_mismatch"),
    (["token", "delegate", "t3", "--key", "a.jwk", "--to", "A", "--context", "x",
      "--trust", "ROOT"], "aip_chain_invalid"),
    (["token", "delegate", "t1", "--key", "b.jwk", "--to", "A", "--context", " ",
      "--trust", "ROOT"], "aip_context_missing"),
    (["token", "mint", "--key", "missing.jwk", "--holder", "A", "--scope", "tool:x"],
     "aip_input_invalid"),
    (["token", "verify", "t4", "--trust", "ROOT", "--audience", "x", "--tool", "search",
      "--arguments", "[1]"], "aip_input_invalid"),
])
def test_failures_are_one_coded_line(chain: tuple[Path, dict[str, str]], args: list[str],
                                     code: str) -> None:
    d, ids = chain
    args = [ids["root"] if a == "ROOT" else ids["a"] if a == "A" else a for a in args]
    assert_clean_failure(run(*args, cwd=d), code)


def test_mode_detection() -> None:
    from aip._cli_chained import is_chained

    assert not is_chained("eyJ0eXAiOiJhaXArand0IiwiYWxnIjoiRWREU0EifQ.e30.sig")
    assert is_chained("EpMBCigKA...")
    assert is_chained("eyJ0eXAiOiJKV1QifQ.e30.sig")
