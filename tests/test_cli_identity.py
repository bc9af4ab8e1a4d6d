"""The `aip` CLI: identity commands work, and bad input gets a code and one line, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

AIP = [sys.executable, "-m", "aip.cli"]


def run(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AIP, *args], cwd=cwd, capture_output=True, text=True, input=stdin,
                          timeout=60)


def assert_clean_failure(proc: subprocess.CompletedProcess[str], code: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith(f"error: {code}: "), proc.stderr
    assert len(lines[-1]) < 300


def test_keygen_writes_a_private_key_file_readable_only_by_its_owner(tmp_path: Path) -> None:
    proc = run("keygen", "-o", "k.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    jwk = json.loads((tmp_path / "k.json").read_text())
    assert jwk["kty"] == "OKP" and jwk["aip_id"].startswith("aip:key:ed25519:z6Mk")
    assert proc.stdout.strip() == jwk["aip_id"]
    assert (tmp_path / "k.json").stat().st_mode & 0o077 == 0


def test_keygen_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    run("keygen", "-o", "k.json", cwd=tmp_path)
    before = (tmp_path / "k.json").read_text()
    assert_clean_failure(run("keygen", "-o", "k.json", cwd=tmp_path), "aip_input_invalid")
    assert (tmp_path / "k.json").read_text() == before


def test_identity_create_then_verify_then_resolve_from_a_trust_store(tmp_path: Path) -> None:
    ident = "aip:web:example.com/agents/alpha"
    run("keygen", "--identity", ident, "-o", "k1.json", cwd=tmp_path)
    run("keygen", "--identity", ident, "--kid", "key-2", "-o", "k2.json", cwd=tmp_path)
    proc = run("identity", "create", "--id", ident, "--key", "k1.json", "--key", "k2.json",
               "-o", "doc.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    verified = json.loads(run("identity", "verify", "doc.json", "--id", ident, cwd=tmp_path).stdout)
    assert verified["signed_by"] == "key-1" and [k["id"] for k in verified["keys"]] == ["key-1", "key-2"]
    store = {"aip_trust_store": "1.0", "documents": {ident: json.loads((tmp_path / "doc.json").read_text())}}
    (tmp_path / "trust.json").write_text(json.dumps(store))
    resolved = json.loads(run("identity", "resolve", ident, "--trust-store", "trust.json", cwd=tmp_path).stdout)
    assert resolved["id"] == ident and len(resolved["keys"]) == 2


def test_verify_reports_a_tampered_document(tmp_path: Path) -> None:
    ident = "aip:web:example.com/agents/alpha"
    run("keygen", "--identity", ident, "-o", "k1.json", cwd=tmp_path)
    run("identity", "create", "--id", ident, "--key", "k1.json", "-o", "doc.json", cwd=tmp_path)
    doc = json.loads((tmp_path / "doc.json").read_text())
    doc["name"] = "mallory"
    (tmp_path / "doc.json").write_text(json.dumps(doc))
    assert_clean_failure(run("identity", "verify", "doc.json", cwd=tmp_path), "aip_document_invalid")


@pytest.mark.parametrize(("args", "code"), [
    (["identity", "verify", "missing.json"], "aip_input_invalid"),
    (["identity", "parse", "aip:web:Example.com"], "aip_identifier_invalid"),
    (["identity", "parse", "did:key:z6Mk"], "aip_identifier_invalid"),
    (["identity", "create", "--id", "aip:web:example.com", "--key", "garbage.json"], "aip_input_invalid"),
    (["identity", "create", "--id", "aip:web:example.com", "--key", "missing.json"], "aip_input_invalid"),
    (["identity", "resolve", "aip:web:example.com/x"], "aip_identity_unresolvable"),
    (["identity", "resolve", "aip:web:example.com/x", "--trust-store", "garbage.json"], "aip_input_invalid"),
    (["identity", "resolve", "aip:web:example.com/x", "--skew", "999"], "aip_input_invalid"),
    (["keygen", "--identity", "aip:key:nope"], "aip_identifier_invalid"),
    (["identity", "nonsense"], "aip_input_invalid"),
    ([], "aip_input_invalid"),
])
def test_bad_input_gets_a_code_and_one_line(tmp_path: Path, args: list[str], code: str) -> None:
    (tmp_path / "garbage.json").write_text("{not json")
    assert_clean_failure(run(*args, cwd=tmp_path), code)


def test_no_half_written_file_when_the_output_directory_is_missing(tmp_path: Path) -> None:
    proc = run("keygen", "-o", str(tmp_path / "no" / "such" / "k.json"), cwd=tmp_path)
    assert_clean_failure(proc, "aip_input_invalid")
    assert not (tmp_path / "no").exists()
    assert not any(p.name.startswith(".aip-") for p in tmp_path.rglob("*")) or os.name == "nt"
