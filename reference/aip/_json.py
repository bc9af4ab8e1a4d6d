"""Strict JSON decoding for bytes that come from the network.

Python's ``json`` silently keeps the last of duplicate member names, accepts ``NaN`` and
``Infinity``, and has no size or depth bound. AIP rejects all of these; this module is the one
place that decodes untrusted JSON.
"""

from __future__ import annotations

import json
from typing import Any

from ._errors import AIPError

__all__ = ["MAX_DEPTH", "loads_strict"]

MAX_DEPTH = 32
_CONTAINERS = (dict, list)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} is not JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):  # the slow search runs only when there is a duplicate
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate member name {key!r}")
            seen.add(key)
    return out


# One decoder for the process: building a JSONDecoder per call costs as much as a small parse.
_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)


def _depth(value: Any, limit: int) -> int:
    """Nesting depth as the spec defines it: 0 for a scalar, 1 + the deepest element for an
    array or object. Iterative, so hostile nesting cannot exhaust the Python stack."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, _CONTAINERS) else []
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return depth
        deepest = max(deepest, depth)
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, _CONTAINERS))
    return deepest


def loads_strict(
    data: bytes | str,
    *,
    code: str,
    what: str,
    max_bytes: int,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """Decode ``data`` as UTF-8 JSON, raising :class:`AIPError` with ``code`` on any defect.

    Rejects: input over ``max_bytes``, invalid UTF-8, a byte order mark, duplicate member
    names, ``NaN``/``Infinity``, and nesting deeper than ``max_depth``.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        raise AIPError("aip_limit_exceeded", f"{what} is {len(raw)} bytes, limit {max_bytes}")
    if raw.startswith(b"\xef\xbb\xbf"):
        raise AIPError(code, f"{what} starts with a byte order mark")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise AIPError(code, f"{what} is not valid UTF-8") from None
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise AIPError("aip_limit_exceeded", f"{what} nests too deeply") from None
    except ValueError as exc:
        raise AIPError(code, f"{what} is not valid JSON ({_short(exc)})") from None
    # Size is already bounded, so the parser's own recursion guard bounds the work; the
    # nesting limit is then checked on the decoded value without recursion.
    # Depth cannot exceed the number of opening brackets (a C-speed count); walk only when
    # it could.
    if raw.count(b"[") + raw.count(b"{") > max_depth and _depth(value, max_depth) > max_depth:
        raise AIPError("aip_limit_exceeded", f"{what} nests deeper than {max_depth} levels")
    return value


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]
