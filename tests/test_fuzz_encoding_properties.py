"""Property tests over the small parsers every wire format uses: scopes, base64url, multibase,
canonical JSON and argument digests. Any input gives a result or an AIP error with a registry
code, never another exception (issue 7, fuzzing; spec/errors.md AIP-ERR-001)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from aip import ERROR_CODES, AIPError, args_hash, canonical_json
from aip._encoding import b64url_decode, b64url_encode, multibase_decode, multibase_encode
from aip._proof import args_hash_of_json
from aip._scope import check_scopes, parse_scope, scope_allows, scopes_within, tool_scope

anything = st.recursive(
    st.none() | st.booleans() | st.integers(-2**80, 2**80) | st.floats() | st.text(max_size=16)
    | st.binary(max_size=8),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6) | st.integers(), c,
                                                        max_size=3),
    max_leaves=12)
scope_text = st.text(alphabet=st.sampled_from("ab:*._-/ X\u00e9"), max_size=12)


def only_aip_errors(fn: object) -> object:
    try:
        return fn()  # type: ignore[operator]
    except AIPError as exc:
        assert exc.code in ERROR_CODES
        assert "\n" not in exc.reason
        return None


@settings(max_examples=300, deadline=None)
@given(st.lists(scope_text | anything, max_size=5), scope_text | anything)
def test_scope_lists_and_tool_names(scopes: list[object], tool: object) -> None:
    checked = only_aip_errors(lambda: check_scopes(scopes))
    required = only_aip_errors(lambda: tool_scope(tool))
    if isinstance(checked, tuple) and isinstance(required, str):
        assert isinstance(scope_allows(checked, required), bool)
        assert scopes_within(checked, checked)
    for item in scopes:
        only_aip_errors(lambda item=item: parse_scope(item))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40) | st.binary(max_size=40).map(b64url_encode))
def test_base64url_decodes_canonically_or_fails(text: str) -> None:
    data = only_aip_errors(lambda: b64url_decode(text, code="aip_token_malformed", what="x"))
    if isinstance(data, bytes):
        assert b64url_encode(data) == text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40) | st.binary(max_size=34).map(multibase_encode))
def test_multibase_decodes_canonically_or_fails(text: str) -> None:
    data = only_aip_errors(lambda: multibase_decode(text, code="aip_identifier_invalid", what="x"))
    if isinstance(data, bytes):
        assert multibase_encode(data) == text


@settings(max_examples=300, deadline=None)
@given(anything)
def test_canonical_json_and_digests_of_any_value(value: object) -> None:
    only_aip_errors(lambda: canonical_json(value))
    only_aip_errors(lambda: args_hash(value))  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_argument_digest_of_any_json_text(text: bytes | str) -> None:
    only_aip_errors(lambda: args_hash_of_json(text))
