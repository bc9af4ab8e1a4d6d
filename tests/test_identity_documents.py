"""Identity documents and identifiers through the public API (spec/identities.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from aip import AIPError, build_document, key_identifier, parse_identifier, verify_document
from aip._keys import public_bytes
from aip._time import parse_time

ROOT = Path(__file__).resolve().parents[1]
NOW = 1767225600


def _spec_example() -> str:
    text = (ROOT / "spec/identities.md").read_text()
    match = re.search(r"<!-- schema: identity-document.schema.json -->\n```json\n(.*?)\n```", text, re.S)
    assert match
    return match.group(1)


def test_the_spec_example_document_verifies() -> None:
    doc = verify_document(_spec_example().encode(), now=parse_time(
        "2026-01-15T00:00:00Z", code="aip_input_invalid", what="t"),
        expected_id="aip:web:example.com/agents/alpha")
    assert doc.signed_by == "key-1" and [k.kid for k in doc.keys] == ["key-0", "key-1"]


def test_the_spec_example_has_expired_after_its_expires() -> None:
    with pytest.raises(AIPError) as err:
        verify_document(_spec_example().encode(), now=parse_time(
            "2026-03-01T00:00:00Z", code="aip_input_invalid", what="t"))
    assert err.value.code == "aip_document_expired"


def test_aip_key_identifiers_use_the_did_key_multicodec_form() -> None:
    key = Ed25519PrivateKey.generate()
    ident = key_identifier(public_bytes(key))
    assert ident.startswith("aip:key:ed25519:z6Mk")
    assert parse_identifier(ident).public_key == public_bytes(key)  # type: ignore[union-attr]


def test_built_document_round_trips_and_selects_each_key() -> None:
    k1, k2 = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    doc = build_document("aip:web:example.com/a", [("k1", public_bytes(k1), NOW - 10, None),
                                                    ("k2", public_bytes(k2), NOW - 10, NOW + 10)],
                         expires=NOW + 100, signer=("k2", k2))
    verified = verify_document(json.dumps(doc).encode(), now=NOW)
    assert verified.select_key("k1", NOW).public_bytes_raw() == public_bytes(k1)
    with pytest.raises(AIPError) as err:
        verified.select_key("k2", NOW + 71)
    assert err.value.code == "aip_key_inactive"


def test_documents_exist_only_for_web_identities() -> None:
    key = Ed25519PrivateKey.generate()
    with pytest.raises(AIPError) as err:
        build_document(key_identifier(public_bytes(key)), [("k", public_bytes(key), 0, None)],
                       expires=NOW, signer=("k", key))
    assert err.value.code == "aip_identifier_invalid"
