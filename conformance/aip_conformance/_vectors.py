"""Locating the repository's data and loading Wycheproof-style vector files."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ._errors import RepositoryNotFound, VectorFileError
from ._schemas import schema_errors

__all__ = [
    "ROOT_ENV",
    "Case",
    "VectorFile",
    "check_vector_file",
    "expand_input",
    "iter_cases",
    "load_all_vectors",
    "load_vectors",
    "repo_root",
    "vector_paths",
]

ROOT_ENV = "AIP_CONFORMANCE_ROOT"
VECTOR_FILE_SCHEMA = "vector-file.schema.json"


def _is_root(path: Path) -> bool:
    # `vectors/` is not required: it does not exist before the first `vectors generate`.
    return (path / "schemas").is_dir() and (path / "spec").is_dir()


def repo_root() -> Path:
    """The folder holding `schemas/`, `spec/` and `vectors/`.

    `$AIP_CONFORMANCE_ROOT` wins; otherwise walk up from this package (an editable install or
    a checkout), then from the working directory (an installed suite run inside a checkout).
    """
    override = os.environ.get(ROOT_ENV)
    if override:
        root = Path(override).resolve()
        if not _is_root(root):
            raise RepositoryNotFound(
                f"{ROOT_ENV}={override} does not hold the AIP data folders schemas/ and spec/"
            )
        return root
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        for candidate in (start, *start.parents):
            if _is_root(candidate):
                return candidate
    raise RepositoryNotFound(
        "cannot find the AIP repository data (a folder holding schemas/, spec/ and vectors/); "
        f"run inside a checkout or set {ROOT_ENV}"
    )


@dataclass(frozen=True)
class Case:
    """One conformance case, flattened from its vector file and test group."""

    id: str
    profile: str
    file: str
    tc_id: int
    comment: str
    operation: str
    now: int
    trust: Mapping[str, Any]
    input: Mapping[str, Any]
    result: Literal["valid", "invalid"]
    error: str | None
    expected: Mapping[str, Any] | None
    flags: tuple[str, ...]
    requirements: tuple[str, ...]

    def request(self) -> dict[str, Any]:
        """The `case` object of a harness `run` message."""
        return {
            "id": self.id,
            "operation": self.operation,
            "now": self.now,
            "trust": dict(self.trust),
            "input": dict(self.input),
        }

    def expectation(self) -> dict[str, Any]:
        """What the case expects, in the shape the report records."""
        out: dict[str, Any] = {"result": self.result}
        if self.error is not None:
            out["error"] = self.error
        if self.expected is not None:
            out["output"] = dict(self.expected)
        return out


@dataclass(frozen=True)
class VectorFile:
    """A loaded vector file: its raw object and its cases."""

    path: Path
    name: str  # path relative to vectors/, e.g. "identity/identifiers.json"
    data: Mapping[str, Any]
    cases: tuple[Case, ...] = field(default=())

    @property
    def profile(self) -> str:
        return str(self.data["profile"])


def check_vector_file(obj: object, schemas_dir: Path) -> list[str]:
    """Problems with a vector-file object: schema violations, then the rules a schema can't say."""
    problems = schema_errors(schemas_dir, VECTOR_FILE_SCHEMA, obj)
    if problems or not isinstance(obj, dict):
        return problems
    notes = obj["notes"]
    seen: set[int] = set()
    count = 0
    for g, group in enumerate(obj["testGroups"]):
        for t, test in enumerate(group["tests"]):
            count += 1
            where = f"$.testGroups[{g}].tests[{t}]"
            if test["tcId"] in seen:
                problems.append(f"{where}: duplicate tcId {test['tcId']}")
            seen.add(test["tcId"])
            for flag in test["flags"]:
                if flag not in notes:
                    problems.append(f"{where}: flag {flag!r} has no entry in notes")
    if count != obj["numberOfTests"]:
        problems.append(f"$.numberOfTests: says {obj['numberOfTests']}, file holds {count}")
    if seen and seen != set(range(1, count + 1)):
        problems.append("$: tcIds must be numbered 1..numberOfTests")
    return problems


def _expand_part(part: object) -> str:
    if isinstance(part, str):
        return part
    if (isinstance(part, dict) and set(part) == {"$repeat", "count"}
            and isinstance(part["$repeat"], str) and type(part["count"]) is int
            and part["count"] >= 0):
        return part["$repeat"] * part["count"]
    raise VectorFileError(f"a $concat part is neither a string nor {{'$repeat', 'count'}}: "
                          f"{str(part)[:80]}")


def expand_input(value: Any) -> Any:
    """A case input with every generated string written out.

    An object whose only member is ``"$concat"`` (an array of parts: strings, or objects
    ``{"$repeat": S, "count": N}`` standing for S written N times) stands for the
    concatenation of its parts. Vector files use it for inputs too large to store verbatim
    (a revocation list at its 1 MiB limit); the suite expands it before it sends the case, so
    an adapter only ever sees the string."""
    if isinstance(value, dict):
        if set(value) == {"$concat"}:
            parts = value["$concat"]
            if not isinstance(parts, list):
                raise VectorFileError("$concat is not an array")
            return "".join(_expand_part(p) for p in parts)
        return {k: expand_input(v) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_input(v) for v in value]
    return value


def _cases(name: str, obj: Mapping[str, Any]) -> Iterator[Case]:
    profile = str(obj["profile"])
    stem = Path(name).stem
    notes: Mapping[str, Any] = obj["notes"]
    for group in obj["testGroups"]:
        for test in group["tests"]:
            flags = tuple(test["flags"])
            reqs = sorted({r for f in flags for r in notes[f].get("requirements", [])})
            yield Case(
                id=f"{profile}/{stem}#{test['tcId']}",
                profile=profile,
                file=name,
                tc_id=int(test["tcId"]),
                comment=str(test.get("comment", "")),
                operation=str(group["operation"]),
                now=int(group["now"]),
                trust=group.get("trust", {}),
                input=expand_input(test["input"]),
                result=test["result"],
                error=test.get("error"),
                expected=test.get("expected"),
                flags=flags,
                requirements=tuple(reqs),
            )


def load_vectors(path: Path | str, *, root: Path | None = None) -> VectorFile:
    """Load and validate one vector file; raise `VectorFileError` with every problem found."""
    path = Path(path)
    root = root if root is not None else repo_root()
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise VectorFileError(f"{path}: cannot read vector file: {exc}") from exc
    problems = check_vector_file(obj, root / "schemas")
    if problems:
        raise VectorFileError(f"{path}: " + "; ".join(problems))
    try:
        name = path.resolve().relative_to((root / "vectors").resolve()).as_posix()
    except ValueError:
        name = path.name
    return VectorFile(path=path, name=name, data=obj, cases=tuple(_cases(name, obj)))


def vector_paths(root: Path) -> list[Path]:
    """Every vector file under `root/vectors` (the manifest excluded), in a stable order."""
    vectors = root / "vectors"
    if not vectors.is_dir():
        return []
    return sorted(
        p for p in vectors.rglob("*.json") if p.name != "manifest.json" and p.is_file()
    )


def load_all_vectors(root: Path | None = None) -> list[VectorFile]:
    """Load every vector file of the repository; case ids must be unique across files."""
    root = root if root is not None else repo_root()
    files = [load_vectors(p, root=root) for p in vector_paths(root)]
    seen: dict[str, str] = {}
    for vf in files:
        for case in vf.cases:
            if case.id in seen:
                raise VectorFileError(
                    f"case id {case.id} appears in both {seen[case.id]} and {vf.name}"
                )
            seen[case.id] = vf.name
    return files


def iter_cases(files: list[VectorFile]) -> Iterator[Case]:
    """All cases of `files`, in file then tcId order."""
    for vf in files:
        yield from vf.cases
