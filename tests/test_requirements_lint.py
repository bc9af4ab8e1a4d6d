"""Traceability lint: every kind of error is caught, with file:line, and exempt text is exempt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from impls.synthetic import VALID_A, case, make_root, vector_file

from aip_conformance._requirements import check_requirements, format_table, scan_spec
from aip_conformance.cli import main

GOOD_SPEC = """\
# Chapter

Informative text with no keywords. Lowercase must and may are fine.

**AIP-SYN-001** A verifier MUST reject it.

- **AIP-SYN-002** An issuer SHOULD NOT do that,
  and this continuation line MAY say more.

| id | rule |
|----|------|
| **AIP-SYN-003** | A row that MUST hold. |

The word "MUST" in quotes names the keyword, and so does `MUST` in code.

```text
MUST inside a fence is ignored
```

<!-- MUST in a comment is ignored -->
"""


def setup_root(tmp_path: Path, spec: dict[str, str], *, exclusions: dict[str, str] | None = None,
               cited: tuple[str, ...] = ("AIP-SYN-001", "AIP-SYN-002")) -> tuple[Path, Path]:
    notes_flags = []
    tests = []
    for i, rid in enumerate(cited, start=1):
        notes_flags.append(rid)
        tests.append(case(i, VALID_A, flags=[f"F{i}"]))
    vf = vector_file(tests)
    vf["notes"] = {f"F{i}": {"description": "d", "requirements": [rid]}
                   for i, rid in enumerate(cited, start=1)}
    root = make_root(tmp_path, {"synthetic/s.json": vf})
    for rel, text in spec.items():
        path = root / "spec" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    excl = tmp_path / "exclusions.json"
    excl.write_text(json.dumps({"excluded": exclusions or {}}), encoding="utf-8")
    return root, excl


def messages(root: Path, excl: Path, checks: dict[str, list[str]] | None = None) -> list[str]:
    report = check_requirements(root, exclusions_path=excl, checks=checks or {})
    return [str(e) for e in report.errors]


def test_a_clean_spec_has_no_errors(tmp_path: Path) -> None:
    root, excl = setup_root(tmp_path, {"a.md": GOOD_SPEC},
                            exclusions={"AIP-SYN-003": "checked by hand"})
    report = check_requirements(root, exclusions_path=excl, checks={})
    assert report.errors == []
    found = {r.id: (r.line, len(r.cited_by), r.excluded) for r in report.requirements}
    assert found == {"AIP-SYN-001": (5, 1, None), "AIP-SYN-002": (7, 1, None),
                     "AIP-SYN-003": (12, 0, "checked by hand")}
    table = format_table(report)
    assert "excluded: checked by hand" in table
    assert format_table(report, quiet=True).splitlines() == [
        "3 requirements: 2 cited, 1 excluded, 0 error(s)"]


def test_keyword_without_a_defining_id_is_an_error_at_its_line(tmp_path: Path) -> None:
    spec = GOOD_SPEC + "\nA paragraph that starts plainly\nand then says implementations SHALL.\n"
    root, excl = setup_root(tmp_path, {"a.md": spec},
                            exclusions={"AIP-SYN-003": "by hand"})
    (msg,) = messages(root, excl)
    assert msg.startswith("spec/a.md:23: BCP 14 keyword SHALL")


@pytest.mark.parametrize("text", [
    "Something **AIP-SYN-009** MUST happen.\n",      # ID not at the start
    "- a list item that is RECOMMENDED\n",
    "## A heading that MAY be wrong\n",
    "| cell | OPTIONAL |\n",
    "> quoted paragraph that MUST NOT pass\n",
])
def test_keywords_outside_defined_blocks_are_caught(tmp_path: Path, text: str) -> None:
    root, excl = setup_root(tmp_path, {"b.md": text}, cited=())
    assert any("BCP 14 keyword" in m for m in messages(root, excl))


def test_only_capitalised_whole_words_are_keywords(tmp_path: Path) -> None:
    text = "Must, may and should are plain English. MAYBE, MUSTARD and OPTIONALLY are not.\n"
    root, excl = setup_root(tmp_path, {"b.md": text}, cited=())
    assert messages(root, excl) == []


def test_boilerplate_block_in_conventions_is_exempt(tmp_path: Path) -> None:
    boiler = ("<!-- bcp14-boilerplate -->\nThe key words MUST, MUST NOT, SHOULD and MAY are "
              "to be interpreted as in BCP 14.\n<!-- /bcp14-boilerplate -->\n")
    root, excl = setup_root(tmp_path, {"conventions.md": boiler, "other.md": boiler}, cited=())
    errors = messages(root, excl)
    assert len(errors) == 1 and errors[0].startswith("spec/other.md:2:")


def test_an_id_defined_twice_is_an_error(tmp_path: Path) -> None:
    root, excl = setup_root(tmp_path, {"a.md": "**AIP-SYN-001** A MUST.\n",
                                       "b.md": "\n**AIP-SYN-001** Another MUST.\n"},
                            cited=("AIP-SYN-001",))
    assert messages(root, excl) == [
        "spec/b.md:2: AIP-SYN-001 is defined twice (first at spec/a.md:1)"]


def test_an_uncited_unexcluded_id_is_an_error(tmp_path: Path) -> None:
    root, excl = setup_root(tmp_path, {"a.md": "**AIP-SYN-007** It MUST.\n"}, cited=())
    assert messages(root, excl) == [
        "spec/a.md:1: AIP-SYN-007 is not cited by any case or check and is not in "
        "exclusions.json"]


def test_a_registered_check_counts_as_a_citation(tmp_path: Path) -> None:
    root, excl = setup_root(tmp_path, {"a.md": "**AIP-SYN-007** It MUST.\n"}, cited=())
    assert messages(root, excl, checks={"http.probe-401": ["AIP-SYN-007"]}) == []


def test_exclusion_errors_stale_reasonless_and_unknown(tmp_path: Path) -> None:
    root, excl = setup_root(
        tmp_path, {"a.md": "**AIP-SYN-001** It MUST.\n\n**AIP-SYN-002** It MUST.\n"},
        exclusions={"AIP-SYN-001": "not testable", "AIP-SYN-002": " ", "AIP-SYN-050": "gone"},
        cited=("AIP-SYN-001",))
    errors = messages(root, excl)
    assert "spec/a.md:1: AIP-SYN-001: exclusion is stale, 1 case(s) cite it" in errors
    assert "exclusions.json: exclusion of AIP-SYN-002 has no reason" in errors
    assert "exclusions.json: AIP-SYN-050 is excluded but the spec does not define it" in errors


def test_a_case_citing_an_unknown_id_is_an_error(tmp_path: Path) -> None:
    root, excl = setup_root(tmp_path, {"a.md": "**AIP-SYN-001** It MUST.\n"},
                            cited=("AIP-SYN-001", "AIP-SYN-404"))
    assert messages(root, excl, checks={"probe": ["AIP-SYN-405"]}) == [
        "aip_conformance/_checks.py: check probe cite unknown requirement AIP-SYN-405",
        "vectors/synthetic/s.json: synthetic/s#2 cite unknown requirement AIP-SYN-404",
    ]


def test_scan_reports_definitions_in_nested_folders(tmp_path: Path) -> None:
    spec = tmp_path / "spec"
    (spec / "v1").mkdir(parents=True)
    (spec / "v1" / "x.md").write_text("1. **AIP-SYN-001** Numbered item MAY.\n")
    defined, errors = scan_spec(spec)
    assert errors == [] and defined["AIP-SYN-001"].file == "spec/v1/x.md"


def test_cli_exit_codes_and_json_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = setup_root(tmp_path, {"a.md": "**AIP-SYN-001** It MUST.\n\nIt SHOULD.\n"},
                         cited=("AIP-SYN-001",))
    monkeypatch.setenv("AIP_CONFORMANCE_ROOT", str(root))
    # the project's own non-vector checks cite project IDs this synthetic spec lacks
    monkeypatch.setattr("aip_conformance._requirements.CHECKS", {})
    assert main(["requirements", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["requirements"][0]["id"] == "AIP-SYN-001"
    assert data["requirements"][0]["cases"] == 1
    assert data["errors"][0]["line"] == 3
    assert main(["requirements", "--quiet"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("error: spec/a.md:3: BCP 14 keyword SHOULD")
    assert out[-1] == "1 requirements: 1 cited, 0 excluded, 1 error(s)"


def test_the_conformance_chapter_is_fully_traced_in_this_repository() -> None:
    from impls.synthetic import REPO

    report = check_requirements(REPO)
    mine = [str(e) for e in report.errors
            if e.file in ("spec/conformance.md", "exclusions.json")
            or "AIP-CONF-" in e.message or "AIP-HAR-" in e.message]
    assert mine == []
    ids = {r.id for r in report.requirements}
    assert {"AIP-CONF-001", "AIP-HAR-001"} <= ids
