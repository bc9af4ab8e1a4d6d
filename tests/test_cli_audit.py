"""`aip token complete|attest` and `aip audit verify|show`: a chain minted, delegated, invoked
and completed with the CLI passes `aip audit verify`, `aip audit show` prints its timeline,
and failures are one coded line (spec/completion.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

AIP = [sys.executable, "-m", "aip.cli"]
RESULT = {"content": [{"type": "text", "text": "3 hotels found"}], "isError": False,
          "_meta": {"aip": {"receipt": "not part of the digest"}}}


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AIP, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, proc.stderr
    return proc


def assert_clean_failure(proc: subprocess.CompletedProcess[str], code: str) -> None:
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(f"error: {code}: "), proc.stderr


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    d = tmp_path_factory.mktemp("audit")
    ids = {}
    for name in ("root", "a", "b", "tool", "mallory", "auditor"):
        ok(run("keygen", "-o", f"{name}.jwk", cwd=d))
        ids[name] = json.loads((d / f"{name}.jwk").read_text())["aip_id"]
    (d / "result.json").write_text(json.dumps(RESULT))
    trust = ["--trust", ids["root"]]
    steps = [
        ["token", "mint", "--key", "root.jwk", "--holder", ids["a"], "--scope", "tool:*",
         "--budget-ceiling", "500", "--principal", ids["root"], "-o", "t0"],
        ["token", "delegate", "t0", "--key", "a.jwk", "--to", ids["b"], "--context",
         "book the trip", "--scope", "tool:search", "--budget-ceiling", "200", "-o", "t1",
         *trust],
        ["token", "invoke", "t1", "--key", "b.jwk", "--audience", ids["tool"], "--tool",
         "search", "--arguments", '{"q": "hotels in paris"}', "-o", "t2", *trust],
        ["token", "complete", "t2", "--key", "tool.jwk", "--status", "completed", "--result",
         "result.json", "--tokens-used", "812", "--cost-usd", "0.0042", "--duration-ms", "950",
         "-o", "t3", *trust],
        ["token", "attest", "t3", "--key", "a.jwk", "--note", "checked the hotel list",
         "-o", "t4", *trust],
    ]
    for step in steps:
        ok(run(*step, cwd=d))
    return d, ids


def test_cli_chain_passes_audit_verify(chain: tuple[Path, dict[str, str]]) -> None:
    d, ids = chain
    proc = ok(run("audit", "verify", "t4", "--trust", ids["root"], "--invoked-token", "t2",
                  "--result", "result.json", cwd=d))
    assert proc.stdout.startswith("valid: chained audit record; 1 hop(s)")
    out = json.loads(ok(run("audit", "verify", "t3", "--trust", ids["root"], "--json",
                            cwd=d)).stdout)
    assert out["valid"] is True and out["mode"] == "chained"
    assert out["completion"]["executor"] == ids["tool"]
    assert out["completion"]["status"] == "completed"
    assert out["completion"]["tokens_used"] == 812 and out["completion"]["cost_usd"] == "0.0042"
    assert out["budget_ceiling"] == 200 and out["within_budget"] is True


def test_audit_show_renders_the_timeline(chain: tuple[Path, dict[str, str]]) -> None:
    d, ids = chain
    text = ok(run("audit", "show", "t4", "--trust", ids["root"], "--result", "result.json",
                  cwd=d)).stdout
    lines = text.splitlines()
    assert lines[0] == "audit record (chained mode) — verified"
    assert lines[1] == f"principal: {ids['root']}"
    assert f"{ids['root']} grants to {ids['a']}" in text
    assert "scopes: tool:*" in text
    assert f"{ids['a']} delegates to {ids['b']}" in text
    assert 'context: "book the trip"' in text
    assert f"invocation by {ids['b']}" in text
    assert f'tools/call "search" at "{ids["tool"]}"' in text
    assert f"result COMPLETED from {ids['tool']}" in text
    assert "(matches the result given)" in text
    assert "usage: tokens 812, cost $0.0042, duration 950 ms (within budget)" in text
    assert f"countersigned by {ids['a']}: VERIFIED" in text
    assert 'note: "checked the hotel list"' in text
    # The timeline is in order: grant, hop, invocation, result, attestation.
    order = [text.index(s) for s in ("grants to", "delegates to", "invocation by",
                                     "result COMPLETED", "countersigned")]
    assert order == sorted(order)
    record = json.loads(ok(run("audit", "show", "t4", "--trust", ids["root"], "--json",
                               cwd=d)).stdout)
    assert [a["kind"] for a in record["attestations"]] == ["countersignature"]


def test_compact_receipt_from_the_cli(chain: tuple[Path, dict[str, str]]) -> None:
    d, ids = chain
    ok(run("token", "issue", "--key", "root.jwk", "--sub", ids["a"], "--aud", ids["tool"],
           "--scope", "tool:search", "-o", "c0", cwd=d))
    ok(run("prove", "--token", "c0", "--key", "a.jwk", "--audience", ids["tool"], "--tool",
           "search", "--arguments", "{}", "-o", "p0", cwd=d))
    ok(run("token", "complete", "c0", "--proof", "p0", "--key", "tool.jwk", "--status",
           "partial", "--result", "result.json", "-o", "r0", "--trust", ids["root"], cwd=d))
    text = ok(run("audit", "show", "c0", "--proof", "p0", "--receipt", "r0", "--trust",
                  ids["root"], cwd=d)).stdout
    assert "audit record (compact mode)" in text
    assert f"result PARTIAL from {ids['tool']}" in text
    # A receipt made by someone else than the audience fails cleanly.
    proc = run("token", "complete", "c0", "--proof", "p0", "--key", "mallory.jwk", "--status",
               "completed", "--result-hash", "sha256:" + "0" * 64, "--trust", ids["root"],
               cwd=d)
    assert_clean_failure(proc, "aip_completion_invalid")


@pytest.mark.parametrize(("args", "code"), [
    (["audit", "verify", "t2"], "aip_completion_invalid"),  # invoked, not completed
    (["audit", "verify", "t1"], "aip_proof_missing"),  # not even invoked
    (["audit", "verify", "t3", "--result-hash", "sha256:" + "1" * 64], "aip_completion_invalid"),
    (["audit", "show", "t3", "--invoked-token", "t1"], "aip_completion_invalid"),
    (["audit", "show", "garbage!"], "aip_token_malformed"),
    (["token", "complete", "t3", "--key", "tool.jwk", "--status", "completed",
      "--result-hash", "sha256:" + "0" * 64], "aip_completion_invalid"),  # already completed
    (["token", "complete", "t2", "--key", "mallory.jwk", "--status", "completed",
      "--result-hash", "sha256:" + "0" * 64], "aip_completion_invalid"),  # not the executor
    (["token", "attest", "t3", "--key", "b.jwk"], "aip_attestation_invalid"),
    (["token", "attest", "t2", "--key", "a.jwk"], "aip_attestation_invalid"),
])
def test_failures_are_one_coded_line(chain: tuple[Path, dict[str, str]], args: list[str],
                                     code: str) -> None:
    d, ids = chain
    assert_clean_failure(run(*args, "--trust", ids["root"], cwd=d), code)


def test_third_party_attestation_and_trusted_attesters(
        chain: tuple[Path, dict[str, str]]) -> None:
    d, ids = chain
    ok(run("token", "attest", "t4", "--key", "auditor.jwk", "--kind", "third_party",
           "--disputed", "-o", "t5", "--trust", ids["root"], cwd=d))
    text = ok(run("audit", "show", "t5", "--trust", ids["root"], cwd=d)).stdout
    assert f"attested (third party) by {ids['auditor']}: DISPUTED" in text
    assert_clean_failure(run("audit", "verify", "t5", "--trust", ids["root"],
                             "--trusted-attester", ids["mallory"], cwd=d),
                         "aip_attestation_invalid")
