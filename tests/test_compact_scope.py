"""The scope grammar shared by compact and chained mode."""

from __future__ import annotations

import pytest

from aip import AIPError
from aip._scope import check_scopes, parse_scope, scope_allows, scopes_within, tool_scope


@pytest.mark.parametrize("text", ["*", "tool:search", "tool:*", "tool:fs:*", "tool:fs.read/v2"])
def test_valid_scopes_parse(text: str) -> None:
    assert str(parse_scope(text)) == text


@pytest.mark.parametrize("text", ["", "tool:", ":x", "tool:**", "*x", "tool:*:x", "to ol", "a" * 257, 7])
def test_invalid_scopes_are_malformed(text: object) -> None:
    with pytest.raises(AIPError) as info:
        parse_scope(text)
    assert info.value.code == "aip_token_malformed"


def test_scope_lists_are_non_empty_distinct_and_bounded() -> None:
    for bad in ([], ["a", "a"], [f"t{i}" for i in range(65)], "tool:x"):
        with pytest.raises(AIPError):
            check_scopes(bad)


def test_prefix_scopes_grant_what_starts_with_the_prefix_but_not_the_bare_prefix() -> None:
    assert scope_allows(["tool:fs:*"], tool_scope("fs:read"))
    assert not scope_allows(["tool:fs:*"], tool_scope("fs"))
    assert scope_allows(["*"], tool_scope("anything"))
    assert not scope_allows(["tool:search"], tool_scope("Search"))


def test_within_follows_attenuation() -> None:
    assert scopes_within(["tool:fs:*", "tool:search"], ["tool:*"])
    assert not scopes_within(["tool:*"], ["tool:fs:*"])
    assert not scopes_within(["*"], ["tool:*"])
    assert scopes_within(["tool:*"], ["*"])
