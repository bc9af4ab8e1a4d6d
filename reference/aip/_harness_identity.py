"""Harness operations of the identity profile (see spec/conformance.md)."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ._documents import verify_document
from ._encoding import b64url_encode
from ._errors import AIPError
from ._harness_base import Case, operation
from ._identifiers import KeyIdentifier, parse_identifier

__all__: list[str] = []


def _optional_str(case: Case, name: str) -> str | None:
    value = case.input.get(name)
    if value is not None and not isinstance(value, str):
        raise AIPError("aip_input_invalid", f"input.{name} is not a string")
    return value


@operation("identifier.parse", profile="identity")
def identifier_parse(case: Case) -> dict[str, Any]:
    parsed = parse_identifier(case.input.get("identifier"))
    if isinstance(parsed, KeyIdentifier):
        return {"method": "key", "algorithm": "ed25519",
                "public_key": b64url_encode(parsed.public_key)}
    return {"method": "web", "host": parsed.host, "port": parsed.port,
            "path": list(parsed.path), "document_url": parsed.document_url}


@operation("document.verify", profile="identity")
def document_verify(case: Case) -> dict[str, Any]:
    text = case.input.get("document")
    if not isinstance(text, str):
        raise AIPError("aip_input_invalid", "input.document is the document's JSON text")
    expected = _optional_str(case, "identifier")
    kid = _optional_str(case, "kid")
    document = verify_document(text.encode("utf-8", "surrogatepass"), now=case.now,
                               expected_id=expected, skew=case.skew)
    out: dict[str, Any] = {"id": document.id, "keys": [k.kid for k in document.keys],
                           "signed_by": document.signed_by, "max_depth": document.max_depth}
    if kid is not None:
        key = document.select_key(kid, case.now, case.skew)
        out["public_key"] = b64url_encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw))
    return out


@operation("identity.resolve", profile="identity")
def identity_resolve(case: Case) -> dict[str, Any]:
    identifier = case.input.get("identifier")
    if not isinstance(identifier, str):
        raise AIPError("aip_input_invalid", "input.identifier is a string")
    resolved = case.resolver().resolve(identifier, now=case.now)
    out: dict[str, Any] = {"id": resolved.identifier,
                           "method": "web" if resolved.document else "key"}
    if resolved.document is not None:
        out["keys"] = [k.kid for k in resolved.document.keys]
    if "kid" in case.input or resolved.document is None:
        key = resolved.key(_optional_str(case, "kid"), case.now, case.skew)
        out["public_key"] = b64url_encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw))
    return out
