"""Completion records over plain HTTP (spec/bindings.md, AIP-HTTP-050..058): the
``AIP-Completion`` response header, the status mapping, and the ASGI ``send`` wrapper that
buffers a verified request's response (bounded) so that its record can be signed over the
response as sent.

Private: :mod:`aip.bindings.http` is the public face.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping

from .._errors import AIPError
from ._asgi import Message, Send

__all__ = [
    "HEADER_COMPLETION",
    "MAX_COMPLETION_HEADER_BYTES",
    "MAX_RESPONSE_BYTES",
    "CompletionSender",
    "completion_header_value",
    "http_completion_status",
    "parse_completion_header",
]

HEADER_COMPLETION = "aip-completion"
MAX_COMPLETION_HEADER_BYTES = 24576  # AIP-HTTP-056: a 16384-octet token plus a receipt's 8192
MAX_RESPONSE_BYTES = 1024 * 1024  # AIP-HTTP-055: the reference's bound on a buffered response
_MEMBERS = ("receipt", "token")
_VALUE = re.compile(r"[A-Za-z0-9_.-]+")
_CMP = "aip_completion_invalid"

Signer = Callable[[int, str, bytes], Awaitable[str | None]]
"""``(status, content_type, body) -> header value`` (None: the response goes without a record)."""


def completion_header_value(record: Mapping[str, str]) -> str:
    """The ``AIP-Completion`` value of a record object (AIP-HTTP-052): ``receipt=<JWS>`` or
    ``token=<completed chain>``."""
    if len(record) != 1:
        raise AIPError(_CMP, "a completion record has exactly one member")
    ((member, value),) = record.items()
    if member not in _MEMBERS or not isinstance(value, str) or not _VALUE.fullmatch(value):
        raise AIPError(_CMP, "a completion record is a receipt or a completed chain")
    return f"{member}={value}"


def parse_completion_header(values: Iterable[str]) -> dict[str, str] | None:
    """The record object (``{"receipt": ...}`` or ``{"token": ...}``) of a response's
    ``AIP-Completion`` header values, None when there is none (AIP-HTTP-058): a repeated or
    malformed header is ``aip_completion_invalid``, one over 24576 octets ``aip_limit_exceeded``.
    """
    found = list(values)
    if not found:
        return None
    if len(found) > 1:
        raise AIPError(_CMP, "the AIP-Completion header is repeated")
    raw = found[0]
    if len(raw.encode("utf-8", "replace")) > MAX_COMPLETION_HEADER_BYTES:
        raise AIPError("aip_limit_exceeded",
                       f"AIP-Completion is over {MAX_COMPLETION_HEADER_BYTES} octets")
    member, sep, value = raw.strip(" \t").partition("=")
    if not sep or member not in _MEMBERS or not _VALUE.fullmatch(value):
        raise AIPError(_CMP, "AIP-Completion is not receipt=<receipt> or token=<completed chain>")
    return {member: value}


def http_completion_status(status: int, reported: str | None) -> str:
    """The record's status for an HTTP response (AIP-HTTP-054): ``failed`` for 400..599,
    otherwise ``completed``, or ``partial`` when the application reported it. A ``failed`` or
    ``completed`` report does not override the response status."""
    if status >= 400:
        return "failed"
    return "partial" if reported == "partial" else "completed"


def _strip(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The response headers without any ``AIP-Completion`` the application set: the middleware
    that signs records owns that header (AIP-HTTP-050)."""
    return [(k, v) for k, v in headers if k.lower() != HEADER_COMPLETION.encode()]


def _hashable(headers: list[tuple[bytes, bytes]]) -> tuple[bool, str]:
    """Whether the body can be hashed as sent (no content coding the middleware would have to
    remove; AIP-HTTP-055), and the Content-Type exactly as sent ("" when absent)."""
    types = [v for k, v in headers if k.lower() == b"content-type"]
    codings = [v for k, v in headers if k.lower() == b"content-encoding"]
    if len(types) > 1 or any(c.strip().lower() not in (b"", b"identity") for c in codings):
        return False, ""
    return True, types[0].decode("latin-1") if types else ""


class CompletionSender:
    """Wraps an ASGI ``send``: holds back the response start and body up to ``limit`` octets;
    when the body is complete within the bound it asks ``sign`` for the record and sends the
    response with an ``AIP-Completion`` header; otherwise (a longer or streamed-out body, a
    content coding, an unknown message) it lets the response through untouched, without one."""

    def __init__(self, send: Send, sign: Signer, *, limit: int, head: bool) -> None:
        self._send = send
        self._sign = sign
        self._limit = limit
        self._head = head
        self._start: Message | None = None
        self._chunks: list[bytes] = []
        self._size = 0
        self._through = False
        self.signed = False

    async def _flush(self, more: bool) -> None:
        """Send what is held back, without a record, and pass everything after it through."""
        self._through = True
        if self._start is not None:
            await self._send(self._start)
            self._start = None
        if self._chunks:
            await self._send({"type": "http.response.body", "body": b"".join(self._chunks),
                              "more_body": more})
            self._chunks = []

    async def __call__(self, message: Message) -> None:
        if self._through:
            await self._send(message)
            return
        kind = message.get("type")
        if kind == "http.response.start" and self._start is None:
            headers = _strip(message.get("headers", ()))
            start: Message = {**message, "headers": headers}
            self._start = start
            if not _hashable(headers)[0]:
                await self._flush(True)
            return
        if kind != "http.response.body" or self._start is None:
            await self._flush(True)
            await self._send(message)
            return
        chunk = bytes(message.get("body", b""))
        more = bool(message.get("more_body", False))
        self._size += len(chunk)
        if self._size > self._limit:
            await self._flush(True)
            await self._send(message)
            return
        self._chunks.append(chunk)
        if more:
            return
        await self._finish_signed()

    async def _finish_signed(self) -> None:
        start = self._start
        assert start is not None
        body = b"".join(self._chunks)
        headers = list(start["headers"])
        _, content_type = _hashable(headers)
        status = int(start.get("status", 200))
        value = await self._sign(status, content_type, b"" if self._head else body)
        if value is not None:
            headers.append((HEADER_COMPLETION.encode(), value.encode("ascii")))
            self.signed = True
        self._start, self._chunks, self._through = None, [], True
        await self._send({**start, "headers": headers})
        await self._send({"type": "http.response.body", "body": body, "more_body": False})

    async def close(self) -> None:
        """After the application returned: send anything still held back (an application that
        never finished its body gets no record)."""
        if not self._through and (self._start is not None or self._chunks):
            await self._flush(False)
