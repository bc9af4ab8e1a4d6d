"""Every chained vector passes against the reference, and the generator is reproducible."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from aip import _harness_chained  # noqa: F401  (registers the operations)
from aip.harness import handle
from aip_conformance import checks_chained
from aip_conformance._runner import subset_mismatch
from aip_conformance._vectors import expand_input
from aip_conformance.generators import chained

ROOT = Path(__file__).resolve().parents[1]
FILES = chained.generate()
CASES = [(name, group, test) for name, vf in FILES.items() for group in vf["testGroups"]
         for test in group["tests"]]


def test_at_least_100_vectors_and_chains_of_0_to_8_hops() -> None:
    assert len(CASES) >= 100
    depths = {len(t["expected"]["hops"]) for _, _, t in CASES if "expected" in t
              and "hops" in t.get("expected", {})}
    assert set(range(9)) <= depths


def test_generator_is_byte_reproducible() -> None:
    again = chained.generate()
    assert json.dumps(again, sort_keys=True) == json.dumps(FILES, sort_keys=True)


@pytest.mark.parametrize(("name", "group", "test"), CASES,
                         ids=[f"{n}#{t['tcId']}" for n, _, t in CASES])
def test_reference_passes(name: str, group: dict[str, Any], test: dict[str, Any]) -> None:
    inputs = expand_input(test["input"])
    answer = handle({"cmd": "run", "seq": 1, "case": {
        "id": f"{name}#{test['tcId']}", "operation": group["operation"], "now": group["now"],
        "trust": group["trust"], "input": inputs}})
    assert answer is not None and "result" in answer, answer
    result = answer["result"]
    if test["result"] == "valid":
        assert result["valid"], result
        assert subset_mismatch(test.get("expected", {}), result["output"]) is None
        assert checks_chained.check_output(group["operation"], inputs,
                                           result["output"]) == []
    else:
        assert not result["valid"] and result["error"] == test["error"], result


def test_every_chained_requirement_is_cited_or_excluded() -> None:
    spec = (ROOT / "spec" / "chained.md").read_text()
    ids = set(re.findall(r"\*\*(AIP-(?:CHN|REV)-\d{3})\*\*", spec))
    cited = {r for vf in FILES.values() for note in vf["notes"].values()
             for r in note["requirements"]}
    excluded = set(json.loads((ROOT / "conformance" / "aip_conformance" /
                               "exclusions.json").read_text())["excluded"])
    assert not ids - cited - excluded
    assert not {r for r in cited if r.startswith(("AIP-CHN", "AIP-REV"))} - ids


def test_checks_catch_a_broken_issuer() -> None:
    """The independent checker fails on tokens that do not match the case (a broken peer)."""
    cases = {t["comment"]: (g, t) for _, g, t in CASES}
    group, test = cases["holder delegates a narrower scope"]
    answer = handle({"cmd": "run", "seq": 1, "case": {
        "id": "x", "operation": group["operation"], "now": group["now"],
        "trust": group["trust"], "input": {**test["input"], "context": "something else"}}})
    assert answer is not None
    output = answer["result"]["output"]
    assert checks_chained.check_output("chained.delegate", test["input"], output)
    assert checks_chained.check_output("chained.delegate", test["input"],
                                       {"token": test["input"]["token"]})
    assert checks_chained.check_output("chained.invoke", test["input"], {"token": "x=="})
    group, test = cases["aip:web issuer mints for an aip:key holder"]
    assert checks_chained.check_output("chained.mint", {**test["input"], "holder": "aip:x"},
                                       {"token": test["input"].get("token", "AAAA")})


def test_checks_probe_the_block_checks_and_defaults() -> None:
    """A block 0 with the right fact but a check granting every tool, no expiry check, or a
    budget ceiling the input did not ask for is caught (AIP-CHN-020, AIP-CHN-023,
    AIP-CHN-080)."""
    import datetime as dt

    import biscuit_auth as ba

    cases = {t["comment"]: t for _, _, t in CASES}
    case_input = cases["aip:web issuer mints for an aip:key holder"]["input"]
    private = ba.PrivateKey.from_bytes(chained.KEYS["root"].private_bytes_raw(),
                                       ba.Algorithm.Ed25519)

    def minted(checks: str, budget: int = -1) -> dict[str, str]:
        builder = ba.BiscuitBuilder(
            "aip_authority({i}, {k}, {h}, {s}, {m}, {e}, {b}, {p});",
            {"i": chained.ROOT, "k": "root-1", "h": case_input["holder"],
             "s": " ".join(case_input["scopes"]), "m": case_input["max_depth"],
             "e": dt.datetime.fromtimestamp(case_input["expires"], tz=dt.UTC), "b": budget,
             "p": ""})
        if checks:
            builder.add_code(checks, {"e": dt.datetime.fromtimestamp(case_input["expires"],
                                                                      tz=dt.UTC)})
        return {"token": chained.b64url(bytes(builder.build(private).to_bytes()))}

    expiry = "check if time($t), $t <= {e};"
    scopes = 'check if tool($t), {"tool:search"}.contains($t) or tool($t), $t.starts_with("tool:fs:");'
    assert checks_chained.check_output("chained.mint", case_input, minted(scopes + expiry)) == []
    for bad in (minted("check if tool($t);" + expiry), minted(scopes),
                minted(scopes.replace('"tool:fs:"', '"tool:fs"') + expiry),
                minted(scopes + expiry, budget=0)):
        assert checks_chained.check_output("chained.mint", case_input, bad)
