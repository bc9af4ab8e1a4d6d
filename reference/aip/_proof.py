"""Invocation binding (spec/compact.md, AIP-PRF-*): the digests that tie an invocation to the
request actually received. Chained mode's invocation block uses the same functions.

* ``args_hash`` = ``"sha256:"`` + lowercase hex of SHA-256 over the RFC 8785 (JCS) canonical
  UTF-8 form of the call's arguments (a JSON object; absent arguments are ``{}``). Two
  requests whose arguments differ only in member order, insignificant whitespace or number
  spelling (``1``, ``1.0``, ``1e0``) have the same digest.
* ``token_hash`` = ``"sha256:"`` + lowercase hex of SHA-256 over the token exactly as sent
  (its ASCII bytes).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any

from ._encoding import canonical_json
from ._errors import AIPError
from ._json import loads_strict

__all__ = [
    "DIGEST_PREFIX",
    "MAX_ARGUMENTS_BYTES",
    "args_hash",
    "args_hash_of_json",
    "digest_equal",
    "is_digest",
    "token_hash",
]

DIGEST_PREFIX = "sha256:"
MAX_ARGUMENTS_BYTES = 1024 * 1024
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def _sha256(data: bytes) -> str:
    return DIGEST_PREFIX + hashlib.sha256(data).hexdigest()


def args_hash(arguments: Mapping[str, Any] | None) -> str:
    """Digest of the arguments of an invocation (AIP-PRF-005).

    Raises ``aip_input_invalid`` when they are not a JSON object or cannot be put in
    RFC 8785 form (e.g. an integer outside the IEEE 754 double range, a lone surrogate).
    """
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, Mapping):
        raise AIPError("aip_input_invalid", "invocation arguments are not a JSON object")
    return _sha256(canonical_json(dict(arguments), code="aip_input_invalid",
                                  what="invocation arguments"))


def args_hash_of_json(text: str | bytes) -> str:
    """Digest of arguments received as JSON text, decoded strictly (duplicate member names,
    non-finite numbers, oversize and deep nesting are ``aip_input_invalid``)."""
    value = loads_strict(text, code="aip_input_invalid", what="invocation arguments",
                         max_bytes=MAX_ARGUMENTS_BYTES)
    return args_hash(value)


def token_hash(token: str) -> str:
    """Digest of a token exactly as it was sent (AIP-PRF-004)."""
    return _sha256(token.encode("utf-8", "surrogatepass"))


def is_digest(value: object) -> bool:
    return isinstance(value, str) and _DIGEST.fullmatch(value) is not None


def digest_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("ascii", "replace"), b.encode("ascii", "replace"))
