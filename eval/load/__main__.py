"""``python -m eval.load [--out eval/results] [--seconds 20] [--clients 16]``: load and faults
against the reference MCP server on loopback; writes load.json and load.md."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..attacks._report import update_spec
from ._load import load, redis_outage, replay_race, resolution_faults


def markdown(r: dict[str, Any]) -> str:
    ld = r["load"]
    lines = [
        "| Check | Setting | Result |",
        "|---|---|---|",
        f"| Concurrent load | {ld['clients']} MCP clients, {ld['seconds']} s, half valid calls, half attacks "
        f"from 15 categories, compact and chained | {ld['valid_accepted']}/{ld['valid_sent']} valid calls accepted, "
        f"{ld['bad_rejected']}/{ld['bad_sent']} bad calls rejected ({ld['bad_right_code']} with the expected code); "
        f"**{ld['wrong_decisions']} wrong decisions**; {ld['calls_per_second']} calls/s (clients and server in one "
        "process) |",
        f"| Memory | RSS of the process; replay record bounded at {ld['replay_cache_max_entries']} entries | "
        f"{ld['rss_kib_before'] // 1024} MiB before, {ld['rss_kib_at_half_time'] // 1024} MiB at half time, "
        f"{ld['rss_kib_after'] // 1024} MiB after; {ld['replay_cache_entries']} replay entries at the end |",
    ]
    for race in r["races"]:
        lines.append(
            f"| Replay race ({race['store']}) | the same proof or chain from {race['fan_out']} concurrent clients, "
            f"{race['rounds']} rounds | exactly one accepted in **{race['exactly_one_accepted']}/{race['rounds']}** "
            f"rounds (max {race['max_accepted']}); all others `aip_replay_detected`: {race['others_replay_detected']} |")
    res = r["resolution"]
    for mode, v in res["modes"].items():
        codes = ", ".join(f"`{c}` x{n}" for c, n in v["codes"].items())
        lines.append(f"| Identity resolution: document server {mode} | HTTPS (trustme CA), time limit "
                     f"{res['timeout_s']} s | {codes}; slowest answer {v['slowest_s']} s |")
    out = r["redis_outage"]
    for phase, v in out["phases"].items():
        codes = ", ".join(f"`{c}` x{n}" for c, n in v["codes"].items())
        extra = (f"; first accepted after {v['first_accepted_after_s']} s" if v["first_accepted_after_s"] is not None
                 else "")
        lines.append(f"| Redis {phase} | shared replay record, skew {out['skew']} s | {codes}{extra} |")
    lines += ["", "After a restart without persistence the record's `trusted_since` is recreated, so proofs "
              "issued before it plus the skew are refused (AIP-RPL-005, AIP-RPL-023): the service recovers "
              "once fresh proofs are older than that, here about skew + 1 s."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.load", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("eval/results"))
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--fan-out", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--spec", type=Path, default=Path("spec/evaluation.md"))
    parser.add_argument("--no-spec", action="store_true")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {
        "load": load(args.seconds, args.clients),
        "races": [replay_race(store, args.fan_out, args.rounds) for store in ("memory", "redis")],
        "resolution": resolution_faults(),
        "redis_outage": redis_outage(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    table = markdown(result)
    (args.out / "load.md").write_text(table)
    if not args.no_spec and args.spec.exists():
        update_spec(args.spec, "load", table)
    print(table)
    ok = (result["load"]["wrong_decisions"] == 0
          and all(r["exactly_one_accepted"] == r["rounds"] for r in result["races"]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
