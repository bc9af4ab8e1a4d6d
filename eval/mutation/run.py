"""Mutation score of the reference's verification code, with the conformance suite alone as
the test (issue 7, item 4):

    .venv/bin/python -m eval.mutation.run [--files _compact.py,_proof.py] [--jobs N]
    .venv/bin/python -m eval.mutation.run --report-only

mutmut 3 wants the code under ``src/`` (or ``./``) and imports it from its ``mutants/`` copy,
so the run happens in a staging folder, ``build/mutation/``: ``src/aip`` is a copy of
``reference/aip`` and the only test is ``test_vectors.py`` (every conformance vector through
``aip.harness.handle``, scored by the suite's own code; one test per case, so each mutant runs
only the cases that reach it). Results go to ``eval/results/mutation.json``; survivors are
triaged in ``eval/mutation/triage.json`` (mutant name -> reason), and ``eval/results/
mutation.md`` is written from both. Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tokenize
from collections import Counter
from pathlib import Path
from typing import Any

from ..attacks._report import update_spec

ROOT = Path(__file__).resolve().parents[2]
STAGE = ROOT / "build" / "mutation"
RESULTS = ROOT / "eval" / "results"
HERE = Path(__file__).resolve().parent
# Triage and re-check records: ``triage.json`` / ``rechecked.json`` plus one
# ``triage_<area>.json`` / ``rechecked_<area>.json`` per area, so that people triaging
# different files never write the same record.
TRIAGE_GLOB = "triage*.json"
RECHECKED_GLOB = "rechecked*.json"
FILES = ("_compact.py", "_proof.py", "_chained.py", "_chained_datalog.py", "_chained_wire.py",
         "_documents.py", "_identifiers.py", "_scope.py", "_replay.py", "_revocation.py",
         "_encoding.py", "_json.py", "_time.py")
MUTMUT = Path(sys.executable).parent / "mutmut"

PYPROJECT = """\
[tool.mutmut]
source_paths = ["src/aip"]
only_mutate = {only}
pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]
pytest_add_cli_args_test_selection = ["tests/"]
timeout_multiplier = 10.0
timeout_constant = 5.0
use_git_change_detection = false

[tool.pytest.ini_options]
testpaths = ["tests"]
"""


def restage() -> dict[str, dict[str, str]]:
    """Bring the staged copy up to date with ``reference/aip`` (and the test), keeping
    mutmut's record: mutmut then regenerates and re-judges the mutants of every function whose
    source changed, and keeps the verdicts of the others. Returns the function hashes of the
    mutated files before the update, to tell which functions were re-judged."""
    before = _function_hashes()
    shutil.rmtree(STAGE / "src" / "aip")
    shutil.copytree(ROOT / "reference" / "aip", STAGE / "src" / "aip",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(HERE / "test_vectors.py", STAGE / "tests" / "test_vectors.py")
    return before


def _function_hashes() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for meta in sorted((STAGE / "mutants" / "src" / "aip").glob("*.py.meta")):
        data = json.loads(meta.read_text(encoding="utf-8"))
        out[meta.name.removesuffix(".meta")] = dict(data.get("hash_by_function_name", {}))
    return out


def prune_rechecked(before: dict[str, dict[str, str]]) -> list[str]:
    """Drop re-check records of functions mutmut re-judged after a restage: their mutants were
    regenerated (numbers may now name other mutants) and judged against today's vectors."""
    after = _function_hashes()
    changed = {f"aip.{file.removesuffix('.py')}.{func}"
               for file, hashes in after.items() for func, digest in hashes.items()
               if before.get(file, {}).get(func) != digest}
    for path in sorted(HERE.glob(RECHECKED_GLOB)):
        data = json.loads(path.read_text(encoding="utf-8"))
        kept = [n for n in data["killed"] if n.split("__mutmut_")[0] not in changed]
        if kept != data["killed"]:
            data["killed"] = kept
            path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return sorted(changed)


# mutmut's exit codes (mutmut.stats.status_by_exit_code) of the verdicts --rejudge resets:
# survived (0), no tests (5, 33) and timeouts (24, -24, 36, 152, 255).
_REJUDGED_EXIT_CODES = {0, 5, 33, 24, -24, 36, 152, 255}


def reset_for_rejudge() -> int:
    """Make mutmut judge again every mutant that is not a clean kill, against today's vectors.
    mutmut maps tests to functions once (``mutmut-stats.json``) and only adds tests with NEW
    names; a vector file that gained cases in the middle renumbers the later ones, so their
    names are old and their mapping stale. Removing the stats makes mutmut trace every test
    again; resetting the verdicts of survivors, "no tests" and timeouts makes it run them
    again. Kills stay: a vector that killed a mutant still does. Re-check records are then
    superseded (they stood in for exactly this run) and are removed."""
    count = 0
    for meta in sorted((STAGE / "mutants" / "src" / "aip").glob("*.py.meta")):
        data = json.loads(meta.read_text(encoding="utf-8"))
        codes = data["exit_code_by_key"]
        for key, code in codes.items():
            if code in _REJUDGED_EXIT_CODES:
                codes[key] = None
                count += 1
        meta.write_text(json.dumps(data), encoding="utf-8")
    (STAGE / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    for path in HERE.glob(RECHECKED_GLOB):
        path.unlink()
    return count


def prepare(files: list[str]) -> None:
    if STAGE.exists():
        shutil.rmtree(STAGE)
    (STAGE / "tests").mkdir(parents=True)
    shutil.copytree(ROOT / "reference" / "aip", STAGE / "src" / "aip",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(Path(__file__).resolve().parent / "test_vectors.py",
                STAGE / "tests" / "test_vectors.py")
    only = json.dumps([f"src/aip/{f}" for f in files])
    (STAGE / "pyproject.toml").write_text(PYPROJECT.format(only=only), encoding="utf-8")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"AIP_REPO_ROOT": str(ROOT), "AIP_MUTATION_RUN": "1", "PYTHONHASHSEED": "0"})
    return env


def run(jobs: int) -> float:
    t0 = time.monotonic()
    with (STAGE / "mutmut.log").open("w", encoding="utf-8") as log:  # a spinner: keep it off
        subprocess.run([str(MUTMUT), "run", "--max-children", str(jobs)], cwd=STAGE,
                       env=_env(), check=False, stdout=log, stderr=subprocess.STDOUT)
    return time.monotonic() - t0


def collect() -> dict[str, str]:
    """mutant name -> status, from mutmut's own record (``mutmut results --all true``)."""
    out = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=STAGE, env=_env(),
                         check=True, capture_output=True, text=True).stdout
    statuses: dict[str, str] = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name:
            statuses[name] = status.strip()
    return statuses


_DIFFS = """
import json, sys
from mutmut.__main__ import find_mutant, get_diff_for_mutant
out = {}
for name in json.load(sys.stdin):
    out[name] = get_diff_for_mutant(name, path=find_mutant(name).path)
json.dump(out, sys.stdout)
"""


def _changed_lines(text: str) -> str:
    return "\n".join(ln for ln in text.splitlines() if ln.startswith(("+", "-"))
                     and not ln.startswith(("+++", "---")))


def all_diffs(names: list[str]) -> dict[str, str]:
    """The changed lines of every mutant in ``names``, from mutmut in one process (``mutmut
    show`` costs seconds per call)."""
    for attempt in range(5):  # a running mutmut may be rewriting a .meta file: read again
        done = subprocess.run([sys.executable, "-c", _DIFFS], cwd=STAGE, env=_env(),
                              check=False, input=json.dumps(names), capture_output=True,
                              text=True)
        if done.returncode == 0:
            break
        time.sleep(1 + attempt)
    else:
        raise SystemExit(f"cannot read mutant diffs from mutmut: {done.stderr[-300:]}")
    out = done.stdout
    return {name: _changed_lines(text) for name, text in json.loads(out).items()}


def diff(name: str) -> str:
    out = subprocess.run([str(MUTMUT), "show", name], cwd=STAGE, env=_env(), check=False,
                         capture_output=True, text=True).stdout
    lines = [ln for ln in out.splitlines() if ln.startswith(("+", "-"))
             and not ln.startswith(("+++", "---"))]
    return "\n".join(lines)


_CODE = re.compile(r"aip_[a-z_]+")


def _tokens(line: str) -> list[tuple[int, str]] | None:
    # A line of a multi-line call may close a parenthesis it did not open, or open one it
    # does not close: balance it first (counts include brackets inside strings, which at
    # worst makes the line untokenizable, and then no rule applies).
    line = ("(" * max(line.count(")") - line.count("("), 0) + line
            + ")" * max(line.count("(") - line.count(")"), 0))
    try:
        return [(t.type, t.string) for t in tokenize.generate_tokens(io.StringIO(line).readline)
                if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT,
                                  tokenize.DEDENT, tokenize.ENDMARKER, tokenize.COMMENT)]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None


def auto_triage(mutant_diff: str) -> str | None:
    """The one automatic rule: a mutant that only rewrites the text of an error message is
    equivalent for a suite that compares error codes, never messages (house rule 2,
    AIP-ERR-002). Conservative: one changed line, every changed token a string literal, no
    changed literal an error code, and the line builds an ``AIPError`` or continues one's
    message. Everything else is triaged by hand in triage.json."""
    minus = [ln[1:] for ln in mutant_diff.splitlines() if ln.startswith("-")]
    plus = [ln[1:] for ln in mutant_diff.splitlines() if ln.startswith("+")]
    if len(minus) != 1 or len(plus) != 1:
        return None
    before, after = _tokens(minus[0].strip()), _tokens(plus[0].strip())
    if before is None or after is None or len(before) != len(after):
        return None
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    # ``what=`` arguments only name the object in a message (``f"{what} is not ..."``).
    if changed and all(i >= 2 and before[i - 2] == (tokenize.NAME, "what")
                       and before[i - 1][1] == "=" for i in changed):
        return ("equivalent (message text): the `what` argument only names the object in an "
                "error message; codes are compared, never messages (AIP-ERR-002)")
    if not changed or any(before[i][0] != tokenize.STRING or after[i][0] != tokenize.STRING
                          for i in changed):
        return None
    changed_pairs = [(before[i], after[i]) for i in changed]
    if any(_CODE.search(a[1]) and _CODE.fullmatch(a[1].strip("\"'f")) for a, _ in changed_pairs):
        return None
    text = minus[0].strip()
    # A continuation line of a message is string literals only (with the call's closing
    # punctuation); a line that merely starts with a string (a dict entry, ``"x".join(...)``)
    # is code.
    body = before[:-2] if before[-2:] == [(tokenize.NAME, "from"), (tokenize.NAME, "None")] \
        else before
    continuation = any(kind == tokenize.STRING for kind, _ in body) and all(
        kind == tokenize.STRING or (kind == tokenize.OP and tok in "(),") for kind, tok in body)
    if "AIPError(" in text or continuation:
        return ("equivalent (message text): only the wording of an error message changes; "
                "implementations are compared on error codes, never messages (AIP-ERR-002)")
    return None


def _file_of(name: str) -> str:
    module = name.split(".x")[0].split(".xǁ")[0]
    return module.removeprefix("aip.") + ".py"


def report(statuses: dict[str, str], files: list[str], seconds: float | None, jobs: int) -> None:
    rules: dict[str, str] = {}
    for path in sorted(HERE.glob(TRIAGE_GLOB)):
        rules.update(json.loads(path.read_text(encoding="utf-8")))
    for path in sorted(HERE.glob(RECHECKED_GLOB)):  # killed by vectors added after the run
        for name in json.loads(path.read_text(encoding="utf-8"))["killed"]:
            if statuses.get(name) == "survived":
                statuses[name] = "killed"
    todo = sorted(n for n, s in statuses.items() if s in ("survived", "no tests"))
    diffs = all_diffs(todo)
    triage: dict[str, str] = {}
    for name, text in diffs.items():
        rule = rules.get(name) or next((why for key, why in rules.items()
                                        if key.endswith("*") and name.startswith(key[:-1])),
                                       None) or auto_triage(text)
        if rule:
            triage[name] = rule
    counts = Counter(statuses.values())
    killed = counts.get("killed", 0) + counts.get("timeout", 0) + counts.get("segfault", 0)
    survived = sorted(n for n, s in statuses.items() if s == "survived")
    no_tests = sorted(n for n, s in statuses.items() if s == "no tests")
    equivalent = [n for n in survived + no_tests if triage.get(n, "").startswith("equivalent")]
    out_of_reach = [n for n in survived + no_tests
                    if triage.get(n, "").startswith("out of the suite's reach")]
    total = len(statuses)
    judged = killed + counts.get("survived", 0) + counts.get("no tests", 0)
    per_file: dict[str, Counter[str]] = {}
    for name, status in statuses.items():
        per_file.setdefault(_file_of(name), Counter())[status] += 1
    data: dict[str, Any] = {
        "tool": "mutmut", "tool_version": _mutmut_version(), "files": files, "jobs": jobs,
        "seconds": None if seconds is None else round(seconds), "total": total,
        "counts": dict(counts), "killed_including_timeouts": killed,
        "score": round(killed / judged, 4) if judged else None,
        "score_excluding_equivalent": round(killed / (judged - len(equivalent)), 4)
        if judged - len(equivalent) else None,
        "equivalent": len(equivalent), "out_of_reach": len(out_of_reach),
        "score_reachable_excluding_equivalent":
            round(killed / (judged - len(equivalent) - len(out_of_reach)), 4)
            if judged - len(equivalent) - len(out_of_reach) else None,
        "untriaged": sum(1 for n in survived + no_tests if n not in triage),
        "per_file": {f: dict(c) for f, c in sorted(per_file.items())},
        "survivors": [{"mutant": n, "status": statuses[n], "diff": diffs[n],
                       "triage": triage.get(n, "UNTRIAGED")} for n in survived + no_tests],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "mutation.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    tables = render_tables(data)
    for page in (RESULTS / "mutation.md", ROOT / "spec" / "evaluation.md"):
        update_spec(page, "mutation", tables)
    print(json.dumps({k: data[k] for k in ("total", "counts", "score", "equivalent",
                                           "out_of_reach", "untriaged",
                                           "score_excluding_equivalent",
                                           "score_reachable_excluding_equivalent")}, indent=2))




def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def render_tables(data: dict[str, Any]) -> str:
    """The figures of a run as Markdown: scores, counts, triage and the per-file table."""
    counts = data["counts"]
    killed = data["killed_including_timeouts"]
    judged = killed + counts.get("survived", 0) + counts.get("no tests", 0)
    equivalent, reach = data["equivalent"], data["out_of_reach"]
    auto = sum(1 for s in data["survivors"] if s["triage"].startswith("equivalent (message"))
    lines = [
        f"mutmut {data['tool_version']}, {data['total']:,} mutants of "
        f"{len(data['files'])} files of `reference/aip`, the conformance vectors as the only "
        "test.",
        "",
        "| Score | Killed | Of | Rate |",
        "|---|---:|---:|---:|",
        f"| all mutants | {killed:,} | {judged:,} | {_pct(killed, judged)} |",
        f"| mutants that are not equivalent | {killed:,} | {judged - equivalent:,} | "
        f"{_pct(killed, judged - equivalent)} |",
        f"| **verification code the suite can reach**: not equivalent, not out of its reach | "
        f"**{killed:,}** | **{judged - equivalent - reach:,}** | "
        f"**{_pct(killed, judged - equivalent - reach)}** |",
        "",
        "| Verdict | Mutants |",
        "|---|---:|",
        f"| killed (a vector fails) | {counts.get('killed', 0):,} |",
        f"| timeout (counted as killed) | {counts.get('timeout', 0):,} |",
        f"| survived | {counts.get('survived', 0):,} |",
        f"| no test reaches the function | {counts.get('no tests', 0):,} |",
        f"| not checked | {counts.get('not checked', 0):,} |",
        f"| survivors and unreached, equivalent: message text only (automatic rule) | {auto:,} |",
        f"| survivors and unreached, equivalent: read and reasoned (triage files) | "
        f"{equivalent - auto:,} |",
        f"| survivors and unreached, out of the suite's reach (reason given) | {reach:,} |",
        f"| survivors and unreached, **not triaged** | **{data['untriaged']:,}** |",
        "",
        "| File | Killed | Survived | No tests | Timeout |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, per in data["per_file"].items():
        lines.append(f"| `{name}` | {per.get('killed', 0):,} | {per.get('survived', 0):,} | "
                     f"{per.get('no tests', 0):,} | {per.get('timeout', 0):,} |")
    return "\n".join(lines) + "\n"


def _mutmut_version() -> str:
    import importlib.metadata

    return importlib.metadata.version("mutmut")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.mutation.run",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--files", help="comma-separated files of reference/aip to mutate")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the results from the last run in build/mutation")
    parser.add_argument("--resume", action="store_true",
                        help="continue the last run in build/mutation with today's reference "
                             "(mutmut keeps the verdicts of unchanged functions)")
    parser.add_argument("--rejudge", action="store_true",
                        help="with --resume: judge again every survivor, 'no tests' and "
                             "timeout against today's vectors, with freshly traced tests")
    args = parser.parse_args(argv)
    files = args.files.split(",") if args.files else list(FILES)
    seconds = None
    if not args.report_only:
        before = None
        if args.resume and STAGE.exists():
            before = restage()
            if args.rejudge:
                print(f"reset {reset_for_rejudge()} verdicts to judge again", file=sys.stderr)
        else:
            prepare(files)
        seconds = run(args.jobs)
        if before is not None:
            changed = prune_rechecked(before)
            # Triage is keyed by mutant name, and a changed function's mutants are numbered
            # anew: its hand-triage entries must be redone (name them so nobody has to guess).
            print(f"re-judged the mutants of {len(changed)} changed functions; redo their hand "
                  f"triage: {', '.join(changed) or '-'}", file=sys.stderr)
    report(collect(), files, seconds, args.jobs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
