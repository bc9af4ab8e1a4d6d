"""Re-run survivors of an earlier mutmut run in one process, against today's vectors and
``test_vectors.py`` (each mutant selected through ``MUTANT_UNDER_TEST``, every case run until
one fails), and add the killed ones to ``rechecked.json``:

    .venv/bin/python -m eval.mutation.recheck aip._identifiers. aip._scope. cases=identity/ \
        [out=AREA]

Arguments are prefixes of mutant names taken from ``eval/results/mutation.json``'s survivors;
``cases=PREFIX`` limits the cases run (a mutant killed by a subset is killed; one that
survives it is left as it was). ``exclude=CASE_ID`` leaves a case out: a vector added with a
fix of the reference fails the unfixed code the mutants were made from, so it would "kill"
every mutant of that file; check with ``MUTANT_UNDER_TEST=""`` which cases those are.
``timeout=SECONDS`` (default 120) bounds each mutant: one still running then is reported as
``timeout`` and NOT recorded as killed (on a busy machine a surviving mutant can be slow, and a
slow run proves nothing).

    .venv/bin/python -m eval.mutation.recheck confirm [exclude=CASE_ID ...]

re-runs every mutant recorded in ``rechecked*.json`` over every case and drops from its record
each one that no case kills (or that times out): a record is kept only if it can be
reproduced. Needs ``build/mutation/mutants`` from a run. Used when vectors (or the test)
changed after mutants were judged; the next full run supersedes it."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


class _Timeout(BaseException):
    """A BaseException, so that the harness's own ``except Exception`` (which reports a crash
    as an answer) cannot turn the alarm into a failed case, that is a false kill."""


def _alarm(_signum: int, _frame: object) -> None:
    raise _Timeout


def main(argv: list[str]) -> int:
    os.environ.update({"AIP_REPO_ROOT": str(ROOT), "AIP_MUTATION_RUN": "1",
                       "MUTANT_UNDER_TEST": ""})
    sys.path.insert(0, str(ROOT / "build" / "mutation" / "mutants" / "src"))
    spec = importlib.util.spec_from_file_location("mutation_vectors", HERE / "test_vectors.py")
    assert spec and spec.loader
    tests = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tests)
    tests.test_the_mutated_code_is_what_runs()
    clear = tests.clear_caches
    case_prefixes = tuple(a.removeprefix("cases=") for a in argv if a.startswith("cases="))
    excluded = {a.removeprefix("exclude=") for a in argv if a.startswith("exclude=")}
    area = next((a.removeprefix("out=") for a in argv if a.startswith("out=")), "")
    seconds = int(next((a.removeprefix("timeout=") for a in argv if a.startswith("timeout=")),
                       "120"))
    confirm = "confirm" in argv
    argv = [a for a in argv if not a.startswith(("cases=", "out=", "exclude=", "timeout="))
            and a != "confirm"]
    case_ids = [c for c in sorted(tests.CASES)
                if c.startswith(case_prefixes or ("",)) and c not in excluded]
    signal.signal(signal.SIGALRM, _alarm)

    def judge(name: str) -> str:
        os.environ["MUTANT_UNDER_TEST"] = name
        verdict = "survived"
        signal.alarm(seconds)
        try:
            for case_id in case_ids:
                clear()
                try:
                    tests.test_case(case_id)
                except _Timeout:
                    raise
                except BaseException:  # any failure kills the mutant
                    verdict = "killed"
                    break
        except _Timeout:
            verdict = "timeout"
        finally:
            signal.alarm(0)
            os.environ["MUTANT_UNDER_TEST"] = ""
        print(name, verdict, flush=True)
        return verdict

    if confirm:
        for path in sorted(HERE.glob("rechecked*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            kept = [name for name in data["killed"] if judge(name) == "killed"]
            if kept != data["killed"]:
                print(f"{path.name}: {len(data['killed']) - len(kept)} not reproduced, dropped",
                      flush=True)
                data["killed"] = kept
                path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        return 0
    recorded = HERE / (f"rechecked_{area}.json" if area else "rechecked.json")
    survivors = [s["mutant"] for s in json.loads((ROOT / "eval" / "results" /
                                                   "mutation.json").read_text())["survivors"]
                 if s["status"] == "survived" and s["mutant"].startswith(tuple(argv))]
    data = (json.loads(recorded.read_text(encoding="utf-8")) if recorded.exists()
            else {"killed": []})
    killed = set(data["killed"])
    for name in survivors:
        if judge(name) == "killed":
            killed.add(name)
    data["killed"] = sorted(killed)
    recorded.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
