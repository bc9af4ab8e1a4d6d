"""The scope grammar shared by compact and chained mode (spec/compact.md, AIP-SCOPE-*).

A scope names what a token lets its holder invoke. Grammar (ABNF, RFC 5234)::

    scope    = any / prefix / exact
    any      = "*"                              ; every operation
    prefix   = 1*( segment ":" ) "*"            ; e.g. "tool:*", "tool:fs:*"
    exact    = segment *( ":" segment )         ; e.g. "tool:search", "tool:fs:read"
    segment  = 1*( ALPHA / DIGIT / "_" / "-" / "." / "/" )

A scope string is at most :data:`MAX_SCOPE_LENGTH` characters; a scope list is a non-empty
array of at most :data:`MAX_SCOPES` distinct scope strings. Matching is exact and
case-sensitive, character by character (no Unicode normalisation, no case folding).

* ``*`` grants every request.
* A prefix scope ``P*`` (``P`` ends with ``:``) grants every exact scope that starts with
  ``P``: ``tool:*`` grants ``tool:search`` and ``tool:fs:read`` but not ``tools:x`` or
  ``tool`` itself.
* An exact scope grants only itself.

An MCP ``tools/call`` of the tool ``name`` needs the exact scope ``tool:<name>``
(:func:`tool_scope`); the tool name must be an ``exact`` production.

Attenuation (:func:`scopes_within`): a scope set B is within A when every member of B is
granted by A, where a prefix or ``*`` member of B counts as granted only when A grants every
scope it could match (``tool:fs:*`` is within ``tool:*``; ``tool:*`` is not within
``tool:fs:*``; ``*`` is only within ``*``).

Every function here is pure; the parse functions raise :class:`~aip.AIPError` with the
caller's error code (``aip_token_malformed`` for a token claim, ``aip_chain_invalid`` or
similar for a chained block), so each mode reports the defect in its own terms.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from ._errors import AIPError

__all__ = [
    "ANY_SCOPE",
    "MAX_SCOPES",
    "MAX_SCOPE_LENGTH",
    "Scope",
    "check_scopes",
    "parse_scope",
    "require_scope",
    "scope_allows",
    "scopes_within",
    "tool_scope",
]

ANY_SCOPE = "*"
MAX_SCOPE_LENGTH = 256
MAX_SCOPES = 64

_SEGMENT = r"[A-Za-z0-9_\-./]+"
_EXACT = re.compile(rf"{_SEGMENT}(?::{_SEGMENT})*")
_PREFIX = re.compile(rf"(?:{_SEGMENT}:)+\*")


@dataclass(frozen=True, slots=True)
class Scope:
    """A parsed scope: ``kind`` is ``any``, ``prefix`` (``value`` is the prefix without
    the ``*``, ending in ``:``) or ``exact`` (``value`` is the whole scope)."""

    kind: Literal["any", "prefix", "exact"]
    value: str

    def __str__(self) -> str:
        return "*" if self.kind == "any" else self.value + ("*" if self.kind == "prefix" else "")

    def grants(self, required: str) -> bool:
        """True when this scope grants the exact scope ``required``."""
        if self.kind == "any":
            return True
        if self.kind == "prefix":
            return required.startswith(self.value)
        return required == self.value

    def covers(self, other: Scope) -> bool:
        """True when this scope grants everything ``other`` grants (attenuation order)."""
        if self.kind == "any":
            return True
        if other.kind == "any":
            return False
        if self.kind == "prefix":
            return other.value.startswith(self.value)
        return other.kind == "exact" and other.value == self.value


def parse_scope(text: object, *, code: str = "aip_token_malformed", what: str = "scope") -> Scope:
    """Parse one scope string (AIP-SCOPE-001..003), raising ``code`` when it is not one."""
    if not isinstance(text, str):
        raise AIPError(code, f"{what} is not a string")
    if not 1 <= len(text) <= MAX_SCOPE_LENGTH:
        raise AIPError(code, f"{what} is not 1..{MAX_SCOPE_LENGTH} characters")
    scope = _classify(str(text))
    if scope is None:
        raise AIPError(code, f"{what} {text[:64]!r} does not match the scope grammar")
    return scope


@functools.lru_cache(maxsize=1024)
def _classify(text: str) -> Scope | None:
    """The parsed scope, or None off the grammar (pure, so memoised: verifiers parse the
    same few scopes on every request)."""
    if text == ANY_SCOPE:
        return Scope("any", "")
    if _EXACT.fullmatch(text) is not None:
        return Scope("exact", text)
    if _PREFIX.fullmatch(text) is not None:
        return Scope("prefix", text[:-1])
    return None


def check_scopes(
    value: object, *, code: str = "aip_token_malformed", what: str = "scope"
) -> tuple[str, ...]:
    """Validate a scope list (AIP-SCOPE-004): a non-empty array of at most
    :data:`MAX_SCOPES` distinct valid scope strings. Returns it as a tuple."""
    if not isinstance(value, list):
        raise AIPError(code, f"{what} is not an array of scope strings")
    if not value:
        raise AIPError(code, f"{what} is empty")
    if len(value) > MAX_SCOPES:
        raise AIPError(code, f"{what} has {len(value)} entries, limit {MAX_SCOPES}")
    for index, item in enumerate(value):
        parse_scope(item, code=code, what=f"{what}[{index}]")
    if len(set(value)) != len(value):
        raise AIPError(code, f"{what} lists a scope twice")
    return tuple(value)


def tool_scope(tool: object, *, code: str = "aip_input_invalid") -> str:
    """The exact scope an invocation of the tool ``tool`` needs: ``tool:<name>``."""
    if not isinstance(tool, str) or len(tool) > MAX_SCOPE_LENGTH - 5 or _EXACT.fullmatch(tool) is None:
        shown = tool[:64] if isinstance(tool, str) else type(tool).__name__
        raise AIPError(code, f"tool name {shown!r} is not a valid scope name")
    return "tool:" + tool


def scope_allows(granted: Iterable[str], required: str) -> bool:
    """True when the scope list ``granted`` grants the exact scope ``required``
    (AIP-SCOPE-005). ``granted`` must already be valid (see :func:`check_scopes`)."""
    for item in granted:
        if item == required or item == ANY_SCOPE:
            return True
        if item.endswith("*") and required.startswith(item[:-1]):
            return True
    return False


def require_scope(granted: Sequence[str], required: str) -> None:
    """Raise ``aip_scope_insufficient`` unless ``granted`` grants ``required``."""
    if not scope_allows(granted, required):
        raise AIPError("aip_scope_insufficient", f"{required[:80]!r} is not within the granted scopes")


def scopes_within(narrower: Iterable[str], wider: Iterable[str]) -> bool:
    """True when every scope of ``narrower`` is covered by some scope of ``wider``
    (AIP-SCOPE-006, attenuation). Both lists must already be valid."""
    parsed_wider = [parse_scope(s) for s in wider]
    for item in narrower:
        scope = parse_scope(item)
        if not any(w.covers(scope) for w in parsed_wider):
            return False
    return True
