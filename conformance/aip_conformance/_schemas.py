"""Loading the repository's JSON Schemas and validating instances against them."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped,unused-ignore]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ._errors import ConformanceError

__all__ = ["schema_errors", "validator_for"]

_ID_PREFIX = "https://aip.dev/schemas/"


@lru_cache(maxsize=8)
def _registry(schemas_dir: Path) -> Registry[Any]:
    # Every schema is registered under its `$id`, so cross-file `$ref`s resolve offline.
    resources: list[tuple[str, Resource[Any]]] = []
    for path in sorted(schemas_dir.rglob("*.schema.json")):
        try:
            contents = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConformanceError(f"cannot read schema {path}: {exc}") from exc
        uri = contents.get("$id") or _ID_PREFIX + path.relative_to(schemas_dir).as_posix()
        resources.append((uri, Resource.from_contents(contents, default_specification=DRAFT202012)))
    return Registry().with_resources(resources)


@lru_cache(maxsize=32)
def validator_for(schemas_dir: Path, name: str) -> jsonschema.protocols.Validator:
    """Return a Draft 2020-12 validator for `schemas/<name>` (e.g. `harness/run.schema.json`)."""
    path = schemas_dir / name
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConformanceError(f"cannot read schema {path}: {exc}") from exc
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, registry=_registry(schemas_dir), format_checker=cls.FORMAT_CHECKER)


def schema_errors(schemas_dir: Path, name: str, instance: object) -> list[str]:
    """Every violation of `instance` against the schema, as `"<json path>: <message>"` lines."""
    validator = validator_for(schemas_dir, name)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    return [f"{e.json_path}: {e.message}" for e in errors]
