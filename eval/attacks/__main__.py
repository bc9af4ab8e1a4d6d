"""``python -m eval.attacks [--out eval/results] [--seed N] [--per-category 20]``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ._report import markdown, update_spec
from ._run import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.attacks", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("eval/results"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-category", type=int, default=20)
    parser.add_argument("--only", action="append", help="run only this category (repeatable)")
    parser.add_argument("--spec", type=Path, default=Path("spec/evaluation.md"),
                        help="the spec page whose table is replaced (skipped when absent)")
    parser.add_argument("--no-spec", action="store_true", help="do not touch the spec page")
    args = parser.parse_args(argv)
    report = run(args.seed, args.per_category, args.only)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "attacks.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    table = markdown(report)
    (args.out / "attacks.md").write_text(table)
    if not args.no_spec and args.spec.exists():
        update_spec(args.spec, "attacks", table)
    totals = report["totals"]
    for arm, t in totals.items():
        code = f", correct code {t['correct_code_rate']:.2%}" if "correct_code_rate" in t else ""
        print(f"{arm:8} rejected {t['rejected']}/{t['sent']} ({(t['rejection_rate'] or 0):.2%}){code}")
    failures = report["failures"]
    print(f"{len(report['categories'])} categories in {report['seconds']} s; "
          f"{len(failures)} AIP-arm attempts accepted or answered with another code")
    return 1 if any(f["accepted"] for f in failures) else 0


if __name__ == "__main__":
    sys.exit(main())
