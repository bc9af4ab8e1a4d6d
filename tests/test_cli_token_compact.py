"""`aip token issue|verify|inspect` and `aip prove`: the happy path, and every failure class
prints `error: <code>: <reason>` on one line and exits 1, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aip.cli import main

AUD = "https://tools.example.com/mcp"
NOW = "1767225600"


@pytest.fixture()
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    assert main(["keygen", "-o", "iss.json"]) == 0
    assert main(["keygen", "-o", "holder.json"]) == 0
    iss = json.loads(Path("iss.json").read_text())["aip_id"]
    holder = json.loads(Path("holder.json").read_text())["aip_id"]
    Path("trust.json").write_text(json.dumps({"aip_trust_store": "1.0", "trusted_issuers": [iss]}))
    assert main(["token", "issue", "--key", "iss.json", "--sub", holder, "--aud", AUD,
                 "--scope", "tool:search", "--now", NOW, "-o", "tok.txt"]) == 0
    assert main(["prove", "--key", "holder.json", "--token", "tok.txt", "--audience", AUD,
                 "--tool", "search", "--arguments", '{"q":"aip","n":10}', "--now", NOW,
                 "-o", "prf.txt"]) == 0
    return {"iss": iss, "holder": holder}


def verify(*extra: str) -> list[str]:
    return ["token", "verify", "tok.txt", "--audience", AUD, "--trust-store", "trust.json",
            "--now", NOW, *extra]


def failure(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    assert err[0].startswith("error: aip_")
    return err[0].split(":")[1].strip()


def test_issue_prove_verify_round_trip(setup: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(verify("--proof", "prf.txt", "--operation", "tools/call", "--tool", "search",
                       "--arguments", '{"n":1.0E1,"q":"aip"}')) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] and out["sub"] == setup["holder"] and out["proof"]["tool"] == "search"


def test_inspect_shows_the_claims_without_verifying(setup: dict[str, str],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["token", "inspect", "tok.txt", "--now", NOW]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["claims"]["iss"] == setup["iss"] and out["notes"][0].startswith("NOT VERIFIED")


@pytest.mark.parametrize(("extra", "code"), [
    ([], "aip_proof_missing"),
    (["--no-proof", "--now", "1767240000"], "aip_token_expired"),
    (["--no-proof", "--now", "1767225000"], "aip_token_not_yet_valid"),
    (["--no-proof", "--operation", "tools/call", "--tool", "delete"], "aip_scope_insufficient"),
    (["--proof", "prf.txt", "--operation", "tools/call", "--tool", "search", "--arguments", '{"q":"x"}'],
     "aip_invocation_mismatch"),
    (["--proof", "prf.txt", "--operation", "tools/call", "--tool", "search",
      "--arguments", '{"q":"aip","n":10,"n":11}'], "aip_input_invalid"),
])
def test_each_failure_class_prints_its_code(setup: dict[str, str], capsys: pytest.CaptureFixture[str],
                                            extra: list[str], code: str) -> None:
    capsys.readouterr()
    assert failure(verify(*extra), capsys) == code  # a later --now overrides the first


def test_wrong_audience_and_untrusted_issuer(setup: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert failure(["token", "verify", "tok.txt", "--audience", "https://other/mcp", "--no-proof",
                    "--trust-store", "trust.json", "--now", NOW], capsys) == "aip_audience_mismatch"
    assert failure(["token", "verify", "tok.txt", "--audience", AUD, "--no-proof", "--now", NOW],
                   capsys) == "aip_identity_unresolvable"


def test_tampered_and_malformed_tokens(setup: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    h, p, s = Path("tok.txt").read_text().strip().split(".")
    Path("bad.txt").write_text(f"{h}.{p}.{s[:10]}{'A' if s[10] != 'A' else 'B'}{s[11:]}")
    assert failure(["token", "verify", "bad.txt", "--audience", AUD, "--no-proof",
                    "--trust-store", "trust.json", "--now", NOW], capsys) == "aip_signature_invalid"
    Path("bad.txt").write_text(f"{h}.{p}==.{s}")
    assert failure(["token", "verify", "bad.txt", "--audience", AUD, "--no-proof",
                    "--trust-store", "trust.json", "--now", NOW], capsys) == "aip_token_malformed"


def test_unreadable_key_file_is_an_input_error(setup: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert failure(["prove", "--key", "missing.json", "--token", "tok.txt", "--audience", AUD],
                   capsys) == "aip_input_invalid"


def test_a_real_process_shows_no_traceback(setup: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "aip.cli", *verify("--no-proof", "--now", "1767240000")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("error: aip_token_expired: ")
