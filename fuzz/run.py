"""Run one fuzz target under atheris (libFuzzer) for a bounded time.

    python fuzz/run.py TARGET [--minutes N] [--corpus DIR]

Prints what ran and what was found; exits non-zero when a crash was found (libFuzzer writes
the crashing input as ``crash-*`` in the working directory).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import atheris

with atheris.instrument_imports():
    import targets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target", choices=sorted(targets.TARGETS))
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--corpus", type=Path, help="corpus folder (kept and grown); seeded from "
                        "the vectors of the target's wire format when empty")
    args = parser.parse_args()
    if args.corpus and not any(args.corpus.glob("*")):
        targets.seed_corpus(args.target, args.corpus)
    fn = targets.TARGETS[args.target]
    argv = [sys.argv[0], f"-max_total_time={int(args.minutes * 60)}", "-rss_limit_mb=2048"]
    if args.corpus:
        args.corpus.mkdir(parents=True, exist_ok=True)
        argv.append(str(args.corpus))
    print(f"fuzzing {args.target} for {args.minutes} minute(s)", flush=True)
    atheris.Setup(argv, fn)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
