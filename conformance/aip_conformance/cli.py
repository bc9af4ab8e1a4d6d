"""`aip-conformance`: run the suite, trace requirements, and manage the vectors.

Exit status: 0 success, 1 the check found problems (a failing case, a lint error, a vector
difference), 2 usage or setup errors. No traceback reaches the user.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from ._errors import ConformanceError
from ._generate import (
    build_files,
    check_vectors,
    discover_generators,
    public_jwk,
    verify_vectors,
    write_vectors,
)
from ._harness import DEFAULT_IMPL
from ._report import format_summary, write_reports
from ._requirements import check_requirements, format_table
from ._runner import run_suite
from ._vectors import Case, repo_root
from .probe._cli import add_parser as _add_probe_parser
from .probe._cli import cmd_probe as _cmd_probe

__all__ = ["main"]


class _Progress:
    """A one-line counter, redrawn with \\r, only when the output is a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.width = 0

    def __call__(self, done: int, total: int, case: Case) -> None:
        if not self.enabled:
            return
        text = f"[{done}/{total}] {case.id}" if done < total else f"[{done}/{total}] done"
        pad = max(0, self.width - len(text))
        self.width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="aip-conformance",
        description="AIP conformance suite: test any implementation through harness protocol v1.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the conformance cases against an implementation")
    run.add_argument("--impl", metavar="CMD",
                     help="command that starts the implementation's harness adapter "
                          "(default: the bundled reference, python -m aip.harness)")
    run.add_argument("--profile", action="append", metavar="P",
                     help="run only this profile (repeatable; default: every claimed profile)")
    run.add_argument("--report", type=Path, default=Path("reports"), metavar="DIR",
                     help="folder for report.json and junit.xml (default: reports/)")
    run.add_argument("--baseline", type=Path, metavar="FILE",
                     help='JSON {"expected_failures": {"<case id>": "<reason>"}}')
    run.add_argument("--timeout", type=float, default=10.0, metavar="S",
                     help="seconds to wait for each answer (default: 10)")

    _add_probe_parser(sub)

    req = sub.add_parser("requirements", help="lint the spec's requirement IDs and trace them")
    mode = req.add_mutually_exclusive_group()
    mode.add_argument("--quiet", action="store_true", help="print only errors and a total")
    mode.add_argument("--json", action="store_true", help="print machine-readable JSON")

    vec = sub.add_parser("vectors", help="generate, check or verify the signed test vectors")
    vsub = vec.add_subparsers(dest="action", required=True, metavar="ACTION")
    vsub.add_parser("generate", help="run every generator and write vectors/ with its manifest")
    vsub.add_parser("check", help="regenerate and compare byte for byte with vectors/")
    vsub.add_parser("verify", help="verify manifest.jws and every file digest")
    vsub.add_parser("key", help="print the published public key of the vectors (a JWK)")
    return p


def _cmd_run(args: argparse.Namespace) -> int:
    if args.timeout <= 0:
        raise ConformanceError("--timeout must be positive")
    root = repo_root()
    progress = _Progress(sys.stderr)
    try:
        result = run_suite(
            args.impl if args.impl else list(DEFAULT_IMPL),
            root=root,
            profiles=args.profile,
            baseline=args.baseline,
            timeout=args.timeout,
            progress=progress,
        )
    finally:
        progress.finish()
    print(format_summary(result))
    try:
        report, junit = write_reports(result, args.report)
    except OSError as exc:
        raise ConformanceError(f"cannot write reports into {args.report}: {exc}") from exc
    print(f"reports: {report} {junit}")
    return 0 if result.ok else 1


def _cmd_requirements(args: argparse.Namespace) -> int:
    report = check_requirements(repo_root())
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        print(format_table(report, quiet=args.quiet))
    return 1 if report.errors else 0


def _cmd_vectors(args: argparse.Namespace) -> int:
    if args.action == "key":
        print(json.dumps(public_jwk(), indent=2))
        return 0
    root = repo_root()
    vectors_dir = root / "vectors"
    if args.action == "verify":
        problems = verify_vectors(vectors_dir)
        for line in problems:
            print(f"error: {line}")
        print("vectors: signature and digests verified" if not problems
              else f"vectors: {len(problems)} problem(s)")
        return 1 if problems else 0
    files = build_files(discover_generators(), root / "schemas")
    if args.action == "generate":
        write_vectors(files, vectors_dir)
        print(f"vectors: wrote {len(files)} files into {vectors_dir}")
        return 0
    result = check_vectors(files, vectors_dir)
    for line in result.lines():
        print(line)
    if result.ok:
        print(f"vectors: {len(files)} files up to date")
        return 0
    print("vectors: out of date; run `aip-conformance vectors generate`")
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"run": _cmd_run, "requirements": _cmd_requirements, "vectors": _cmd_vectors,
                "probe": _cmd_probe}
    try:
        return handlers[args.command](args)
    except ConformanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
