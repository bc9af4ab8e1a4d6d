"""Run one fuzz target under atheris (libFuzzer) for a bounded time.

    python fuzz/run.py TARGET [--minutes N] [--corpus DIR] [--jobs N]
    python fuzz/run.py --list

The corpus folder (default ``build/fuzz/TARGET``) is kept and grown; when empty it is seeded
from the vectors of the target's wire format. libFuzzer prints its final statistics
(executions, coverage); a crashing input is written as ``crash-*`` in the working directory
and the run exits non-zero.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import atheris

with atheris.instrument_imports(include=["aip", "targets"]):
    import targets

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target", nargs="?", choices=sorted(targets.TARGETS))
    parser.add_argument("--list", action="store_true", help="list the targets")
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--corpus", type=Path, help="corpus folder (default build/fuzz/TARGET)")
    parser.add_argument("--max-len", type=int, default=16384)
    args = parser.parse_args()
    if args.list or not args.target:
        for name, fn in sorted(targets.TARGETS.items()):
            print(f"{name:20} {(fn.__doc__ or '').splitlines()[0] if fn.__doc__ else ''}")
        return 0
    corpus = args.corpus or ROOT / "build" / "fuzz" / args.target
    corpus.mkdir(parents=True, exist_ok=True)
    if not any(corpus.iterdir()):
        print(f"seeded {targets.seed_corpus(args.target, corpus)} inputs from the vectors")
    fn = targets.TARGETS[args.target]
    argv = [sys.argv[0], f"-max_total_time={int(args.minutes * 60)}", "-rss_limit_mb=2048",
            f"-max_len={args.max_len}", "-print_final_stats=1", "-timeout=10", str(corpus)]
    print(f"fuzzing {args.target} for {args.minutes} minute(s); corpus {corpus}", flush=True)
    atheris.Setup(argv, fn)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
