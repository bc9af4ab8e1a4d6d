"""Identity vectors: identifier grammar, identity documents, resolution from a trust store.

Every document is built and signed here from primitives; invalid ones are crafted by editing
the bytes or the object after (or instead of) honest signing, never by asking an
implementation to refuse.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import base58
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ._common import (
    NOW,
    VectorFile,
    b64url,
    compact_json,
    ed25519_multibase,
    jcs,
    key_id,
    public_raw,
    rfc3339,
    seeded_key,
)

__all__ = ["generate"]

DAY = 86400
SKEW = 60
WEB = "aip:web:example.com/agents/alpha"
OTHER_WEB = "aip:web:example.org/agents/beta"

# key material, from fixed labels
K1 = seeded_key("identity/alpha-key-1")
K2 = seeded_key("identity/alpha-key-2")
K_OLD = seeded_key("identity/alpha-old")
K_ATTACKER = seeded_key("identity/attacker")
K_BETA = seeded_key("identity/beta-key-1")


def _key_entry(kid: str, key: Ed25519PrivateKey, valid_from: int = NOW - 30 * DAY,
               valid_until: int | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": kid, "type": "Ed25519",
                             "public_key_multibase": ed25519_multibase(public_raw(key)),
                             "valid_from": rfc3339(valid_from)}
    if valid_until is not None:
        entry["valid_until"] = rfc3339(valid_until)
    return entry


def _document(ident: str = WEB, keys: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"aip": "1.0", "id": ident, "name": "Alpha research agent",
                           "public_keys": keys if keys is not None else [_key_entry("key-1", K1)],
                           "delegation": {"max_depth": 3},
                           "expires": rfc3339(NOW + 30 * DAY)}
    doc.update(extra)
    return doc


def _header(kid: str, alg: str = "EdDSA", typ: str = "aip-document+jws", **extra: Any) -> str:
    header = {"alg": alg, "kid": kid, "typ": typ, **extra}
    return b64url(compact_json(header).encode())


def _sign(doc: dict[str, Any], kid: str, key: Ed25519PrivateKey, *,
          header: str | None = None, payload: bytes | None = None) -> dict[str, Any]:
    """Attach a detached JWS over JCS(doc without its signature) (spec AIP-DOC-010)."""
    body = {k: v for k, v in doc.items() if k != "document_signature"}
    h = header or _header(kid)
    data = payload if payload is not None else jcs(body)
    signature = key.sign(h.encode() + b"." + b64url(data).encode())
    return {**body, "document_signature": f"{h}..{b64url(signature)}"}


def _text(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False)


def _flip(text: str, index: int) -> str:
    ch = text[index]
    return text[:index] + ("B" if ch != "B" else "C") + text[index + 1:]


# --- identifiers ---------------------------------------------------------------------------

IDENT_NOTES: dict[str, dict[str, Any]] = {
    "ValidKey": {"description": "A well-formed aip:key identifier.", "requirements": ["AIP-ID-001", "AIP-ID-004", "AIP-ID-005"]},
    "ValidWeb": {"description": "A well-formed aip:web identifier.", "requirements": ["AIP-ID-001", "AIP-ID-006", "AIP-ID-010"]},
    "WebPort": {"description": "A port is written %3A followed by 1..65535 without leading zeros.", "requirements": ["AIP-ID-007"]},
    "WebPath": {"description": "Path segments and where the document lives.", "requirements": ["AIP-ID-008", "AIP-ID-010"]},
    "Prefix": {"description": "The identifier does not start with a lowercase 'aip:key:' or 'aip:web:'.", "requirements": ["AIP-ID-001", "AIP-ID-002"]},
    "Case": {"description": "Identifiers are case-sensitive and never case-folded.", "requirements": ["AIP-ID-002"]},
    "NonAscii": {"description": "Non-ASCII characters, including look-alikes of ASCII letters, are rejected.", "requirements": ["AIP-ID-003"]},
    "Length": {"description": "The 256-character length limit.", "requirements": ["AIP-ID-009"]},
    "KeyEncoding": {"description": "The aip:key payload is 'z' + base58btc(0xED 0x01 || 32-byte key).", "requirements": ["AIP-ID-004", "AIP-ENC-003"]},
    "KeyAlgorithm": {"description": "The aip:key algorithm label is exactly 'ed25519'.", "requirements": ["AIP-ID-005"]},
    "Host": {"description": "aip:web hosts are lowercase LDH names, never IP literals.", "requirements": ["AIP-ID-006"]},
    "Whitespace": {"description": "Whitespace anywhere is not part of the grammar.", "requirements": ["AIP-ID-001"]},
}


def _identifiers() -> dict[str, Any]:
    vf = VectorFile("identity", ["Identifier grammar: aip:key and aip:web (spec/identities.md)."], IDENT_NOTES)
    t = vf.group("identifier.parse")
    raw1 = public_raw(K1)
    kid1 = key_id(K1)

    def ok(comment: str, flags: list[str], ident: str, expected: dict[str, Any]) -> None:
        vf.add(t, comment, flags, {"identifier": ident}, expected=expected)

    def bad(comment: str, flags: list[str], ident: str) -> None:
        vf.add(t, comment, flags, {"identifier": ident}, error="aip_identifier_invalid")

    ok("aip:key from a seeded Ed25519 key; starts z6Mk", ["ValidKey"], kid1,
       {"method": "key", "algorithm": "ed25519", "public_key": b64url(raw1)})
    ok("aip:key of another key", ["ValidKey"], key_id(K2),
       {"method": "key", "public_key": b64url(public_raw(K2))})
    ok("aip:web host only: document at /.well-known/aip.json", ["ValidWeb"], "aip:web:example.com",
       {"method": "web", "host": "example.com", "port": None, "path": [],
        "document_url": "https://example.com/.well-known/aip.json"})
    ok("aip:web with a path", ["ValidWeb", "WebPath"], WEB,
       {"method": "web", "host": "example.com", "path": ["agents", "alpha"],
        "document_url": "https://example.com/.well-known/aip/agents/alpha.json"})
    ok("aip:web with a port", ["ValidWeb", "WebPort"], "aip:web:example.com%3A8443/a",
       {"method": "web", "port": 8443, "document_url": "https://example.com:8443/.well-known/aip/a.json"})
    ok("aip:web with the highest port", ["WebPort"], "aip:web:example.com%3A65535",
       {"port": 65535})
    ok("aip:web IDN host in A-label form", ["ValidWeb", "NonAscii"], "aip:web:xn--bcher-kva.example",
       {"host": "xn--bcher-kva.example"})
    ok("aip:web path segment with dot, dash and underscore", ["WebPath"], "aip:web:example.com/a.b/c_d-e",
       {"path": ["a.b", "c_d-e"]})
    ok("single-label host", ["ValidWeb"], "aip:web:localhost",
       {"host": "localhost", "document_url": "https://localhost/.well-known/aip.json"})
    longest = "aip:web:example.com/" + "/".join(["a" * 63] * 3) + "/" + "b" * (256 - 20 - 3 * 64)
    ok("exactly 256 characters", ["Length"], longest, {"method": "web"})

    bad("empty string", ["Prefix"], "")
    bad("scheme only", ["Prefix"], "aip:")
    bad("unknown method", ["Prefix"], "aip:dns:example.com")
    bad("did:key is another scheme", ["Prefix"], "did:key:" + kid1.rsplit(":", 1)[1])
    bad("uppercase scheme", ["Prefix", "Case"], "AIP:web:example.com")
    bad("uppercase method", ["Prefix", "Case"], "aip:WEB:example.com")
    bad("uppercase host", ["Case", "Host"], "aip:web:Example.com")
    bad("uppercase path", ["Case", "WebPath"], "aip:web:example.com/Agents")
    bad("trailing slash", ["WebPath"], "aip:web:example.com/agents/")
    bad("host then slash only", ["WebPath"], "aip:web:example.com/")
    bad("empty path segment", ["WebPath"], "aip:web:example.com//alpha")
    bad("dot-dot segment", ["WebPath"], "aip:web:example.com/../alpha")
    bad("dot segment", ["WebPath"], "aip:web:example.com/./alpha")
    bad("path segment with a percent-encoded slash", ["WebPath"], "aip:web:example.com/a%2Fb")
    bad("empty host", ["Host"], "aip:web:")
    bad("IPv4 literal", ["Host"], "aip:web:127.0.0.1")
    bad("IPv6 literal", ["Host"], "aip:web:[::1]")
    bad("underscore in host", ["Host"], "aip:web:my_host.example")
    bad("label starting with a hyphen", ["Host"], "aip:web:-bad.example")
    bad("label of 64 characters", ["Host"], "aip:web:" + "a" * 64 + ".example")
    bad("empty label", ["Host"], "aip:web:example..com")
    bad("host with a literal colon port", ["WebPort"], "aip:web:example.com:8443")
    bad("lowercase %3a", ["WebPort", "Case"], "aip:web:example.com%3a8443")
    bad("port zero", ["WebPort"], "aip:web:example.com%3A0")
    bad("port above 65535", ["WebPort"], "aip:web:example.com%3A65536")
    bad("port with a leading zero", ["WebPort"], "aip:web:example.com%3A0443")
    bad("empty port", ["WebPort"], "aip:web:example.com%3A")
    bad("Cyrillic 'а' that looks like Latin 'a'", ["NonAscii"], "aip:web:ex\u0430mple.com")
    bad("fullwidth letters", ["NonAscii"], "aip:web:\uff45xample.com")
    bad("zero-width space", ["NonAscii"], "aip:web:example\u200b.com")
    bad("IDN host in U-label form", ["NonAscii"], "aip:web:b\u00fccher.example")
    bad("leading space", ["Whitespace"], " " + WEB)
    bad("trailing newline", ["Whitespace"], WEB + "\n")
    bad("257 characters", ["Length"], longest + "c")
    bad("very long input (10,000 characters)", ["Length"], "aip:web:example.com/" + "a/" * 4990 + "a")
    bad("aip:key with a bare 32-byte payload (no multicodec prefix)", ["KeyEncoding"],
        "aip:key:ed25519:z" + base58.b58encode(raw1).decode())
    bad("aip:key with the secp256k1 multicodec", ["KeyEncoding"],
        "aip:key:ed25519:z" + base58.b58encode(b"\xe7\x01" + raw1 + b"\x02").decode())
    bad("aip:key with 33 key bytes", ["KeyEncoding"],
        "aip:key:ed25519:z" + base58.b58encode(b"\xed\x01" + raw1 + b"\x00").decode())
    bad("aip:key with 31 key bytes", ["KeyEncoding"],
        "aip:key:ed25519:z" + base58.b58encode(b"\xed\x01" + raw1[:31]).decode())
    bad("aip:key without the multibase 'z'", ["KeyEncoding"], "aip:key:ed25519:" + kid1.rsplit(":", 1)[1][1:])
    bad("aip:key in base64url multibase ('u')", ["KeyEncoding"],
        "aip:key:ed25519:u" + b64url(b"\xed\x01" + raw1))
    bad("aip:key with a '0', not in the base58 alphabet", ["KeyEncoding"], kid1[:-1] + "0")
    bad("aip:key with an 'l', not in the base58 alphabet", ["KeyEncoding"], kid1[:-1] + "l")
    bad("aip:key with an empty payload", ["KeyEncoding"], "aip:key:ed25519:")
    bad("aip:key with an uppercase algorithm", ["KeyAlgorithm", "Case"], "aip:key:Ed25519:" + kid1.rsplit(":", 1)[1])
    bad("aip:key with algorithm x25519", ["KeyAlgorithm"], "aip:key:x25519:" + kid1.rsplit(":", 1)[1])
    bad("aip:key without an algorithm (draft-01 examples had one)", ["KeyAlgorithm"],
        "aip:key:" + kid1.rsplit(":", 1)[1])
    _identifiers_from_mutants(vf, t)
    # A value offered as an identifier that is not a string at all (AIP-ID-001).
    vf.add(t, "a number, not a string", ["Prefix"], {"identifier": 7}, error="aip_identifier_invalid")
    vf.add(t, "an array holding an identifier", ["Prefix"], {"identifier": [kid1]}, error="aip_identifier_invalid")
    return vf.build()


# --- documents -----------------------------------------------------------------------------

DOC_NOTES: dict[str, dict[str, Any]] = {
    "Valid": {"description": "A well-formed, correctly signed, unexpired document.", "requirements": ["AIP-DOC-001", "AIP-DOC-009", "AIP-DOC-010", "AIP-DOC-011"]},
    "SeveralKeys": {"description": "Documents with several keys; any listed Ed25519 key may sign.", "requirements": ["AIP-DOC-004", "AIP-DOC-011"]},
    "Canonicalization": {"description": "The signature covers the RFC 8785 form, so member order, whitespace, escapes and number spelling in the received text do not matter.", "requirements": ["AIP-DOC-010"]},
    "Draft01Canonicalization": {"description": "A signature over sorted json.dumps (draft-01's SDK) instead of RFC 8785.", "requirements": ["AIP-DOC-010"]},
    "JsonHygiene": {"description": "Duplicate member names, BOM, NaN and non-object documents.", "requirements": ["AIP-DOC-001", "AIP-JSON-001", "AIP-JSON-002", "AIP-JSON-003"]},
    "Limits": {"description": "Size and nesting limits.", "requirements": ["AIP-DOC-001", "AIP-JSON-004", "AIP-JSON-005"]},
    "Version": {"description": "The 'aip' member is exactly \"1.0\".", "requirements": ["AIP-DOC-002"]},
    "Id": {"description": "The document's id is an aip:web identifier equal to the one resolved.", "requirements": ["AIP-DOC-003"]},
    "Keys": {"description": "public_keys: 1..32 entries, unique ids, Ed25519 keys in the aip:key encoding.", "requirements": ["AIP-DOC-004", "AIP-DOC-005"]},
    "UnknownKeyType": {"description": "Keys of unknown type are kept but never used.", "requirements": ["AIP-DOC-006"]},
    "Times": {"description": "RFC 3339 UTC times; valid_until after valid_from.", "requirements": ["AIP-DOC-007", "AIP-TIME-006"]},
    "Expiry": {"description": "Document expiry, with the clock-skew edge.", "requirements": ["AIP-DOC-008", "AIP-TIME-001", "AIP-TIME-002", "AIP-TIME-005"]},
    "SignatureHeader": {"description": "The detached JWS header: exactly alg EdDSA, kid, typ aip-document+jws.", "requirements": ["AIP-DOC-009"]},
    "SignatureInvalid": {"description": "The signature does not verify: tampered body or signature, or the wrong key.", "requirements": ["AIP-DOC-011"]},
    "SigningKey": {"description": "The signing key is listed, Ed25519 and inside its validity window.", "requirements": ["AIP-DOC-011"]},
    "MaxDepth": {"description": "delegation.max_depth is an integer 0..16.", "requirements": ["AIP-DOC-012"]},
    "OptionalMembers": {"description": "Types of optional members; unknown members are signed and otherwise ignored.", "requirements": ["AIP-DOC-013"]},
    "KeySelection": {"description": "Selecting a key by kid at a time, with the clock-skew edges.", "requirements": ["AIP-DOC-014", "AIP-TIME-001", "AIP-TIME-002", "AIP-TIME-004", "AIP-TIME-005"]},
    "Rotation": {"description": "A retired key next to its successor.", "requirements": ["AIP-DOC-014", "AIP-DOC-015"]},
    "FirstFailingStep": {"description": "Several defects at once: the first failing step of the algorithm decides the single code.", "requirements": ["AIP-ERR-001", "AIP-ERR-002"]},
    "Base64url": {"description": "The signature parts are unpadded base64url.", "requirements": ["AIP-DOC-009", "AIP-ENC-001", "AIP-ENC-002"]},
}


def _documents() -> dict[str, Any]:
    vf = VectorFile("identity", ["Identity document verification (spec/identities.md)."], DOC_NOTES)
    t = vf.group("document.verify", trust={"skew": SKEW})
    base = _sign(_document(), "key-1", K1)

    def ok(comment: str, flags: list[str], text: str, expected: dict[str, Any], **inp: Any) -> None:
        vf.add(t, comment, flags, {"document": text, "identifier": WEB, **inp}, expected=expected)

    def bad(comment: str, flags: list[str], text: str, error: str = "aip_document_invalid", **inp: Any) -> None:
        vf.add(t, comment, flags, {"document": text, "identifier": WEB, **inp}, error=error)

    ok("one key, signed by it", ["Valid"], _text(base),
       {"id": WEB, "keys": ["key-1"], "signed_by": "key-1", "max_depth": 3})
    ok("select the signing key by kid", ["Valid", "KeySelection"], _text(base),
       {"public_key": b64url(public_raw(K1))}, kid="key-1")
    two = _sign(_document(keys=[_key_entry("key-1", K1), _key_entry("key-2", K2)]), "key-2", K2)
    ok("two keys, signed by the second", ["SeveralKeys"], _text(two),
       {"keys": ["key-1", "key-2"], "signed_by": "key-2"})
    ok("two keys, select the one that did not sign", ["SeveralKeys", "KeySelection"], _text(two),
       {"public_key": b64url(public_raw(K1))}, kid="key-1")
    reordered = dict(reversed(list(base.items())))
    ok("members in reverse order, compact whitespace", ["Canonicalization"],
       json.dumps(reordered, separators=(",", ":")), {"signed_by": "key-1"})
    uni = _sign(_document(name="Agent \u00e9\u00e8 \u20ac \U0001F600"), "key-1", K1)
    ok("non-ASCII name sent as raw UTF-8", ["Canonicalization"], _text(uni), {"signed_by": "key-1"})
    ok("non-ASCII name sent as \\u escapes", ["Canonicalization"], json.dumps(uni, ensure_ascii=True),
       {"signed_by": "key-1"})
    numbers = _sign(_document(extensions={"x-n": [100, 0.1, 1e21, -0.0, 1.5e-7, 9007199254740991]}), "key-1", K1)
    num_text = _text(numbers).replace("100,", "1e2,").replace("1e+21", "1E21")
    ok("numbers spelled 1e2 and 1E21 in the text, canonical 100 and 1e+21 when signed", ["Canonicalization"],
       num_text, {"signed_by": "key-1"})
    sorting = _sign(_document(extensions={"\ufb01": 1, "\U0001F600": 2, "a": 3, "\u00e9": 4}), "key-1", K1)
    ok("extension member names that sort differently by UTF-16 unit and by code point", ["Canonicalization"],
       _text(sorting), {"signed_by": "key-1"})
    ok("unknown members are signed and ignored", ["OptionalMembers", "Canonicalization"],
       _text(_sign({**_document(), "x-future": {"nested": [1, 2]}}, "key-1", K1)), {"signed_by": "key-1"})
    unknown_type = _sign(_document(keys=[_key_entry("key-1", K1), {
        "id": "pq-1", "type": "ML-DSA-65", "public_key_multibase": "zQmUnknownKeyMaterial",
        "valid_from": rfc3339(NOW - DAY)}]), "key-1", K1)
    ok("a key of unknown type next to an Ed25519 key", ["UnknownKeyType"], _text(unknown_type),
       {"keys": ["key-1", "pq-1"]})
    bad("selecting the key of unknown type", ["UnknownKeyType", "KeySelection"], _text(unknown_type),
        "aip_algorithm_unsupported", kid="pq-1")
    ut_signed = copy.deepcopy(unknown_type)
    ut_signed = _sign(ut_signed, "pq-1", K1, header=_header("pq-1"))
    bad("signed by the key of unknown type", ["UnknownKeyType", "SigningKey"], _text(ut_signed),
        "aip_algorithm_unsupported")
    rotation = _sign(_document(keys=[_key_entry("key-0", K_OLD, NOW - 90 * DAY, NOW - DAY),
                                     _key_entry("key-1", K1, NOW - 2 * DAY)]), "key-1", K1)
    ok("rotation: retired key listed beside its successor", ["Rotation"], _text(rotation),
       {"public_key": b64url(public_raw(K1))}, kid="key-1")
    bad("rotation: the retired key is inactive", ["Rotation", "KeySelection"], _text(rotation),
        "aip_key_inactive", kid="key-0")
    bad("signed by the retired key", ["Rotation", "SigningKey"],
        _text(_sign(rotation, "key-0", K_OLD)))
    edge_from = _sign(_document(keys=[_key_entry("key-1", K1), _key_entry("key-2", K2, NOW + SKEW)]), "key-1", K1)
    ok("key valid_from exactly now + skew", ["KeySelection"], _text(edge_from),
       {"public_key": b64url(public_raw(K2))}, kid="key-2")
    past_from = _sign(_document(keys=[_key_entry("key-1", K1), _key_entry("key-2", K2, NOW + SKEW + 1)]), "key-1", K1)
    bad("key valid_from one second past now + skew", ["KeySelection"], _text(past_from), "aip_key_inactive", kid="key-2")
    edge_until = _sign(_document(keys=[_key_entry("key-1", K1), _key_entry("key-2", K2, NOW - DAY, NOW - SKEW)]), "key-1", K1)
    ok("key valid_until exactly now - skew", ["KeySelection"], _text(edge_until),
       {"public_key": b64url(public_raw(K2))}, kid="key-2")
    past_until = _sign(_document(keys=[_key_entry("key-1", K1), _key_entry("key-2", K2, NOW - DAY, NOW - SKEW - 1)]), "key-1", K1)
    bad("key valid_until one second before now - skew", ["KeySelection"], _text(past_until), "aip_key_inactive", kid="key-2")
    bad("selecting a kid the document does not list", ["KeySelection"], _text(base), "aip_key_unknown", kid="key-9")
    ok("expires exactly now - skew", ["Expiry"],
       _text(_sign(_document(expires=rfc3339(NOW - SKEW)), "key-1", K1)), {"signed_by": "key-1"})
    bad("expires one second before now - skew", ["Expiry"],
        _text(_sign(_document(expires=rfc3339(NOW - SKEW - 1)), "key-1", K1)), "aip_document_expired")
    bad("expired a year ago", ["Expiry"],
        _text(_sign(_document(expires=rfc3339(NOW - 365 * DAY)), "key-1", K1)), "aip_document_expired")
    ok("max_depth 0 (may not delegate)", ["MaxDepth"],
       _text(_sign(_document(delegation={"max_depth": 0}), "key-1", K1)), {"max_depth": 0})
    ok("no delegation member: max_depth defaults to 3", ["MaxDepth"],
       _text(_sign({k: v for k, v in _document().items() if k != "delegation"}, "key-1", K1)), {"max_depth": 3})

    # several defects: the earliest step decides (signature is step 6, expiry step 7)
    stale_tampered = _sign(_document(expires=rfc3339(NOW - 365 * DAY)), "key-1", K1)
    stale_tampered["name"] = "changed after signing"
    bad("expired and altered after signing: the signature step comes first", ["FirstFailingStep"],
        _text(stale_tampered))
    bad("expired and in the wrong format version: the version step comes first", ["FirstFailingStep"],
        _text(_sign(_document(aip="0.9", expires=rfc3339(NOW - 365 * DAY)), "key-1", K1)))
    bad("oversized and with duplicate members: the size step comes first", ["FirstFailingStep", "Limits"],
        '{"aip": "1.0", "aip": "1.0", "pad": "' + "x" * 70000 + '"}', "aip_limit_exceeded")

    # JSON hygiene
    text = _text(base)
    bad("duplicate top-level member 'id'", ["JsonHygiene"],
        text.replace('"aip": "1.0",', f'"aip": "1.0",\n  "id": "{OTHER_WEB}",', 1))
    bad("duplicate member inside a key", ["JsonHygiene"],
        text.replace('"type": "Ed25519",', '"type": "Ed25519",\n      "type": "Ed25519",', 1))
    bad("byte order mark before the document", ["JsonHygiene"], "\ufeff" + text)
    bad("NaN inside extensions", ["JsonHygiene"], text[:-2] + ',\n  "extensions": {"x": NaN}\n}')
    bad("a JSON array, not an object", ["JsonHygiene"], "[" + text + "]")
    bad("not JSON at all", ["JsonHygiene"], "aip 1.0 document")
    bad("over 64 KiB", ["Limits"], _text(_sign(_document(extensions={"pad": "x" * 66000}), "key-1", K1)),
        "aip_limit_exceeded")
    def nested(levels: int) -> Any:
        value: Any = 1
        for _ in range(levels):
            value = [value]
        return value

    # The document is depth 1 and extensions depth 2, so 30 nested arrays make 32 in all.
    ok("nesting exactly 32 levels deep", ["Limits"],
       _text(_sign(_document(extensions={"deep": nested(30)}), "key-1", K1)), {"signed_by": "key-1"})
    bad("nesting 33 levels deep", ["Limits"], _text(_sign(_document(extensions={"deep": nested(31)}), "key-1", K1)),
        "aip_limit_exceeded")

    # structure
    bad("aip is \"2.0\"", ["Version"], _text(_sign(_document(aip="2.0"), "key-1", K1)))
    bad("aip member missing", ["Version"],
        _text(_sign({k: v for k, v in _document().items() if k != "aip"}, "key-1", K1)))
    bad("aip is the number 1.0", ["Version"], _text(_sign(_document(aip=1.0), "key-1", K1)))
    bad("id names another identity than the one resolved", ["Id"], _text(_sign(_document(OTHER_WEB), "key-1", K1)))
    bad("id is an aip:key identifier", ["Id"], _text(_sign(_document(key_id(K1)), "key-1", K1)))
    bad("id is malformed", ["Id"], _text(_sign(_document("aip:web:Example.com"), "key-1", K1)))
    bad("public_keys is empty", ["Keys"], _text(_sign(_document(keys=[]), "key-1", K1)))
    bad("two keys share an id", ["Keys"],
        _text(_sign(_document(keys=[_key_entry("key-1", K1), _key_entry("key-1", K2)]), "key-1", K1)))
    bare = _key_entry("key-1", K1)
    bare["public_key_multibase"] = "z" + base58.b58encode(public_raw(K1)).decode()
    bad("Ed25519 key as a bare 32-byte base58 payload", ["Keys"], _text(_sign(_document(keys=[bare]), "key-1", K1)))
    hexkey = _key_entry("key-1", K1)
    hexkey["public_key_multibase"] = "f" + (b"\xed\x01" + public_raw(K1)).hex()
    bad("Ed25519 key in base16 multibase", ["Keys"], _text(_sign(_document(keys=[hexkey]), "key-1", K1)))
    bad("valid_from with an offset instead of Z", ["Times"],
        _text(_sign(_document(keys=[{**_key_entry("key-1", K1), "valid_from": "2025-12-01T00:00:00+00:00"}]), "key-1", K1)))
    bad("valid_from with fractional seconds", ["Times"],
        _text(_sign(_document(keys=[{**_key_entry("key-1", K1), "valid_from": "2025-12-01T00:00:00.5Z"}]), "key-1", K1)))
    bad("valid_until before valid_from", ["Times"],
        _text(_sign(_document(keys=[_key_entry("key-1", K1, NOW - DAY, NOW - 2 * DAY)]), "key-1", K1)))
    bad("expires missing", ["Times"],
        _text(_sign({k: v for k, v in _document().items() if k != "expires"}, "key-1", K1)))
    bad("expires as a number", ["Times"], _text(_sign(_document(expires=NOW + DAY), "key-1", K1)))
    bad("max_depth 17", ["MaxDepth"], _text(_sign(_document(delegation={"max_depth": 17}), "key-1", K1)))
    bad("max_depth as a string", ["MaxDepth"], _text(_sign(_document(delegation={"max_depth": "3"}), "key-1", K1)))
    bad("name is not a string", ["OptionalMembers"], _text(_sign(_document(name=["alpha"]), "key-1", K1)))
    bad("extensions is not an object", ["OptionalMembers"], _text(_sign(_document(extensions="x"), "key-1", K1)))

    # signatures
    unsigned = {k: v for k, v in base.items() if k != "document_signature"}
    bad("no document_signature", ["SignatureInvalid"], _text(unsigned))
    tampered = copy.deepcopy(base)
    tampered["name"] = "Mallory"
    bad("name changed after signing", ["SignatureInvalid"], _text(tampered))
    swapped = copy.deepcopy(base)
    swapped["public_keys"][0]["public_key_multibase"] = ed25519_multibase(public_raw(K_ATTACKER))
    bad("key swapped for the attacker's after signing", ["SignatureInvalid"], _text(swapped))
    bad("signed by another key under kid key-1", ["SignatureInvalid"], _text(_sign(_document(), "key-1", K_ATTACKER)))
    bad("attacker lists and signs with its own key under the victim's id (self-signature alone proves nothing about the host)",
        ["SignatureInvalid"],
        _text(_sign(_document(keys=[_key_entry("key-1", K_ATTACKER)]), "key-1", K1)))
    sig = base["document_signature"]
    h, _, s = sig.split(".")
    flipped = copy.deepcopy(base)
    flipped["document_signature"] = f"{h}..{_flip(s, 10)}"
    bad("one character of the signature changed", ["SignatureInvalid"], _text(flipped))
    last = copy.deepcopy(base)
    last["document_signature"] = f"{h}..{s[:-1]}{'A' if s[-1] != 'A' else 'Q'}"
    bad("last signature character changed", ["SignatureInvalid", "Base64url"], _text(last))
    bad("signed with unknown kid", ["SigningKey"], _text(_sign(_document(), "key-7", K1, header=_header("key-7"))))
    bad("signed by a key whose window ended", ["SigningKey"],
        _text(_sign(_document(keys=[_key_entry("key-1", K1, NOW - 10 * DAY, NOW - 2 * DAY), _key_entry("key-2", K2)]), "key-1", K1)))
    bad("signature header alg none", ["SignatureHeader"],
        _text(_sign(_document(), "key-1", K1, header=_header("key-1", alg="none"))), "aip_algorithm_unsupported")
    bad("signature header alg HS256", ["SignatureHeader"],
        _text(_sign(_document(), "key-1", K1, header=_header("key-1", alg="HS256"))), "aip_algorithm_unsupported")
    bad("signature header typ JWT", ["SignatureHeader"],
        _text(_sign(_document(), "key-1", K1, header=_header("key-1", typ="JWT"))))
    bad("signature header carries a jwk", ["SignatureHeader"],
        _text(_sign(_document(), "key-1", K1, header=_header("key-1", jwk={"kty": "OKP", "crv": "Ed25519", "x": b64url(public_raw(K_ATTACKER))}))))
    bad("signature header carries crit/b64 (unencoded payload)", ["SignatureHeader"],
        _text(_sign(_document(), "key-1", K1, header=_header("key-1", b64=False, crit=["b64"]))))
    attached = copy.deepcopy(base)
    attached["document_signature"] = f"{h}.{b64url(jcs(unsigned))}.{s}"
    bad("JWS with the payload attached, not detached", ["SignatureHeader"], _text(attached))
    padded = copy.deepcopy(base)
    padded["document_signature"] = f"{h}..{s}=="
    bad("signature with base64 padding", ["Base64url"], _text(padded))
    std = copy.deepcopy(base)
    std["document_signature"] = f"{h}..{s.replace('-', '+').replace('_', '/')}"
    if std["document_signature"] != base["document_signature"]:
        bad("signature in the standard base64 alphabet", ["Base64url"], _text(std))
    draft = _sign(_document(name="Agent \u00e9", extensions={"n": 1e2}), "key-1", K1,
                  payload=json.dumps({k: v for k, v in _document(name="Agent \u00e9", extensions={"n": 1e2}).items()},
                                     sort_keys=True).encode())
    bad("signed over sorted json.dumps as draft-01's SDK did", ["Draft01Canonicalization"], _text(draft))
    _documents_from_mutants(vf, t)
    # The key window uses the configured skew, not the default 60 (AIP-TIME-002, AIP-DOC-014).
    ending = _text(_sign(_document(keys=[_key_entry("key-1", K1), _key_entry("key-2", K2, NOW - DAY, NOW - 90)]),
                         "key-1", K1))
    # AIP-DOC-001 at its boundary (insignificant whitespace does not change the signed JCS
    # form), and nesting far beyond 32 levels, deeper than a recursive parser's own guard.
    body = text[1:]
    vf.add(t, "exactly 65,536 bytes (padded with whitespace)", ["Limits"],
           {"document": "{" + " " * (65536 - len(text.encode())) + body, "identifier": WEB},
           expected={"signed_by": "key-1"})
    vf.add(t, "65,537 bytes (padded with whitespace)", ["Limits"],
           {"document": "{" + " " * (65537 - len(text.encode())) + body, "identifier": WEB},
           error="aip_limit_exceeded")
    vf.add(t, "arrays nested 5000 levels deep", ["Limits"],
           {"document": "[" * 5000 + "]" * 5000, "identifier": WEB}, error="aip_limit_exceeded")
    for skew in (0, 120):
        g = vf.group("document.verify", trust={"skew": skew})
        if skew == 0:
            vf.add(g, "skew 0: key valid_until now - 90 is inactive", ["KeySelection"],
                   {"document": ending, "kid": "key-2"}, error="aip_key_inactive")
        else:
            vf.add(g, "skew 120: key valid_until now - 90 is usable", ["KeySelection"],
                   {"document": ending, "kid": "key-2"}, expected={"public_key": b64url(public_raw(K2))})
    return vf.build()


# --- cases from mutation survivors (issue 7 item 4) ----------------------------------------
# Each case below pins a behaviour that a surviving mutant of aip._documents, aip._encoding or
# aip._time got wrong; the comment names the mutants (eval/results/mutation.json).

DOC_NOTES.update({
    "KeyEntries": {"description": "Each key entry is an object with an id of 1..64 characters of [A-Za-z0-9._-], a non-empty string type and a string public_key_multibase.", "requirements": ["AIP-DOC-004", "AIP-DOC-017"]},
    "HeaderLimit": {"description": "The decoded document_signature header is at most 1,024 bytes.", "requirements": ["AIP-DOC-016", "AIP-JSON-005"]},
    "ConfiguredSkew": {"description": "A configured skew other than the default applies to the signing key's window and to key selection.", "requirements": ["AIP-TIME-001", "AIP-TIME-002", "AIP-TIME-004", "AIP-TIME-005", "AIP-DOC-011", "AIP-DOC-014"]},
    "NoCanonicalForm": {"description": "A document without an RFC 8785 form (an integer beyond 2^53 - 1) has no signing input, so its signature cannot verify.", "requirements": ["AIP-DOC-010", "AIP-DOC-011"]},
    "NameLength": {"description": "name is at most 256 characters.", "requirements": ["AIP-DOC-018"]},
})


def _documents_from_mutants(vf: VectorFile, t: list[dict[str, Any]]) -> None:
    def ok(comment: str, flags: list[str], doc: dict[str, Any], expected: dict[str, Any], **inp: Any) -> None:
        vf.add(t, comment, flags, {"document": _text(doc), "identifier": WEB, **inp}, expected=expected)

    def bad(comment: str, flags: list[str], doc: dict[str, Any] | str, error: str = "aip_document_invalid",
            **inp: Any) -> None:
        text = doc if isinstance(doc, str) else _text(doc)
        vf.add(t, comment, flags, {"document": text, "identifier": WEB, **inp}, error=error)

    def signed(**extra: Any) -> dict[str, Any]:
        return _sign(_document(**extra), "key-1", K1)

    def with_keys(*entries: dict[str, Any] | Any) -> dict[str, Any]:
        return _sign(_document(keys=[_key_entry("key-1", K1), *entries]), "key-1", K1)

    # public_keys itself (_parse_keys #5: `or` lets a non-list through to len/assert; #8: 32 keys)
    bad("public_keys missing", ["Keys"],
        _sign({k: v for k, v in _document().items() if k != "public_keys"}, "key-1", K1))
    bad("public_keys is a string, not an array", ["Keys"], signed(public_keys="key-1"))
    many = [_key_entry(f"k{i}", seeded_key(f"identity/many-{i}")) for i in range(31)]
    ok("exactly 32 keys", ["Keys"], with_keys(*many), {"keys": ["key-1", *[f"k{i}" for i in range(31)]]})
    extra = _key_entry("k31", seeded_key("identity/many-31"))
    bad("33 keys", ["Keys"], with_keys(*many, extra))
    # each entry (_parse_keys #14, #22, #25..#30, #44, #47, #49, #55)
    bad("a key entry that is a string, not an object", ["KeyEntries"], with_keys("key-2"))
    bad("key id empty", ["KeyEntries"], with_keys(_key_entry("", K2)))
    bad("key id of 65 characters", ["KeyEntries"], with_keys(_key_entry("k" * 65, K2)))
    bad("key id with a space", ["KeyEntries"], with_keys(_key_entry("key 2", K2)))
    bad("key id with a slash", ["KeyEntries"], with_keys(_key_entry("key/2", K2)))
    bad("key id a number", ["KeyEntries"], with_keys({**_key_entry("key-2", K2), "id": 2}))
    one = _sign(_document(keys=[_key_entry("k", K1)]), "k", K1)
    ok("key id of 1 character, signing", ["KeyEntries"], one, {"keys": ["k"], "signed_by": "k"})
    long_id = "K-._" + "a1" * 30
    longest = _sign(_document(keys=[_key_entry(long_id, K1)]), long_id, K1)
    ok("key id of 64 characters using upper case, digits, '.', '_' and '-', signing", ["KeyEntries"],
       longest, {"keys": [long_id], "signed_by": long_id})
    bad("key type empty", ["KeyEntries"], with_keys({**_key_entry("key-2", K2), "type": ""}))
    bad("key type a number", ["KeyEntries"], with_keys({**_key_entry("key-2", K2), "type": 25519}))
    bad("public_key_multibase a number", ["KeyEntries"],
        with_keys({**_key_entry("key-2", K2), "type": "ML-DSA-65", "public_key_multibase": 7}))
    bad("public_key_multibase missing", ["KeyEntries"],
        with_keys({k: v for k, v in _key_entry("key-2", K2).items() if k != "public_key_multibase"}))
    # key times (_parse_keys #86: valid_until's code; #97: equal times; _time.parse_time #18..#21)
    bad("valid_until is a date without a time", ["Times"],
        with_keys({**_key_entry("key-2", K2), "valid_until": "2026-06-01"}))
    same = rfc3339(NOW - DAY)
    bad("valid_until equal to valid_from (must be later)", ["Times"],
        with_keys({**_key_entry("key-2", K2), "valid_from": same, "valid_until": same}))
    bad("valid_from 30 February, not a real calendar time", ["Times"],
        with_keys({**_key_entry("key-2", K2), "valid_from": "2026-02-30T00:00:00Z"}))
    bad("valid_from at second 60", ["Times"],
        with_keys({**_key_entry("key-2", K2), "valid_from": "2025-12-31T23:59:60Z"}))
    # other members (verify_document #81, #100, #112..#117)
    bad("delegation is a number, not an object", ["OptionalMembers"], signed(delegation=3))
    ok("max_depth 16", ["MaxDepth"], signed(delegation={"max_depth": 16}), {"max_depth": 16})
    ok("name of exactly 256 characters", ["NameLength"], signed(name="n" * 256), {"signed_by": "key-1"})
    bad("name of 257 characters", ["NameLength"], signed(name="n" * 257))
    bad("protocols is a string, not an object", ["OptionalMembers"], signed(protocols="mcp"))
    bad("revocation is an array, not an object", ["OptionalMembers"], signed(revocation=["x"]))
    # the signature's header and bytes (_verify_self_signature #29, #39, #48, #50, #134;
    # _encoding.b64url_decode #14, #15, #17)
    base = signed()
    h, _, s = base["document_signature"].split(".")

    def jws(value: str) -> dict[str, Any]:
        return {**base, "document_signature": value}

    bad("signature header not base64url (padding)", ["Base64url"], jws(f"{h}=..{s}"))
    bad("signature header base64url but not JSON", ["SignatureHeader"], jws(f"{b64url(b'{alg')}..{s}"))
    bad("signature header a JSON array", ["SignatureHeader"], jws(f"{b64url(b'[1]')}..{s}"))
    bad("signature of no bytes", ["SignatureInvalid"], jws(f"{h}.."))
    bad("signature of 63 bytes", ["SignatureInvalid"], jws(f"{h}..{b64url(_b64decode_url(s)[:63])}"))
    bad("signature of 85 characters (length 1 modulo 4)", ["Base64url"], jws(f"{h}..{s[:85]}"))
    core = compact_json({"alg": "EdDSA", "kid": "key-1", "typ": "aip-document+jws"})
    at_limit = b64url((core + " " * (1024 - len(core))).encode())
    ok("signature header of exactly 1024 bytes (padded with JSON whitespace)", ["HeaderLimit"],
       _sign(_document(), "key-1", K1, header=at_limit), {"signed_by": "key-1"})
    over = b64url((core + " " * (1025 - len(core))).encode())
    bad("signature header of 1025 bytes", ["HeaderLimit"],
        _sign(_document(), "key-1", K1, header=over), "aip_limit_exceeded")
    # no RFC 8785 form (_signing_input #7, #10): signed over the document without the number
    plain = _document(extensions={"n": 1})
    huge = _sign({**plain, "extensions": {"n": 2 ** 60}}, "key-1", K1, payload=jcs(plain))
    bad("an integer of 2^60 in extensions: no RFC 8785 form, so no signing input", ["NoCanonicalForm"], huge)

    # a configured skew of 120 s (_verify_self_signature #122, _usable #12: the default 60 s)
    t120 = vf.group("document.verify", trust={"skew": 120})
    ended = _sign(_document(keys=[_key_entry("key-1", K1, NOW - 30 * DAY, NOW - 90),
                                  _key_entry("key-2", K2, NOW + 90)]), "key-1", K1)
    vf.add(t120, "skew 120: signing key ended 90 s ago, select it", ["ConfiguredSkew"],
           {"document": _text(ended), "identifier": WEB, "kid": "key-1"},
           expected={"signed_by": "key-1", "public_key": b64url(public_raw(K1))})
    vf.add(t120, "skew 120: key starting in 90 s, select it", ["ConfiguredSkew"],
           {"document": _text(ended), "identifier": WEB, "kid": "key-2"},
           expected={"public_key": b64url(public_raw(K2))})
    gone = _sign(_document(keys=[_key_entry("key-1", K1, NOW - 30 * DAY, NOW - 121)]), "key-1", K1)
    vf.add(t120, "skew 120: signing key ended 121 s ago", ["ConfiguredSkew"],
           {"document": _text(gone), "identifier": WEB}, error="aip_document_invalid")


def _b64decode_url(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _identifiers_from_mutants(vf: VectorFile, t: list[dict[str, Any]]) -> None:
    # _encoding.multibase_decode #9 (checks the alphabet from the third character on)
    payload = key_id(K1).rsplit(":", 1)[1]
    vf.add(t, "aip:key with a '0' (not base58) right after the 'z'", ["KeyEncoding"],
           {"identifier": "aip:key:ed25519:z0" + payload[1:]}, error="aip_identifier_invalid")


# --- resolution from a trust store --------------------------------------------------------

RES_NOTES: dict[str, dict[str, Any]] = {
    "KeyIdentity": {"description": "An aip:key identity is its own key: no lookup.", "requirements": ["AIP-ID-011", "AIP-RES-001"]},
    "Pinned": {"description": "An aip:web identity resolved from a document pinned in the trust store.", "requirements": ["AIP-RES-001", "AIP-TRUST-001", "AIP-TRUST-002"]},
    "NotTrusted": {"description": "An aip:web identity with no pinned document and no network is unresolvable.", "requirements": ["AIP-RES-001", "AIP-RES-007", "AIP-TRUST-001"]},
    "PinnedInvalid": {"description": "A pinned document is still verified at every use; failure makes the identity unresolvable.", "requirements": ["AIP-TRUST-003", "AIP-RES-007"]},
    "KeySelection": {"description": "Selecting a key of the resolved identity.", "requirements": ["AIP-DOC-014", "AIP-ID-011"]},
    "Malformed": {"description": "A malformed identifier fails before any lookup.", "requirements": ["AIP-ID-001"]},
}


def _resolution() -> dict[str, Any]:
    vf = VectorFile("identity", ["Resolving identities from an offline trust store; the harness never uses the network."],
                    RES_NOTES)
    good = _sign(_document(keys=[_key_entry("key-1", K1), _key_entry("key-2", K2)]), "key-1", K1)
    expired = _sign(_document(OTHER_WEB, keys=[_key_entry("key-1", K_BETA)], expires=rfc3339(NOW - DAY)), "key-1", K_BETA)
    forged = copy.deepcopy(_sign(_document("aip:web:example.net/gamma"), "key-1", K1))
    forged["name"] = "changed after signing"
    trust = {"documents": {WEB: good, OTHER_WEB: expired, "aip:web:example.net/gamma": forged,
                           "aip:web:example.net/delta": good}, "skew": SKEW}
    t = vf.group("identity.resolve", trust=trust)
    vf.add(t, "aip:key resolves to the key it carries", ["KeyIdentity"], {"identifier": key_id(K2)},
           expected={"id": key_id(K2), "method": "key", "public_key": b64url(public_raw(K2))})
    vf.add(t, "aip:key with its own identifier as kid", ["KeyIdentity", "KeySelection"],
           {"identifier": key_id(K2), "kid": key_id(K2)}, expected={"public_key": b64url(public_raw(K2))})
    vf.add(t, "aip:key with any other kid", ["KeyIdentity", "KeySelection"],
           {"identifier": key_id(K2), "kid": "key-1"}, error="aip_key_unknown")
    vf.add(t, "pinned aip:web document", ["Pinned"], {"identifier": WEB},
           expected={"id": WEB, "method": "web", "keys": ["key-1", "key-2"]})
    vf.add(t, "pinned aip:web document, select key-2", ["Pinned", "KeySelection"],
           {"identifier": WEB, "kid": "key-2"}, expected={"public_key": b64url(public_raw(K2))})
    vf.add(t, "pinned aip:web document, unknown kid", ["Pinned", "KeySelection"],
           {"identifier": WEB, "kid": "key-3"}, error="aip_key_unknown")
    vf.add(t, "aip:web identity that the trust store does not pin", ["NotTrusted"],
           {"identifier": "aip:web:example.com/agents/unknown"}, error="aip_identity_unresolvable")
    vf.add(t, "pinned document has expired", ["PinnedInvalid"], {"identifier": OTHER_WEB},
           error="aip_identity_unresolvable")
    vf.add(t, "pinned document altered after signing", ["PinnedInvalid"],
           {"identifier": "aip:web:example.net/gamma"}, error="aip_identity_unresolvable")
    vf.add(t, "trust store entry holds another identity's document", ["PinnedInvalid"],
           {"identifier": "aip:web:example.net/delta"}, error="aip_identity_unresolvable")
    vf.add(t, "malformed identifier", ["Malformed"], {"identifier": "aip:web:EXAMPLE.com"},
           error="aip_identifier_invalid")
    return vf.build()


GENERATORS: dict[str, Callable[[], dict[str, Any]]] = {
    "identity/identifiers.json": _identifiers,
    "identity/documents.json": _documents,
    "identity/resolution.json": _resolution,
}


def generate() -> dict[str, dict[str, Any]]:
    return {path: make() for path, make in GENERATORS.items()}
