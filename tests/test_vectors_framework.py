"""Vectors framework: generate / check / verify round trip, signing key, and tamper detection."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from impls.synthetic import VALID_A, case, make_root, standard_cases, vector_file

from aip_conformance import VectorFileError, load_vectors
from aip_conformance._generate import (
    VECTORS_PUBLIC_KEY,
    build_files,
    check_vectors,
    sign_manifest,
    vectors_private_key,
    verify_vectors,
    write_vectors,
)
from aip_conformance.cli import main


def fake_generator() -> dict[str, dict[str, Any]]:
    return {
        "synthetic/one.json": vector_file(standard_cases()),
        "synthetic/two.json": vector_file([case(1, VALID_A, comment="ünïcode stays")]),
    }


def generated(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    root = make_root(tmp_path)
    files = build_files({"fake": fake_generator}, root / "schemas")
    write_vectors(files, root / "vectors")
    return root, files


def test_the_pinned_public_key_is_the_seed_derived_one() -> None:
    raw = vectors_private_key().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == VECTORS_PUBLIC_KEY


def test_generate_writes_files_manifest_and_signature(tmp_path: Path) -> None:
    root, files = generated(tmp_path)
    vectors = root / "vectors"
    manifest = json.loads((vectors / "manifest.json").read_text())
    assert list(manifest["files"]) == ["synthetic/one.json", "synthetic/two.json"]
    assert manifest["numberOfTests"] == 4
    one = (vectors / "synthetic/one.json").read_text(encoding="utf-8")
    assert one == json.dumps(fake_generator()["synthetic/one.json"], indent=2,
                             ensure_ascii=False) + "\n"
    assert "ünïcode stays" in (vectors / "synthetic/two.json").read_text(encoding="utf-8")
    assert (vectors / "manifest.jws").read_bytes() == sign_manifest(
        (vectors / "manifest.json").read_bytes())
    assert verify_vectors(vectors) == []
    assert check_vectors(files, vectors).ok
    assert not list(root.glob(".vectors-*"))  # the staging folder is gone
    assert len(load_vectors(vectors / "synthetic/one.json", root=root).cases) == 3


def test_generation_is_byte_for_byte_reproducible(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    first = build_files({"fake": fake_generator}, root / "schemas")
    second = build_files({"fake": fake_generator}, root / "schemas")
    assert first == second


def test_check_reports_differing_missing_and_extra_files(tmp_path: Path) -> None:
    root, files = generated(tmp_path)
    vectors = root / "vectors"
    (vectors / "synthetic/one.json").write_text("{}\n")
    (vectors / "synthetic/two.json").unlink()
    (vectors / "synthetic/three.json").write_text("{}\n")
    result = check_vectors(files, vectors)
    assert result.differ == ["synthetic/one.json"]
    assert result.missing == ["synthetic/two.json"]
    assert result.extra == ["synthetic/three.json"]
    assert not result.ok


def test_tampering_with_a_vector_file_fails_verify(tmp_path: Path) -> None:
    root, _ = generated(tmp_path)
    path = root / "vectors/synthetic/one.json"
    path.write_text(path.read_text().replace('"aip_x"', '"aip_y"'))
    assert verify_vectors(root / "vectors") == [
        "vectors/synthetic/one.json: digest does not match the manifest"]


def test_tampering_with_the_manifest_fails_verify(tmp_path: Path) -> None:
    root, _ = generated(tmp_path)
    manifest = root / "vectors/manifest.json"
    manifest.write_text(manifest.read_text().replace('"numberOfTests": 4', '"numberOfTests": 5'))
    assert verify_vectors(root / "vectors") == [
        "manifest.jws does not sign the bytes of manifest.json"]


def test_a_signature_by_another_key_fails_verify(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    root, _ = generated(tmp_path)
    vectors = root / "vectors"
    forged = sign_manifest((vectors / "manifest.json").read_bytes(), Ed25519PrivateKey.generate())
    (vectors / "manifest.jws").write_bytes(forged)
    assert "does not verify" in verify_vectors(vectors)[0]


def test_an_unlisted_vector_file_fails_verify(tmp_path: Path) -> None:
    root, _ = generated(tmp_path)
    (root / "vectors/synthetic/sneaky.json").write_text("{}\n")
    assert verify_vectors(root / "vectors") == [
        "vectors/synthetic/sneaky.json: not listed in the manifest"]


def test_regenerating_drops_files_no_longer_generated(tmp_path: Path) -> None:
    root, _ = generated(tmp_path)
    (root / "vectors/README.md").write_text("kept: not a generated file\n")
    files = build_files({"fake": lambda: {"synthetic/one.json": vector_file(standard_cases())}},
                        root / "schemas")
    write_vectors(files, root / "vectors")
    assert not (root / "vectors/synthetic/two.json").exists()
    assert (root / "vectors/README.md").exists()
    assert verify_vectors(root / "vectors") == []


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda f: f.update(numberOfTests=7), "says 7, file holds 3"),
    (lambda f: f["testGroups"][0]["tests"][1].update(tcId=1), "duplicate tcId 1"),
    (lambda f: f["testGroups"][0]["tests"][0].update(flags=["Nope"]), "flag 'Nope' has no"),
    (lambda f: f["testGroups"][0]["tests"][1].pop("error"), "'error' is a required property"),
    (lambda f: f.update(profile="identity"), "must match its folder"),
])
def test_invalid_generator_output_is_refused_and_nothing_is_written(
    tmp_path: Path, mutate: Any, message: str
) -> None:
    root = make_root(tmp_path)

    def broken() -> dict[str, dict[str, Any]]:
        f = vector_file(standard_cases())
        mutate(f)
        return {"synthetic/bad.json": f}

    with pytest.raises(VectorFileError, match=message):
        build_files({"broken": broken}, root / "schemas")
    assert not (root / "vectors").exists()


def test_a_crashing_generator_is_reported_not_raised_raw(tmp_path: Path) -> None:
    def crashing() -> dict[str, dict[str, Any]]:
        raise KeyError("seed")

    with pytest.raises(VectorFileError, match="generator crashing failed: KeyError"):
        build_files({"crashing": crashing}, make_root(tmp_path) / "schemas")


def test_load_vectors_rejects_a_broken_file_with_its_path(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"synthetic/s.json": {"schema": "aip-vectors-v1"}})
    with pytest.raises(VectorFileError, match=r"s\.json: .*'profile' is a required property"):
        load_vectors(root / "vectors/synthetic/s.json", root=root)


def test_cases_cite_the_union_of_their_flags_requirements(tmp_path: Path) -> None:
    tests = [case(1, VALID_A, flags=["Basic", "Other"])]
    root = make_root(tmp_path, {"synthetic/s.json": vector_file(tests)})
    (c,) = load_vectors(root / "vectors/synthetic/s.json", root=root).cases
    assert c.id == "synthetic/s#1"
    assert c.requirements == ("AIP-SYN-001", "AIP-SYN-002")
    assert c.request() == {"id": "synthetic/s#1", "operation": "echo", "now": 1767225600,
                           "trust": {}, "input": {"answer": VALID_A}}


def test_cli_verify_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = generated(tmp_path)
    monkeypatch.setenv("AIP_CONFORMANCE_ROOT", str(root))
    assert main(["vectors", "verify"]) == 0
    (root / "vectors/synthetic/one.json").write_text("{}\n")
    assert main(["vectors", "verify"]) == 1
    capsys.readouterr()
    assert main(["vectors", "key"]) == 0
    assert json.loads(capsys.readouterr().out)["x"] == VECTORS_PUBLIC_KEY


def test_cli_generate_then_check_detects_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_root(tmp_path)
    monkeypatch.setenv("AIP_CONFORMANCE_ROOT", str(root))
    monkeypatch.setattr("aip_conformance.cli.discover_generators",
                        lambda: {"fake": fake_generator})
    assert main(["vectors", "generate"]) == 0
    assert main(["vectors", "check"]) == 0
    (root / "vectors/synthetic/one.json").write_text("{}\n")
    capsys.readouterr()
    assert main(["vectors", "check"]) == 1
    assert "differs: vectors/synthetic/one.json" in capsys.readouterr().out


def test_concat_inputs_are_expanded_and_malformed_ones_refused() -> None:
    from aip_conformance._vectors import expand_input

    got = expand_input({"lists": [{"$concat": ["a.", {"$repeat": "xy", "count": 3}, ".b"]}],
                        "keep": {"$concat": "not a list", "other": 1}, "n": 7})
    assert got == {"lists": ["a.xyxyxy.b"], "keep": {"$concat": "not a list", "other": 1}, "n": 7}
    assert expand_input({"$concat": [{"$repeat": "x", "count": 0}]}) == ""
    for bad in ({"$concat": "x"}, {"$concat": [7]}, {"$concat": [{"$repeat": "x", "count": -1}]},
                {"$concat": [{"$repeat": "x", "count": True}]}):
        with pytest.raises(VectorFileError):
            expand_input(bad)
