"""Property tests: any input to an identity parser gives a result or an AIP error with a
registry code, never another exception (issue 7, fuzzing; spec/errors.md AIP-ERR-001)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from aip import ERROR_CODES, AIPError, parse_identifier, verify_document
from aip._json import loads_strict
from aip._keys import public_bytes

NOW = 1767225600

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30,
)


def _only_aip_errors(call: object) -> None:
    try:
        call()  # type: ignore[operator]
    except AIPError as exc:
        assert exc.code in ERROR_CODES
        assert "\n" not in exc.reason


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_any_string_parses_or_fails_with_identifier_invalid(text: str) -> None:
    try:
        parse_identifier(text)
    except AIPError as exc:
        assert exc.code == "aip_identifier_invalid"


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["aip:key:ed25519:z", "aip:web:", "aip:key:", "aip:web:example.com/"]),
       st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=80))
def test_identifier_prefixes_with_random_tails_never_crash(prefix: str, tail: str) -> None:
    _only_aip_errors(lambda: parse_identifier(prefix + tail))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_as_a_document_give_a_registry_code(data: bytes) -> None:
    _only_aip_errors(lambda: verify_document(data, now=NOW))


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_value_as_a_document_gives_a_registry_code(value: object) -> None:
    _only_aip_errors(lambda: verify_document(json.dumps(value).encode(), now=NOW))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["aip", "id", "public_keys", "expires", "document_signature",
                                        "delegation", "name", "extensions"]), json_values, max_size=8))
def test_documents_with_the_right_member_names_and_random_values_give_a_registry_code(doc: dict[str, object]) -> None:
    _only_aip_errors(lambda: verify_document(json.dumps(doc).encode(), now=NOW))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_strict_json_decoder_never_raises_anything_but_aip_errors(data: bytes) -> None:
    _only_aip_errors(lambda: loads_strict(data, code="aip_token_malformed", what="x", max_bytes=150))


def test_key_helpers_round_trip() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from aip import key_identifier

    key = Ed25519PrivateKey.generate()
    parsed = parse_identifier(key_identifier(public_bytes(key)))
    assert parsed.method == "key"
