"""Running the evaluation: serve the five arms, deliver every attempt to every arm that
accepts its mode, and tally rejections and codes."""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import anyio

from aip import SigningKey, sign_revocation_list

from ._arms import ARM_MODES, ARM_TITLES, ARMS, arm_apps, serve_arms
from ._categories import CATEGORIES, Category, legit
from ._client import ArmClient, Attempt, Outcome
from ._world import World

__all__ = ["LEGIT_CALLS", "run"]

LEGIT_CALLS = 5
AIP_ARMS = ("compact", "chained")


def _fingerprint(attempt: Attempt) -> str:
    blob = json.dumps([attempt.headers, attempt.tool, attempt.arguments, attempt.meta,
                       list(attempt.raw_headers or ()), (attempt.raw_body or b"").hex()],
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def revocation_list(world: World) -> str:
    signer = SigningKey(world.A.key, world.A.id, world.A.kid)
    return sign_revocation_list(signer, issued_at=world.now - 60, next_update=world.now + 86400,
                                revoked_ids=world.revoked_ids(),
                                revoked_keys=[(r.id, r.kid) for r in world.R])


async def _deliver(clients: dict[str, ArmClient], arm: str, attempt: Attempt) -> tuple[Outcome | None, Outcome]:
    primed = await clients[arm].send(attempt) if attempt.prime else None
    return primed, await clients[arm].send(attempt)


async def _run(seed: int, per_category: int, only: Sequence[str] | None) -> dict[str, Any]:
    world = World(seed)
    started = time.monotonic()
    apps = arm_apps(world, [revocation_list(world)])
    categories = [c for c in CATEGORIES if not only or c.key in only]
    report: dict[str, Any] = {
        "seed": seed, "per_category": per_category, "arms": {}, "categories": [], "failures": []}
    with serve_arms(apps) as urls:
        async with contextlib.AsyncExitStack() as stack:
            clients = {arm: await stack.enter_async_context(ArmClient(urls[arm])) for arm in ARMS}
            for arm in ARMS:
                legit_stats: dict[str, dict[str, int]] = {}
                for mode in sorted(ARM_MODES[arm]):
                    world.now = int(time.time())
                    ok = 0
                    for k in range(LEGIT_CALLS):
                        _, outcome = await _deliver(clients, arm, legit(world, random.Random(f"{seed}/legit/{mode}/{k}"),
                                                                        mode, k))
                        ok += outcome.accepted
                    legit_stats[mode] = {"sent": LEGIT_CALLS, "accepted": ok}
                report["arms"][arm] = {"title": ARM_TITLES[arm], "modes": sorted(ARM_MODES[arm]),
                                       "legitimate": legit_stats}
            for cat in categories:
                report["categories"].append(await _category(world, seed, per_category, cat, clients, report))
    report["totals"] = _totals(report)
    report["seconds"] = round(time.monotonic() - started, 1)
    return report


async def _category(world: World, seed: int, n: int, cat: Category, clients: dict[str, ArmClient],
                    report: dict[str, Any]) -> dict[str, Any]:
    world.now = int(time.time())
    tallies: dict[str, dict[str, Any]] = {}
    attempts: dict[str, int] = {}
    prints: set[str] = set()
    examples: list[str] = []
    for mode in cat.modes:
        arms = [a for a in ARMS if mode in ARM_MODES[a]]
        for i in range(n):
            attempt = cat.craft(world, random.Random(f"{seed}/{cat.key}/{mode}/{i}"), i, mode)
            prints.add(_fingerprint(attempt))
            attempts[mode] = attempts.get(mode, 0) + 1
            if len(examples) < 4:
                examples.append(f"{mode}: {attempt.label}")
            for arm in arms:
                primed, outcome = await _deliver(clients, arm, attempt)
                t = tallies.setdefault(arm, {"sent": 0, "rejected": 0, "correct_code": 0, "codes": Counter(),
                                             "primed_ok": 0})
                t["sent"] += 1
                t["rejected"] += not outcome.accepted
                t["codes"][outcome.code or ("(accepted)" if outcome.accepted else f"(no code: {outcome.detail})")] += 1
                if primed is not None:
                    t["primed_ok"] += primed.accepted
                if arm in AIP_ARMS:
                    t["correct_code"] += (not outcome.accepted) and outcome.code == attempt.expect
                    if outcome.accepted or outcome.code != attempt.expect:
                        report["failures"].append({
                            "category": cat.key, "arm": arm, "mode": mode, "attempt": i, "label": attempt.label,
                            "expected": attempt.expect, "got": outcome.code,
                            "accepted": outcome.accepted, "detail": outcome.detail,
                            "primed_accepted": None if primed is None else primed.accepted})
    arms_out: dict[str, Any] = {}
    for arm in ARMS:
        if arm not in tallies:
            arms_out[arm] = None
            continue
        t = tallies[arm]
        entry: dict[str, Any] = {"sent": t["sent"], "rejected": t["rejected"],
                                 "rejection_rate": t["rejected"] / t["sent"], "codes": dict(t["codes"])}
        if arm in AIP_ARMS:
            entry["correct_code"] = t["correct_code"]
            entry["correct_code_rate"] = t["correct_code"] / t["sent"]
        if t["primed_ok"]:
            entry["first_delivery_accepted"] = t["primed_ok"]
        arms_out[arm] = entry
    return {"key": cat.key, "title": cat.title, "group": cat.group, "modes": list(cat.modes),
            "requirements": cat.requirements, "attempts": attempts, "distinct_attempts": len(prints),
            "examples": examples, "arms": arms_out}


def _totals(report: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for arm in ARMS:
        rows = [c["arms"][arm] for c in report["categories"] if c["arms"][arm] is not None]
        sent = sum(r["sent"] for r in rows)
        rejected = sum(r["rejected"] for r in rows)
        entry: dict[str, Any] = {"categories": len(rows), "sent": sent, "rejected": rejected,
                                 "rejection_rate": rejected / sent if sent else None,
                                 "categories_fully_rejected": sum(r["rejected"] == r["sent"] for r in rows)}
        if arm in AIP_ARMS:
            correct = sum(r["correct_code"] for r in rows)
            entry["correct_code"] = correct
            entry["correct_code_rate"] = correct / sent if sent else None
        out[arm] = entry
    return out


def run(seed: int = 1, per_category: int = 20, only: Sequence[str] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = anyio.run(_run, seed, per_category, only)
    return result
