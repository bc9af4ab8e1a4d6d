"""`aip-conformance probe mcp` against the reference MCP server (every check passes) and against
a deliberately weak server that checks signatures only (caught, case by case)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from weak_servers.servers import reference_mcp_app
from weak_servers.weak_mcp import weak_app

from aip import generate_key
from aip._keys import SigningKey, dumps_key
from aip.bindings._serve import LoopbackServer
from aip_conformance.cli import main
from aip_conformance.probe import ProbeConfig, load_identity, run_probe

ROOT = Path(__file__).resolve().parents[1]

# What a signatures-only server gets right: it refuses a missing token and bad signatures (and,
# ignoring X-AIP-Token-Ref altogether, it is right about token references too: AIP-HTTP-031).
WEAK_PASSES = {"no-token", "valid-compact", "token-in-x-aip-token", "wrong-key", "forged-claim",
               "valid-chained", "token-ref-with-inline-token", "token-ref-unfetchable"}


@pytest.fixture(scope="module")
def issuer_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[SigningKey, Path]:
    key = generate_key()
    path = tmp_path_factory.mktemp("keys") / "issuer.json"
    path.write_text(dumps_key(key))
    return key, path


@pytest.fixture(scope="module")
def servers(issuer_file: tuple[SigningKey, Path]) -> Iterator[dict[str, str]]:
    issuer, _ = issuer_file
    good, weak = generate_key(), generate_key()
    with LoopbackServer(reference_mcp_app(issuer.identity, good)) as good_url, \
            LoopbackServer(reference_mcp_app(issuer.identity, good, hook=True)) as hook_url, \
            LoopbackServer(weak_app(issuer.public_key, weak.identity)) as weak_url:
        yield {"good": good_url + "/mcp", "weak": weak_url + "/mcp", "weak_audience": weak.identity,
               "unsigned": hook_url + "/mcp"}


def _names(result: object, outcome: str) -> set[str]:
    return {r.case.flags[0] for r in result.records if r.outcome == outcome}  # type: ignore[attr-defined]


def test_every_probe_passes_against_the_reference_server(
        servers: dict[str, str], issuer_file: tuple[SigningKey, Path]) -> None:
    result = run_probe(ProbeConfig(profile="mcp", url=servers["good"],
                                   issuer=load_identity(issuer_file[1]), tool="search",
                                   arguments={"q": "llamas"}))
    failed = [(r.case.flags[0], r.reason) for r in result.records if r.outcome != "passed"]
    assert failed == []
    assert result.ok
    assert len(result.records) == 32
    checked = {r.case.flags[0] for r in result.records}
    assert {"completion-compact", "completion-chained"} <= checked


def test_the_weak_server_is_caught_case_by_case(
        servers: dict[str, str], issuer_file: tuple[SigningKey, Path]) -> None:
    result = run_probe(ProbeConfig(profile="mcp", url=servers["weak"],
                                   issuer=load_identity(issuer_file[1]), tool="search",
                                   audience=servers["weak_audience"], arguments={"q": "x"}))
    assert not result.ok
    assert _names(result, "passed") == WEAK_PASSES
    assert _names(result, "failed") == {r.case.flags[0] for r in result.records} - WEAK_PASSES
    assert _names(result, "errored") == set()
    reasons = {r.case.flags[0]: r.reason for r in result.records}
    assert reasons["wrong-audience"] == "expected aip_audience_mismatch, got success"
    assert "got aip_signature_invalid" in reasons["alg-none"]
    # The weak server returns results without completion records (AIP-MCP-041).
    for name in ("completion-compact", "completion-chained"):
        assert reasons[name] == \
            'the result carries no completion record (result._meta["aip/completion"])'


def test_an_unsigned_completion_record_is_caught(
        servers: dict[str, str], issuer_file: tuple[SigningKey, Path]) -> None:
    # A server whose hook returns its own unsigned JSON instead of a completion record.
    result = run_probe(ProbeConfig(profile="mcp", url=servers["unsigned"],
                                   issuer=load_identity(issuer_file[1]), tool="search"))
    assert _names(result, "failed") == {"completion-compact", "completion-chained"}
    reasons = {r.case.flags[0]: r.reason for r in result.records}
    assert reasons["completion-compact"] == \
        "the completion record is not an object with exactly 'receipt'"
    assert "AIP-MCP-041" in next(r.case.requirements for r in result.records
                                 if r.case.flags[0] == "completion-chained")


def test_probe_cli_writes_reports_like_run(servers: dict[str, str], tmp_path: Path,
                                           issuer_file: tuple[SigningKey, Path],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["probe", "mcp", servers["good"], "--issuer-key", str(issuer_file[1]),
                 "--tool", "search", "--arguments", '{"q": "cli"}', "--mode", "compact",
                 "--report", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "conforms" in out and "result: PASS" in out
    report = json.loads((tmp_path / "report.json").read_text())
    schema = json.loads((ROOT / "schemas" / "report.schema.json").read_text())
    jsonschema.validate(report, schema, cls=jsonschema.Draft202012Validator,
                        registry=_registry())
    assert (tmp_path / "junit.xml").read_bytes().startswith(b"<?xml")
    assert report["summary"]["requirements"]["AIP-MCP-030"]["failed"] == 0


def test_probe_cli_exits_1_against_the_weak_server(servers: dict[str, str], tmp_path: Path,
                                                   issuer_file: tuple[SigningKey, Path],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["probe", "mcp", servers["weak"], "--issuer-key", str(issuer_file[1]),
                 "--tool", "search", "--audience", servers["weak_audience"],
                 "--report", str(tmp_path)])
    assert code == 1
    assert "result: FAIL" in capsys.readouterr().out


def test_probe_cli_reports_an_unreachable_endpoint_without_a_traceback(
        issuer_file: tuple[SigningKey, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from aip.bindings._serve import free_port
    code = main(["probe", "mcp", f"http://127.0.0.1:{free_port()}/mcp", "--issuer-key",
                 str(issuer_file[1]), "--tool", "search", "--report", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: cannot reach") and "Traceback" not in err


def _registry() -> object:
    from referencing import Registry, Resource
    resources = []
    for path in (ROOT / "schemas").rglob("*.schema.json"):
        doc = json.loads(path.read_text())
        resources.append((doc["$id"], Resource.from_contents(doc)))
    return Registry().with_resources(resources)
