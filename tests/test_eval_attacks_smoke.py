"""Smoke run of the adversarial evaluation (eval/attacks): two attempts per category and
mode, over the real MCP binding. The AIP arms must reject everything with the spec's code;
the baseline arms are only measured (their figures are what they are)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval.attacks import CATEGORIES, run
from eval.attacks._arms import ARMS
from eval.attacks._report import markdown


@pytest.mark.slow
def test_aip_arms_reject_every_attack_with_the_right_code() -> None:
    report = run(seed=7, per_category=2)
    assert len(report["categories"]) == len(CATEGORIES) >= 30
    assert report["failures"] == []
    for arm in ("compact", "chained"):
        totals = report["totals"][arm]
        assert totals["rejected"] == totals["sent"] > 0
        assert totals["correct_code"] == totals["sent"]
    for arm in ARMS:  # every arm serves legitimate calls (else it is broken, not secure)
        for stats in report["arms"][arm]["legitimate"].values():
            assert stats["accepted"] == stats["sent"]
        assert report["totals"][arm]["sent"] > 0  # the baselines were measured, not assumed
    for cat in report["categories"]:
        assert cat["distinct_attempts"] == sum(cat["attempts"].values())
    assert "| # | Category |" in markdown(report)
