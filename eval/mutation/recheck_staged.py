"""Judge the mutants of one reference file AS IT IS NOW, in one process, when the file changed
after the last mutmut run (so ``build/mutation/mutants`` holds mutants of the old code and
``recheck.py`` would run them, not these):

    .venv/bin/python -m eval.mutation.recheck_staged _chained_wire.py [cases=chained/] \
        [only=aip._chained_wire.x_read_envelope]

It generates the file's mutants with mutmut's own generator (same names as a run would give),
stages them with a copy of ``reference/aip`` under ``build/mutation-staged/<file>/``, runs each
mutant over the selected cases as ``recheck.py`` does (the first failing case kills; a mutant
still running after ``timeout=`` seconds, 60 by default, is killed as a hang: raise it when
running many cases on a busy machine) and writes ``build/mutation-staged/<file>/results.json``: mutant ->
{"verdict", "by", "diff"}. Survivors still need a vector or a triage entry. Unchanged functions
keep their mutant names, so their kills may go to ``rechecked_<area>.json``; mutants of changed
functions are judged again by the next full run (mutmut re-runs functions whose code changed).
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
import json
import os
import shutil
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


class _Timeout(BaseException):
    """A BaseException, so that the harness's own ``except Exception`` (which reports a crash
    as an answer) cannot turn a hang into a failed case."""


def _alarm(_signum: int, _frame: object) -> None:
    raise _Timeout


def stage(file: str) -> tuple[Path, dict[str, str]]:
    """Stage the mutated ``file`` next to a copy of the reference; return (src dir, diffs)."""
    from mutmut.mutation.file_mutation import mutate_file_contents

    base = ROOT / "build" / "mutation-staged" / file.removesuffix(".py")
    if base.exists():
        shutil.rmtree(base)
    shutil.copytree(ROOT / "reference" / "aip", base / "src" / "aip",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (base / "pyproject.toml").write_text(
        f'[tool.mutmut]\nsource_paths = ["src/aip"]\nonly_mutate = ["src/aip/{file}"]\n',
        encoding="utf-8")
    code = (ROOT / "reference" / "aip" / file).read_text(encoding="utf-8")
    cwd = Path.cwd()
    os.chdir(base)  # mutmut reads its configuration from the working directory
    try:
        mutated = mutate_file_contents(f"src/aip/{file}", code)
    finally:
        os.chdir(cwd)
    (base / "src" / "aip" / file).write_text(mutated.code, encoding="utf-8")
    functions = {node.name: ast.get_source_segment(mutated.code, node) or ""
                 for node in ast.walk(ast.parse(mutated.code))
                 if isinstance(node, ast.FunctionDef)}
    module = "aip." + file.removesuffix(".py")
    diffs = {}
    for name in mutated.mutant_names:
        short = name.rsplit(".", 1)[-1]
        orig = functions[short.rsplit("__mutmut_", 1)[0] + "__mutmut_orig"].splitlines()[1:]
        mutant = functions[short].splitlines()[1:]
        diffs[f"{module}.{short}"] = "\n".join(
            line for line in difflib.unified_diff(orig, mutant, lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---")))
    return base, diffs


def main(argv: list[str]) -> int:
    file = next(a for a in argv if a.endswith(".py"))
    case_prefixes = tuple(a.removeprefix("cases=") for a in argv if a.startswith("cases="))
    only = tuple(a.removeprefix("only=") for a in argv if a.startswith("only="))
    limit = int(next((a.removeprefix("timeout=") for a in argv if a.startswith("timeout=")), "60"))
    base, diffs = stage(file)
    os.environ.update({"AIP_REPO_ROOT": str(ROOT), "AIP_MUTATION_RUN": "1",
                       "MUTANT_UNDER_TEST": ""})
    sys.path.insert(0, str(base / "src"))
    spec = importlib.util.spec_from_file_location("mutation_vectors", HERE / "test_vectors.py")
    assert spec and spec.loader
    tests = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tests)
    import aip

    assert Path(aip.__file__).is_relative_to(base), aip.__file__
    case_ids = sorted(c for c in tests.CASES if c.startswith(case_prefixes or ("",)))
    for case_id in case_ids:  # the unmutated staged code passes every selected case
        tests.clear_caches()
        tests.test_case(case_id)
    results: dict[str, dict[str, str | None]] = {}
    signal.signal(signal.SIGALRM, _alarm)
    for name in sorted(n for n in diffs if n.startswith(only or ("",))):
        os.environ["MUTANT_UNDER_TEST"] = name
        verdict, by = "survived", None
        signal.alarm(limit)
        try:
            for case_id in case_ids:
                tests.clear_caches()
                try:
                    tests.test_case(case_id)
                except _Timeout:
                    raise
                except BaseException:  # any failure kills the mutant
                    verdict, by = "killed", case_id
                    break
        except _Timeout:
            verdict, by = "killed", "timeout"
        finally:
            signal.alarm(0)
        os.environ["MUTANT_UNDER_TEST"] = ""
        print(name, verdict, by or "", flush=True)
        results[name] = {"verdict": verdict, "by": by, "diff": diffs[name]}
    (base / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
