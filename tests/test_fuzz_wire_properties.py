"""Property tests over every wire format: random bytes, and valid vector inputs mutated byte by
byte, put in place of one member of a valid vector case and run through the reference's
harness adapter. Any input gives a result or an AIP error with a registry code and a one-line
message, never another exception (issue 7, fuzzing; spec/errors.md AIP-ERR-001).

The targets are the atheris targets of ``fuzz/targets.py`` (shared, so both fuzzers check the
same property)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("aip_fuzz_targets", ROOT / "fuzz" / "targets.py")
assert _spec is not None and _spec.loader is not None
targets: Any = importlib.util.module_from_spec(_spec)
sys.modules["aip_fuzz_targets"] = targets
_spec.loader.exec_module(targets)

WIRE_TARGETS = sorted(set(targets.TARGETS) - {"harness_case"})
SEEDS = {name: targets.seeds(name) for name in targets.TARGETS}
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed with a few byte edits: flip, overwrite, insert, delete, truncate, duplicate."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "splice"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete" and data:
            del data[at:at + draw(st.integers(1, 16))]
        elif op == "truncate":
            del data[at:]
        elif op == "splice" and data:
            other = draw(st.sampled_from(seeds))
            cut = draw(st.integers(0, len(other)))
            data[at:] = other[cut:]
    return bytes(data)


def test_every_wire_format_has_a_target_and_seeds() -> None:
    for name in WIRE_TARGETS:
        assert SEEDS[name], name
    for name in ("compact_token", "proof", "chained_token", "revocation_list",
                 "identity_document", "receipt", "completed_chain", "identifier"):
        assert name in targets.TARGETS


@pytest.mark.parametrize("name", WIRE_TARGETS)
def test_every_seed_is_handled(name: str) -> None:
    for data in SEEDS[name]:
        targets.TARGETS[name](data)


@pytest.mark.parametrize("name", WIRE_TARGETS)
@FAST
@given(data=st.data())
def test_random_bytes_give_a_registry_code(name: str, data: st.DataObject) -> None:
    targets.TARGETS[name](data.draw(st.binary(max_size=600)))


@pytest.mark.parametrize("name", WIRE_TARGETS)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_valid_inputs_give_a_registry_code(name: str, data: st.DataObject) -> None:
    targets.TARGETS[name](data.draw(mutated(SEEDS[name])))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(SEEDS["harness_case"]), data=st.data(), value=json_values)
def test_any_input_member_of_any_case_gives_a_result(seed: bytes, data: st.DataObject,
                                                     value: object) -> None:
    """Every operation of the adapter: one input member replaced (or added) with any JSON."""
    case = json.loads(seed)
    name = data.draw(st.sampled_from(sorted(case["input"])) | st.text(max_size=12))
    case["input"][name] = value
    targets.fuzz_harness_case(json.dumps(case).encode())


@FAST
@given(st.binary(max_size=400))
def test_any_bytes_as_a_harness_case_give_a_result(data: bytes) -> None:
    targets.fuzz_harness_case(data)


# Found by atheris (harness_case, 2026-11-29): a case object off the harness schema made the
# reference adapter raise (a traceback from ``python -m aip.harness``) instead of answering.
MALFORMED_CASES = [
    {"operation": "identifier.parse", "now": "abc", "input": {}},
    {"operation": "identifier.parse", "now": 1e400, "input": {}},
    {"operation": "identifier.parse", "input": [1]},
    {"operation": "identifier.parse", "input": {"identifier": "x"}, "trust": [1]},
    {"operation": ["identifier.parse"]},
    " ,Mxl",
    [1, 2],
]


@pytest.mark.parametrize("case", MALFORMED_CASES)
def test_the_adapter_answers_malformed_cases_without_raising(case: object) -> None:
    from aip.harness import handle

    answer = handle({"cmd": "run", "seq": 7, "case": case})
    assert answer is not None and answer["seq"] == 7
    assert "errored" in answer or "skipped" in answer
    targets.fuzz_harness_case(json.dumps(case).encode())


# Found by atheris (harness_case, second run): compact.verify with an audience over 256
# characters (or a proof_max_age out of range) raised ValueError in CompactVerifier's
# constructor and the adapter answered errored; now an input error with a registry code.
@pytest.mark.parametrize("member,value", [("audience", "https://x.example/" + "a" * 300),
                                          ("audience", ""), ("proof_max_age", 0),
                                          ("proof_max_age", 601)])
def test_compact_verify_settings_out_of_range_are_input_errors(member: str, value: object) -> None:
    from aip.harness import handle

    case = json.loads(json.dumps(targets._template("compact/tokens.json", "compact.verify",
                                                   "token")))
    case["input"][member] = value
    answer = targets.check_answer(handle({"cmd": "run", "seq": 1, "case": case}))
    assert answer["result"] == {**answer["result"], "valid": False, "error": "aip_input_invalid"}


# Found by atheris (harness_case, third run): a trust.skew outside 0..300 (or trust members of
# the wrong type) raised ValueError/TypeError from the resolver; now aip_input_invalid.
@pytest.mark.parametrize("trust", [{"skew": 301}, {"skew": -1}, {"skew": True},
                                   {"documents": [1]}, {"trusted_issuers": "aip:key:x"},
                                   {"trusted_issuers": [7]}])
def test_trust_settings_of_the_wrong_shape_are_input_errors(trust: dict[str, object]) -> None:
    from aip.harness import handle

    for file, operation in (("chained/chains.json", "chained.verify"),
                            ("compact/tokens.json", "compact.verify")):
        case = json.loads(json.dumps(targets._template(file, operation, "token")))
        case["trust"] = {**case["trust"], **trust}
        answer = targets.check_answer(handle({"cmd": "run", "seq": 1, "case": case}))
        assert answer["result"]["valid"] is False
        assert answer["result"]["error"] == "aip_input_invalid"
