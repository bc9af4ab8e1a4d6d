"""A minimal, bounded reader of the Biscuit v3 protobuf envelope (spec/chained.md, AIP-CHN-005..007).

biscuit-python verifies a token only against a root key given in advance, and AIP takes that
key from the identity that block 0 *claims* (never from the token itself). So before
verification the verifier needs two strings out of the authority block: the claimed
``identity`` and ``kid``. This module reads them from the protobuf wire format (the schema
of ``schema.proto`` in the Biscuit specification), not from printed Datalog. What it returns
is a *hint*: after the signature chain verifies under the key so selected, the same fact is
read again through an authorizer query and must be identical.

It also reports the envelope's shape (the number of blocks) so that malformed input is told
apart from a bad signature. Which blocks are third-party blocks is read from biscuit-python
after verification.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._errors import AIPError

__all__ = ["Envelope", "read_envelope"]

_MALFORMED = "aip_token_malformed"
# Biscuit v3 default symbol table (symbols 0..27); block symbols start at 1024.
_DEFAULT_SYMBOLS = (
    "read", "write", "resource", "operation", "right", "time", "role", "owner", "tenant",
    "namespace", "user", "team", "service", "admin", "email", "group", "member",
    "ip_address", "client", "client_ip", "domain", "path", "version", "cluster", "node",
    "hostname", "nonce", "query",
)
_OFFSET = 1024


@dataclass(frozen=True, slots=True)
class Envelope:
    """What can be read from a Biscuit token before any signature is checked."""

    block_count: int
    authority_facts: tuple[tuple[str, tuple[object, ...]], ...]  # (name, simple terms)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise AIPError(_MALFORMED, "truncated or overlong protobuf varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int, int | bytes | None]]:
    """Decode one protobuf message level into (field number, wire type, value).

    One-byte varints (every key and most lengths) are read inline; longer ones go through
    :func:`_varint`, which also reports truncation."""
    out: list[tuple[int, int, int | bytes | None]] = []
    append = out.append
    pos = 0
    end = len(data)
    while pos < end:
        key = data[pos]
        if key < 0x80:
            pos += 1
        else:
            key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise AIPError(_MALFORMED, "protobuf field number 0")
        if wire == 0:
            if pos < end and data[pos] < 0x80:
                append((number, wire, data[pos]))
                pos += 1
            else:
                value, pos = _varint(data, pos)
                append((number, wire, value))
        elif wire == 2:
            if pos < end and data[pos] < 0x80:
                length = data[pos]
                pos += 1
            else:
                length, pos = _varint(data, pos)
            if pos + length > end:
                raise AIPError(_MALFORMED, "protobuf length runs past the end")
            append((number, wire, data[pos:pos + length]))
            pos += length
        elif wire == 1 or wire == 5:
            # The Biscuit schema has no fixed-width field: such a field is skipped when unknown,
            # and its value is None so that a schema field sent with it fails :func:`_bytes`.
            size = 8 if wire == 1 else 4
            if pos + size > end:
                raise AIPError(_MALFORMED, "truncated protobuf fixed-width value")
            append((number, wire, None))
            pos += size
        else:
            raise AIPError(_MALFORMED, f"protobuf wire type {wire} is not allowed")
    return out


def _bytes(value: int | bytes | None, what: str) -> bytes:
    if not isinstance(value, bytes):
        raise AIPError(_MALFORMED, f"{what} has the wrong protobuf wire type")
    return value


def _signed_block(raw: bytes, what: str) -> tuple[bytes, bool]:
    block: bytes | None = None
    signature = next_key = False
    external = False
    for number, _, value in _fields(raw):
        if number == 1:
            block = _bytes(value, f"{what}.block")
        elif number == 2:
            _bytes(value, f"{what}.nextKey")
            next_key = True
        elif number == 3:
            _bytes(value, f"{what}.signature")
            signature = True
        elif number == 4:
            _bytes(value, f"{what}.externalSignature")
            external = True
    if block is None or not signature or not next_key:
        raise AIPError(_MALFORMED, f"{what} lacks its block, next key or signature")
    return block, external


def _symbol(index: int, symbols: list[str]) -> str:
    if index < len(_DEFAULT_SYMBOLS):
        return _DEFAULT_SYMBOLS[index]
    if _OFFSET <= index < _OFFSET + len(symbols):
        return symbols[index - _OFFSET]
    raise AIPError(_MALFORMED, f"symbol {index} is not defined")


def _authority_facts(block: bytes) -> tuple[tuple[str, tuple[object, ...]], ...]:
    fields = _fields(block)
    symbols: list[str] = []
    for number, _, value in fields:
        if number == 1:
            try:
                symbols.append(_bytes(value, "symbol").decode("utf-8"))
            except UnicodeDecodeError:
                raise AIPError(_MALFORMED, "a block symbol is not UTF-8") from None
    facts: list[tuple[str, tuple[object, ...]]] = []
    for number, _, value in fields:
        if number != 4:  # facts_v2
            continue
        predicate = next((v for n, _, v in _fields(_bytes(value, "fact")) if n == 1), None)
        if predicate is None:
            raise AIPError(_MALFORMED, "a fact has no predicate")
        name: str | None = None
        terms: list[object] = []
        for n, wire, v in _fields(_bytes(predicate, "predicate")):
            if n == 1 and wire == 0 and isinstance(v, int):
                name = _symbol(v, symbols)
            elif n == 2:
                terms.append(_term(_bytes(v, "term"), symbols))
        if name is None:
            raise AIPError(_MALFORMED, "a predicate has no name")
        facts.append((name, tuple(terms)))
    return tuple(facts)


def _term(raw: bytes, symbols: list[str]) -> object:
    fields = _fields(raw)
    if len(fields) != 1:
        return None
    number, wire, value = fields[0]
    if number == 3 and wire == 0 and isinstance(value, int):  # string (symbol index)
        return _symbol(value, symbols)
    if number == 2 and wire == 0 and isinstance(value, int):  # integer (int64)
        return value - (1 << 64) if value >= 1 << 63 else value
    return None  # other term kinds are not needed before verification


def read_envelope(data: bytes, *, max_blocks: int) -> Envelope:
    """Read the envelope of ``data`` (raw Biscuit bytes); ``aip_token_malformed`` on a defect,
    ``aip_limit_exceeded`` when it has more than ``max_blocks`` blocks (counted whatever the
    order of the fields). The ``root_key_id`` field is ignored (AIP-CHN-011)."""
    authority: bytes | None = None
    count = 0
    proof = False
    for number, _, value in _fields(data):
        if number == 2:
            if authority is not None:
                raise AIPError(_MALFORMED, "two authority blocks")
            authority, external = _signed_block(_bytes(value, "authority"), "authority")
            if external:
                raise AIPError(_MALFORMED, "the authority block carries an external signature")
            count += 1
        elif number == 3:
            _bytes(value, "block")
            count += 1
        elif number == 4:
            _bytes(value, "proof")
            proof = True
    if count > max_blocks:
        raise AIPError("aip_limit_exceeded", f"token has more than {max_blocks} blocks")
    if authority is None or not proof:
        raise AIPError(_MALFORMED, "not a Biscuit token (no authority block or proof)")
    return Envelope(count, _authority_facts(authority))
