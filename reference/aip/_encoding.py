"""Byte encodings used on the wire: unpadded base64url (RFC 4648 section 5) and multibase
base58btc (``z`` prefix). Decoders are strict: one spelling per byte string."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import base58
import rfc8785

from ._errors import AIPError

__all__ = ["b64url_decode", "b64url_encode", "canonical_json", "multibase_decode",
           "multibase_encode"]

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_B58 = re.compile(r"[1-9A-HJ-NP-Za-km-z]+")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# Characters whose low 4 (resp. 2) bits are zero: the only ones allowed last in a string of
# length 2 (resp. 3) mod 4, so that each byte string has exactly one encoding (RFC 4648 3.5).
_LAST_OF_2 = frozenset("AQgw")
_LAST_OF_3 = frozenset("AEIMQUYcgkosw048")


def b64url_decode(text: str, *, code: str, what: str) -> bytes:
    """Decode unpadded base64url; padding, ``+``/``/``, whitespace and non-canonical trailing
    bits are errors (RFC 7515 section 2 and RFC 4648 section 3.5)."""
    if not isinstance(text, str) or _B64URL.fullmatch(text) is None:
        raise AIPError(code, f"{what} is not unpadded base64url")
    rest = len(text) % 4
    if rest == 1:
        raise AIPError(code, f"{what} has an impossible base64url length")
    if (rest == 2 and text[-1] not in _LAST_OF_2) or (rest == 3 and text[-1] not in _LAST_OF_3):
        raise AIPError(code, f"{what} is not canonical base64url (non-zero trailing bits)")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):  # pragma: no cover - the pattern admits only valid input
        raise AIPError(code, f"{what} is not unpadded base64url") from None


def multibase_encode(data: bytes) -> str:
    return "z" + base58.b58encode(data).decode("ascii")


def multibase_decode(text: str, *, code: str, what: str) -> bytes:
    """Decode a multibase base58btc string (``z`` + base58btc, Bitcoin alphabet)."""
    if not isinstance(text, str) or not text.startswith("z") or _B58.fullmatch(text[1:]) is None:
        raise AIPError(code, f"{what} is not multibase base58btc ('z' + base58btc)")
    data: bytes = base58.b58decode(text[1:])
    if multibase_encode(data) != text:  # pragma: no cover - base58 round-trips canonically
        raise AIPError(code, f"{what} is not canonical base58btc")
    return data


def canonical_json(value: Any, *, code: str = "aip_token_malformed", what: str = "value") -> bytes:
    """RFC 8785 (JCS) canonical UTF-8 bytes of ``value``."""
    try:
        out: bytes = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, ValueError, TypeError) as exc:
        raise AIPError(code, f"{what} cannot be canonicalized under RFC 8785 ({exc})") from None
    return out
