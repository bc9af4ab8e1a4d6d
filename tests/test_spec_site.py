"""Checks of the specification site (``spec/`` + ``mkdocs.yml``).

- the site builds with ``mkdocs build --strict``;
- the registry table in ``spec/errors.md`` equals ``spec/registry/errors.json``;
- every JSON example marked ``<!-- schema: X -->`` validates against ``schemas/X``;
- every file in ``schemas/`` is a valid JSON Schema 2020-12 with the contract's ``$id``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "spec"
SCHEMAS = ROOT / "schemas"
ERROR_REGISTRY = SPEC / "registry" / "errors.json"
SCHEMA_ID_BASE = "https://aip.dev/schemas/"
DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Pages in the nav that other contributors write; the strict build needs them.
PAGES_WRITTEN_ELSEWHERE = ("identities.md", "conformance.md")

REGISTRY_COLUMNS = ("code", "http_status", "jsonrpc_code", "meaning", "since")


# --- helpers ---------------------------------------------------------------------------------


def _strict_json(text: str) -> Any:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise ValueError(f"duplicate member name {key!r}")
            out[key] = value
        return out

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constants)


_CELL_SEPARATOR = re.compile(r"(?<!\\)\|")


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner.removeprefix("|").removesuffix("|")
    return [cell.strip().replace("\\|", "|") for cell in _CELL_SEPARATOR.split(inner)]


def _table(markdown: str, first_header: str) -> tuple[list[str], list[list[str]]]:
    """The first Markdown table whose header row starts with ``first_header``."""
    lines = markdown.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("|") and _cells(line)[0] == first_header:
            header = _cells(line)
            assert re.fullmatch(r"\|?(\s*:?-+:?\s*\|)+\s*:?-*:?\s*\|?", lines[index + 1].strip()), (
                f"table {first_header!r}: second line is not a separator row"
            )
            rows = []
            for row in lines[index + 2 :]:
                if not row.startswith("|"):
                    break
                rows.append(_cells(row))
            return header, rows
    raise AssertionError(f"no table with first column {first_header!r}")


def _unquote(cell: str) -> str:
    if len(cell) >= 2 and cell.startswith("`") and cell.endswith("`"):
        return cell[1:-1]
    return cell


def _registry() -> dict[str, Any]:
    data: dict[str, Any] = _strict_json(ERROR_REGISTRY.read_text(encoding="utf-8"))
    return data


# --- (a) strict site build -------------------------------------------------------------------


def test_site_builds_strictly(tmp_path: Path) -> None:
    missing = [name for name in PAGES_WRITTEN_ELSEWHERE if not (SPEC / name).is_file()]
    if missing:
        pytest.skip(
            "the strict build needs nav pages that are not written yet: "
            + ", ".join(f"spec/{name}" for name in missing)
        )
    mkdocs = Path(sys.executable).parent / "mkdocs"
    if not mkdocs.is_file():
        pytest.skip(f"mkdocs is not installed next to {sys.executable} (install the 'docs' extra)")
    site = tmp_path / "site"
    proc = subprocess.run(
        [str(mkdocs), "build", "--strict", "--quiet",
         "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    for built in ("index.html", "errors/index.html", "registry/errors.json"):
        assert (site / built).is_file(), f"site lacks {built}"


# --- (b) error registry ----------------------------------------------------------------------


def test_errors_table_equals_registry() -> None:
    header, rows = _table((SPEC / "errors.md").read_text(encoding="utf-8"), "Code")
    assert header == ["Code", "HTTP status", "JSON-RPC code", "Meaning", "Since"]
    table = []
    for row in rows:
        assert len(row) == len(header), f"row has {len(row)} cells, not {len(header)}: {row}"
        code, http_status, jsonrpc_code, meaning, since = row
        assert code.startswith("`") and code.endswith("`"), f"code not in backticks: {code}"
        table.append({
            "code": _unquote(code),
            "http_status": int(http_status),
            "jsonrpc_code": int(jsonrpc_code),
            "meaning": meaning,
            "since": since,
        })
    registry = [{k: entry[k] for k in REGISTRY_COLUMNS} for entry in _registry()["codes"]]
    table_codes = [row["code"] for row in table]
    registry_codes = [row["code"] for row in registry]
    assert table_codes == registry_codes, "spec/errors.md lists other codes, or another order"
    for in_table, in_registry in zip(table, registry, strict=True):
        assert in_table == in_registry


def test_registry_is_well_formed() -> None:
    registry = _registry()
    assert registry["registry"] == "aip-error-codes"
    codes = [entry["code"] for entry in registry["codes"]]
    assert len(codes) == len(set(codes)), "duplicate error code"
    for entry in registry["codes"]:
        assert set(REGISTRY_COLUMNS) <= set(entry), entry
        assert re.fullmatch(r"aip_[a-z]+(_[a-z]+)*", entry["code"]), entry["code"]
        assert "\n" not in entry["meaning"] and "|" not in entry["meaning"], entry["code"]


def test_registry_jsonrpc_codes_follow_the_documented_classes() -> None:
    """Each code's JSON-RPC code is the one errors.md gives for its HTTP status class."""
    _, rows = _table((SPEC / "errors.md").read_text(encoding="utf-8"), "HTTP status")
    classes = {int(row[0]): int(row[1]) for row in rows}
    for entry in _registry()["codes"]:
        assert entry["http_status"] in classes, (
            f"{entry['code']}: HTTP status {entry['http_status']} has no class in errors.md"
        )
        assert entry["jsonrpc_code"] == classes[entry["http_status"]], entry["code"]


def test_versions_agree() -> None:
    version = _registry()["version"]
    index = (SPEC / "index.md").read_text(encoding="utf-8")
    assert f"| **Version** | {version} |" in index, "spec/index.md states another version"
    changelog = (SPEC / "changelog.md").read_text(encoding="utf-8")
    newest = re.search(r"^## (\S+)", changelog, re.M)
    assert newest is not None and newest.group(1) == version, (
        "the newest spec/changelog.md entry is not the registry's version"
    )


# --- (c) schemas and schema-checked examples -------------------------------------------------


def _schema_files() -> list[Path]:
    return sorted(SCHEMAS.rglob("*.schema.json")) if SCHEMAS.is_dir() else []


def _schema_registry() -> Registry:
    resources = []
    for path in _schema_files():
        schema = _strict_json(path.read_text(encoding="utf-8"))
        resources.append((schema["$id"], Resource.from_contents(schema, DRAFT202012)))
    registry: Registry = Registry().with_resources(resources)
    return registry


def _refs(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("$ref", "$dynamicRef") and isinstance(value, str):
                found.append(value)
            elif key not in ("const", "enum", "examples", "default"):
                found.extend(_refs(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_refs(item))
    return found


@pytest.mark.parametrize(
    "path", _schema_files(), ids=lambda p: p.relative_to(SCHEMAS).as_posix()
)
def test_schema_file_is_valid_2020_12(path: Path) -> None:
    schema = _strict_json(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema.get("$schema") == DIALECT
    assert schema.get("$id") == SCHEMA_ID_BASE + path.relative_to(SCHEMAS).as_posix()
    resolver = _schema_registry().resolver(base_uri=schema["$id"])
    for ref in _refs(schema):
        try:
            resolver.lookup(ref)
        except Unresolvable as exc:  # pragma: no cover - the assertion message is the point
            raise AssertionError(f"{path.name}: $ref {ref!r} does not resolve ({exc})") from None


def test_schema_ids_are_unique() -> None:
    ids = [_strict_json(p.read_text(encoding="utf-8"))["$id"] for p in _schema_files()]
    assert len(ids) == len(set(ids))


class Example(NamedTuple):
    page: str
    line: int
    schema: str
    text: str


_SCHEMA_COMMENT = re.compile(r"<!--\s*schema:\s*(\S+)\s*-->")
_EXAMPLE = re.compile(
    r"^(?P<indent>[ \t]*)<!--\s*schema:\s*(?P<schema>\S+)\s*-->[ \t]*\n"
    r"(?:[ \t]*\n)*"
    r"(?P=indent)```json[^\n]*\n(?P<body>.*?)\n(?P=indent)```[ \t]*$",
    re.M | re.S,
)


def _examples() -> tuple[list[Example], list[str]]:
    examples: list[Example] = []
    orphans: list[str] = []
    for page in sorted(SPEC.rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        name = page.relative_to(SPEC).as_posix()
        matched = set()
        for match in _EXAMPLE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            matched.add(line)
            body = textwrap.dedent(match.group("body"))
            examples.append(Example(name, line, match.group("schema"), body))
        for comment in _SCHEMA_COMMENT.finditer(text):
            start = text.rfind("\n", 0, comment.start()) + 1
            line = text.count("\n", 0, start) + 1
            if line not in matched:
                orphans.append(f"{name}:{line}")
    return examples, orphans


_ALL_EXAMPLES, _ORPHANS = _examples()


def test_every_schema_comment_precedes_a_json_fence() -> None:
    assert not _ORPHANS, (
        "a <!-- schema: X --> comment is not directly followed by a ```json fence: "
        + ", ".join(_ORPHANS)
    )


@pytest.mark.parametrize(
    "example", _ALL_EXAMPLES, ids=lambda e: f"{e.page}:{e.line}:{e.schema}"
)
def test_example_validates_against_its_schema(example: Example) -> None:
    schema_path = SCHEMAS / example.schema
    assert schema_path.is_file(), f"{example.page}:{example.line}: no schema {example.schema}"
    instance = _strict_json(example.text)
    schema = _strict_json(schema_path.read_text(encoding="utf-8"))
    validator = Draft202012Validator(
        schema, registry=_schema_registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, f"{example.page}:{example.line}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors
    )
