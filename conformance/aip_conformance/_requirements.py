"""Traceability: every normative statement of the spec has an ID, and every ID is tested.

Spec convention: a normative statement is a Markdown block (paragraph, list item, table row)
that begins with a bold requirement id, e.g. `**AIP-ID-004** The identifier MUST ...`. A BCP 14
keyword in capitals anywhere else is an error, as is an ID defined twice, an ID no case or
registered check cites unless it is excluded with a reason, an exclusion that is stale, and a
case that cites an ID the spec does not define.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._checks import CHECKS
from ._errors import ConformanceError
from ._vectors import VectorFile, iter_cases, load_all_vectors

__all__ = [
    "EXCLUSIONS_PATH",
    "ID_PATTERN",
    "LintError",
    "Requirement",
    "TraceReport",
    "check_requirements",
    "format_table",
    "scan_spec",
]

ID_PATTERN = re.compile(r"AIP-[A-Z][A-Z0-9]*-[0-9]{3}")
# Relative to the repository root, so the exclusions always belong to the spec being traced.
EXCLUSIONS_PATH = Path("conformance/aip_conformance/exclusions.json")

_KEYWORD = re.compile(
    r"(?<![\w-])(MUST NOT|MUST|REQUIRED|SHALL NOT|SHALL|SHOULD NOT|SHOULD|NOT RECOMMENDED"
    r"|RECOMMENDED|MAY|OPTIONAL)(?![\w-])"
)
_DEFINING_ID = re.compile(r"^\*\*(AIP-[A-Z][A-Z0-9]*-[0-9]{3})\*\*")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_HEADING = re.compile(r"^\s{0,3}#{1,6}(\s|$)")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?[\s:|-]+\|?\s*$")
_LEAD = re.compile(r"^\s*(?:>\s*)*(?:\|\s*)?(?:(?:[-*+]|\d+[.)])\s+)?")
# Text the keyword check ignores: inline code, double-quoted text (a keyword being named,
# not used), and HTML comments.
_IGNORED = re.compile(r"(`+)(?:(?!\1).)*\1|\"[^\"\n]*\"|“[^”]*”|<!--.*?-->", re.DOTALL)
_BOILERPLATE_OPEN = "<!-- bcp14-boilerplate -->"
_BOILERPLATE_CLOSE = "<!-- /bcp14-boilerplate -->"


@dataclass(frozen=True)
class LintError:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


@dataclass
class Requirement:
    id: str
    file: str
    line: int
    cited_by: list[str] = field(default_factory=list)
    excluded: str | None = None


@dataclass
class TraceReport:
    requirements: list[Requirement]
    errors: list[LintError]

    def as_json(self) -> dict[str, Any]:
        return {
            "requirements": [
                {
                    "id": r.id,
                    "file": r.file,
                    "line": r.line,
                    "cases": len(r.cited_by),
                    "cited_by": r.cited_by,
                    "excluded": r.excluded,
                }
                for r in self.requirements
            ],
            "errors": [
                {"file": e.file, "line": e.line, "message": e.message} for e in self.errors
            ],
        }


@dataclass
class _Block:
    line: int
    lines: list[str]


def _blocks(text: str, *, boilerplate_allowed: bool) -> Iterable[_Block]:
    """Split Markdown into blocks, leaving out fenced code, HTML comments and boilerplate."""
    current: _Block | None = None
    fence: str | None = None
    in_comment = False
    in_boilerplate = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if fence is not None:
            if stripped.startswith(fence) and stripped.strip(fence[0]) == "":
                fence = None
            continue
        if in_comment:
            in_comment = "-->" not in line
            continue
        if boilerplate_allowed and stripped == _BOILERPLATE_OPEN:
            in_boilerplate = True
        if in_boilerplate:
            in_boilerplate = stripped != _BOILERPLATE_CLOSE
            if current:
                yield current
                current = None
            continue
        m = _FENCE.match(line)
        if m:
            if current:
                yield current
                current = None
            fence = m.group(1)
            continue
        if stripped.startswith("<!--") and "-->" not in stripped:
            in_comment = True
            continue
        if not stripped:
            if current:
                yield current
                current = None
            continue
        if _HEADING.match(line) or stripped.startswith("|"):
            if current:
                yield current
                current = None
            if not (stripped.startswith("|") and _TABLE_SEPARATOR.match(line)):
                yield _Block(number, [line])
            continue
        if _LIST_ITEM.match(line):
            if current:
                yield current
            current = _Block(number, [line])
            continue
        if current is None:
            current = _Block(number, [line])
        else:
            current.lines.append(line)
    if current:
        yield current


def _defining_id(block: _Block) -> str | None:
    first = _LEAD.sub("", block.lines[0], count=1)
    m = _DEFINING_ID.match(first)
    return m.group(1) if m else None


def _first_keyword(block: _Block) -> tuple[str, int] | None:
    text = "\n".join(block.lines)
    cleaned = _IGNORED.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    m = _KEYWORD.search(cleaned)
    if not m:
        return None
    return m.group(1), block.line + cleaned.count("\n", 0, m.start())


def scan_spec(spec_dir: Path, *, base: Path | None = None) -> tuple[dict[str, Requirement],
                                                                      list[LintError]]:
    """Find every defined requirement ID and every keyword-without-ID in `spec/**/*.md`."""
    base = base if base is not None else spec_dir.parent
    defined: dict[str, Requirement] = {}
    errors: list[LintError] = []
    for path in sorted(spec_dir.rglob("*.md")):
        rel = path.relative_to(base).as_posix()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConformanceError(f"cannot read {rel}: {exc}") from exc
        allowed = path.relative_to(spec_dir).as_posix() == "conventions.md"
        for block in _blocks(text, boilerplate_allowed=allowed):
            rid = _defining_id(block)
            if rid is not None:
                if rid in defined:
                    first = defined[rid]
                    errors.append(LintError(
                        rel, block.line,
                        f"{rid} is defined twice (first at {first.file}:{first.line})",
                    ))
                else:
                    defined[rid] = Requirement(rid, rel, block.line)
                continue
            found = _first_keyword(block)
            if found:
                keyword, line = found
                errors.append(LintError(
                    rel, line,
                    f"BCP 14 keyword {keyword} in a block that does not start with a "
                    "requirement id like **AIP-XXX-000**",
                ))
    return defined, errors


def _load_exclusions(path: Path) -> tuple[dict[str, str], list[LintError]]:
    if not path.exists():
        return {}, []
    rel = path.name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConformanceError(f"cannot read {path}: {exc}") from exc
    excluded = data.get("excluded") if isinstance(data, dict) else None
    if not isinstance(excluded, dict):
        raise ConformanceError(f'{path}: expected {{"excluded": {{"AIP-X-000": "reason"}}}}')
    errors: list[LintError] = []
    out: dict[str, str] = {}
    for rid, reason in excluded.items():
        if not ID_PATTERN.fullmatch(rid):
            errors.append(LintError(rel, None, f"{rid!r} is not a requirement id"))
        elif not isinstance(reason, str) or not reason.strip():
            errors.append(LintError(rel, None, f"exclusion of {rid} has no reason"))
        else:
            out[rid] = reason
    return out, errors


def _citations(
    files: Iterable[VectorFile], checks: Mapping[str, Iterable[str]]
) -> dict[str, list[tuple[str, str]]]:
    """requirement id -> [(where, citing case or check id)]"""
    cited: dict[str, list[tuple[str, str]]] = {}
    for case in iter_cases(list(files)):
        for rid in case.requirements:
            cited.setdefault(rid, []).append((f"vectors/{case.file}", case.id))
    for check_id, rids in checks.items():
        for rid in rids:
            cited.setdefault(rid, []).append(("aip_conformance/_checks.py", f"check {check_id}"))
    return cited


def check_requirements(
    root: Path,
    *,
    exclusions_path: Path | None = None,
    checks: Mapping[str, Iterable[str]] | None = None,
    vector_files: Iterable[VectorFile] | None = None,
) -> TraceReport:
    """Lint `root/spec` and trace every requirement to the cases and checks citing it."""
    spec_dir = root / "spec"
    if not spec_dir.is_dir():
        raise ConformanceError(f"no spec folder at {spec_dir}")
    defined, errors = scan_spec(spec_dir, base=root)
    exclusions, excl_errors = _load_exclusions(exclusions_path or root / EXCLUSIONS_PATH)
    errors += excl_errors
    files = list(vector_files) if vector_files is not None else load_all_vectors(root)
    cited = _citations(files, CHECKS if checks is None else checks)

    for rid, uses in sorted(cited.items()):
        if rid in defined:
            defined[rid].cited_by = [who for _, who in uses]
            continue
        by_where: dict[str, list[str]] = {}
        for where, who in uses:
            by_where.setdefault(where, []).append(who)
        for where, whos in by_where.items():
            shown = ", ".join(whos[:3]) + (f" and {len(whos) - 3} more" if len(whos) > 3 else "")
            errors.append(LintError(where, None, f"{shown} cite unknown requirement {rid}"))
    for rid, reason in sorted(exclusions.items()):
        req = defined.get(rid)
        if req is None:
            errors.append(LintError("exclusions.json", None,
                                    f"{rid} is excluded but the spec does not define it"))
        elif req.cited_by:
            errors.append(LintError(
                req.file, req.line,
                f"{rid}: exclusion is stale, {len(req.cited_by)} case(s) cite it",
            ))
        else:
            req.excluded = reason
    for req in sorted(defined.values(), key=lambda r: r.id):
        if not req.cited_by and req.excluded is None and req.id not in exclusions:
            errors.append(LintError(
                req.file, req.line,
                f"{req.id} is not cited by any case or check and is not in exclusions.json",
            ))
    errors.sort(key=lambda e: (e.file, e.line or 0, e.message))
    return TraceReport(sorted(defined.values(), key=lambda r: r.id), errors)


def format_table(report: TraceReport, *, quiet: bool = False) -> str:
    """The human output: a table of IDs (unless quiet), the errors, and a total line."""
    lines: list[str] = []
    if not quiet:
        width = max((len(r.id) for r in report.requirements), default=11)
        lines.append(f"{'requirement':<{width}}  {'cases':>5}  defined at")
        for r in report.requirements:
            cases = f"excluded: {r.excluded}" if r.excluded is not None else str(len(r.cited_by))
            lines.append(f"{r.id:<{width}}  {cases:>5}  {r.file}:{r.line}")
        lines.append("")
    lines += [f"error: {e}" for e in report.errors]
    covered = sum(1 for r in report.requirements if r.cited_by)
    excluded = sum(1 for r in report.requirements if r.excluded is not None)
    lines.append(
        f"{len(report.requirements)} requirements: {covered} cited, {excluded} excluded, "
        f"{len(report.errors)} error(s)"
    )
    return "\n".join(lines)
