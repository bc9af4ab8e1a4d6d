"""AIP identifiers: ``aip:key:ed25519:z...`` (self-certifying) and ``aip:web:host/path``.

Grammar (spec/identities.md, AIP-ID-*)::

    aip-key  = "aip:key:ed25519:" "z" base58btc( 0xED 0x01 || 32-byte Ed25519 public key )
    aip-web  = "aip:web:" host [ "%3A" port ] *( "/" segment )
    host     = label *( "." label )      ; lowercase LDH, 1..63 each, <= 253 in all,
                                         ; the last label not all digits (no IP literals)
    segment  = 1*64( a-z / 0-9 / "-" / "_" / "." ), never "." or ".."

The ``aip:key`` payload is the did:key form (multicodec ``ed25519-pub`` = 0xED 0x01, varint
encoded) so that identifiers begin ``z6Mk``, as draft-01's examples do; a bare 32-byte
payload is rejected (AIP-ID-004).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from ._encoding import multibase_decode, multibase_encode
from ._errors import AIPError

__all__ = [
    "ED25519_MULTICODEC",
    "MAX_IDENTIFIER_LENGTH",
    "KeyIdentifier",
    "WebIdentifier",
    "key_identifier",
    "parse_identifier",
]

ED25519_MULTICODEC = b"\xed\x01"
MAX_IDENTIFIER_LENGTH = 256
_CODE = "aip_identifier_invalid"

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_SEGMENT = re.compile(r"[a-z0-9._-]{1,64}")
_PORT = re.compile(r"[1-9][0-9]{0,4}")


@dataclass(frozen=True, slots=True)
class KeyIdentifier:
    """A parsed ``aip:key`` identifier: the Ed25519 public key is the identity."""

    identifier: str
    public_key: bytes

    @property
    def method(self) -> str:
        return "key"


@dataclass(frozen=True, slots=True)
class WebIdentifier:
    """A parsed ``aip:web`` identifier and where its identity document lives."""

    identifier: str
    host: str
    port: int | None
    path: tuple[str, ...]

    @property
    def method(self) -> str:
        return "web"

    @property
    def origin(self) -> str:
        return f"https://{self.host}" + (f":{self.port}" if self.port is not None else "")

    @property
    def document_url(self) -> str:
        if not self.path:
            return f"{self.origin}/.well-known/aip.json"
        return f"{self.origin}/.well-known/aip/{'/'.join(self.path)}.json"


def key_identifier(public_key: bytes) -> str:
    """The ``aip:key`` identifier of a raw 32-byte Ed25519 public key."""
    if len(public_key) != 32:
        raise AIPError(_CODE, "an Ed25519 public key is exactly 32 bytes")
    return "aip:key:ed25519:" + multibase_encode(ED25519_MULTICODEC + public_key)


def decode_ed25519_multibase(text: str, *, code: str, what: str) -> bytes:
    """Decode ``z`` + base58btc(0xED 0x01 || key) to the 32 raw key bytes."""
    data = multibase_decode(text, code=code, what=what)
    if not data.startswith(ED25519_MULTICODEC):
        raise AIPError(code, f"{what} lacks the ed25519-pub multicodec prefix 0xed01")
    if len(data) != 34:
        raise AIPError(code, f"{what} holds {len(data) - 2} key bytes, not 32")
    return data[2:]


def parse_identifier(text: object) -> KeyIdentifier | WebIdentifier:
    """Parse an AIP identifier, raising ``aip_identifier_invalid`` with the reason."""
    if not isinstance(text, str):
        raise AIPError(_CODE, "an identifier is a string")
    return _parse_cached(text)


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str) -> KeyIdentifier | WebIdentifier:
    # Verifiers parse the same few identifiers on every call; results are immutable, and
    # failures (exceptions) are never cached.
    if len(text) > MAX_IDENTIFIER_LENGTH:
        raise AIPError(_CODE, f"identifier is {len(text)} characters, limit {MAX_IDENTIFIER_LENGTH}")
    if not text.isascii():
        raise AIPError(_CODE, "identifier contains non-ASCII characters (use IDNA A-labels)")
    if text.startswith("aip:key:"):
        return _parse_key(text)
    if text.startswith("aip:web:"):
        return _parse_web(text)
    if text.lower().startswith(("aip:key:", "aip:web:")):
        raise AIPError(_CODE, "the 'aip:key:' and 'aip:web:' prefixes are lowercase")
    raise AIPError(_CODE, "identifier does not start with 'aip:key:' or 'aip:web:'")


def _parse_key(text: str) -> KeyIdentifier:
    rest = text[len("aip:key:"):]
    algorithm, sep, encoded = rest.partition(":")
    if not sep:
        raise AIPError(_CODE, "aip:key identifier lacks its algorithm ('aip:key:ed25519:z...')")
    if algorithm != "ed25519":
        raise AIPError(_CODE, f"aip:key algorithm {algorithm[:32]!r} is not 'ed25519'")
    key = decode_ed25519_multibase(encoded, code=_CODE, what="aip:key key")
    return KeyIdentifier(identifier=text, public_key=key)


def _parse_web(text: str) -> WebIdentifier:
    rest = text[len("aip:web:"):]
    if rest.endswith("/"):
        raise AIPError(_CODE, "aip:web identifier ends with '/'")
    authority, _, path = rest.partition("/")
    host, sep, port_text = authority.partition("%3A")
    port: int | None = None
    if sep:
        if _PORT.fullmatch(port_text) is None or int(port_text) > 65535:
            raise AIPError(_CODE, "aip:web port is not a number 1..65535 without leading zeros")
        port = int(port_text)
    if "%" in host:
        raise AIPError(_CODE, "aip:web host has a percent-encoding other than '%3A' for a port")
    if not host or len(host) > 253:
        raise AIPError(_CODE, "aip:web host is empty or longer than 253 characters")
    labels = host.split(".")
    for label in labels:
        if _LABEL.fullmatch(label) is None:
            raise AIPError(_CODE, f"aip:web host label {label[:63]!r} is not a lowercase LDH label")
    if labels[-1].isdigit():
        raise AIPError(_CODE, "aip:web host is an IP address literal")
    segments: tuple[str, ...] = ()
    if path or rest != authority:
        segments = tuple(path.split("/"))
        for segment in segments:
            if _SEGMENT.fullmatch(segment) is None or segment in (".", ".."):
                raise AIPError(_CODE, f"aip:web path segment {segment[:64]!r} is not allowed")
    return WebIdentifier(identifier=text, host=host, port=port, path=segments)
