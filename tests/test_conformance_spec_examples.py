"""Every JSON example in the spec that names its schema validates against it (house rule 4)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from aip_conformance._generate import VECTORS_PUBLIC_KEY
from aip_conformance._schemas import schema_errors

REPO = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^<!-- schema: (\S+) -->\n```json\n(.*?)\n```", re.MULTILINE | re.DOTALL)


def examples() -> list[tuple[str, str, str]]:
    found = []
    for path in sorted((REPO / "spec").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        for m in MARKER.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            found.append((f"{path.relative_to(REPO)}:{line}", m.group(1), m.group(2)))
    return found


@pytest.mark.parametrize(("where", "schema", "body"), examples(), ids=[e[0] for e in examples()])
def test_spec_example_validates_against_its_schema(where: str, schema: str, body: str) -> None:
    assert schema_errors(REPO / "schemas", schema, json.loads(body)) == []


def test_the_conformance_chapter_has_examples_for_every_harness_message() -> None:
    schemas = {schema for where, schema, _ in examples() if where.startswith("spec/conformance")}
    assert {"harness/start.schema.json", "harness/run.schema.json", "harness/stop.schema.json",
            "harness/answer-start.schema.json", "harness/answer-run.schema.json"} <= schemas


def test_every_marker_is_followed_by_a_json_fence() -> None:
    for path in sorted((REPO / "spec").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        markers = len(re.findall(r"^<!-- schema: \S+ -->$", text, re.MULTILINE))
        assert markers == len(MARKER.findall(text)), path


def test_the_published_vectors_key_is_the_pinned_one() -> None:
    text = (REPO / "spec" / "conformance.md").read_text(encoding="utf-8")
    assert f'"x": "{VECTORS_PUBLIC_KEY}"' in text
