"""Short load and fault runs (eval/load) on loopback. Only correctness is asserted, never
timings: no wrong decision under concurrency, exactly one acceptance per raced proof (in
memory and on Redis), a bounded replay record, fail-closed identity resolution, fail-closed
replay checks while Redis is down and recovery after it returns."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval.load import load, redis_outage, replay_race, resolution_faults, resolution_isolation


@pytest.mark.slow
def test_concurrent_clients_get_no_wrong_decision() -> None:
    result = load(seconds=4, clients=8, max_entries=500)
    assert result["wrong_decisions"] == 0, result["wrong_examples"]
    assert result["valid_sent"] > 0 and result["bad_sent"] > 0
    assert result["valid_accepted"] == result["valid_sent"]
    assert result["bad_rejected"] == result["bad_right_code"] == result["bad_sent"]
    assert result["replay_cache_entries"] <= result["replay_cache_max_entries"]


@pytest.mark.slow
@pytest.mark.parametrize("store", ["memory", "redis"])
def test_a_raced_proof_is_accepted_exactly_once(store: str) -> None:
    result = replay_race(store, fan_out=16, rounds=4)
    assert result["exactly_one_accepted"] == result["rounds"]
    assert result["others_replay_detected"]


@pytest.mark.slow
def test_identity_resolution_faults_fail_closed() -> None:
    result = resolution_faults(timeout=1.0, calls=1)
    assert result["modes"]["ok"]["codes"] == {"(accepted)": 1}
    for mode in ("stall", "trickle", "500", "down"):
        assert result["modes"][mode]["codes"] == {"aip_identity_unresolvable": 1}, mode


@pytest.mark.slow
def test_redis_outage_fails_closed_and_recovers() -> None:
    phases = redis_outage(phase_seconds=1.5, skew=1)["phases"]
    assert set(phases["up"]["codes"]) == {"(accepted)"}
    assert set(phases["killed"]["codes"]) == {"aip_replay_detected"}
    assert set(phases["restarted"]["codes"]) <= {"aip_replay_detected", "(accepted)"}
    assert phases["restarted"]["codes"].get("(accepted)", 0) > 0


@pytest.mark.slow
def test_a_stalled_document_server_does_not_hold_up_other_callers() -> None:
    # Asserts the order of answers, not their times: the pinned issuer's call, sent while the
    # other is stalled on its issuer's document server, is answered first and accepted.
    result = resolution_isolation(timeout=3.0)
    assert result["answers_in_order"] == [("pinned issuer", "(accepted)"),
                                          ("stalled issuer", "aip_identity_unresolvable")]
