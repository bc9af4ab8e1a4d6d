"""Plumbing shared by the reference harness operations: the case object and the registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._errors import AIPError
from ._resolver import Resolver, TrustStore
from ._time import DEFAULT_SKEW, MAX_SKEW

__all__ = ["OPERATIONS", "PROFILES", "Case", "operation"]

Handler = Callable[["Case"], dict[str, Any]]
OPERATIONS: dict[str, Handler] = {}
PROFILES: set[str] = set()


@dataclass(slots=True)
class Case:
    """One ``run`` request: operation, inputs, fixed clock and trust setup."""

    id: str
    operation: str
    now: int
    input: dict[str, Any]
    trust: dict[str, Any] = field(default_factory=dict)

    @property
    def skew(self) -> int:
        skew = self.trust.get("skew", DEFAULT_SKEW)
        if not isinstance(skew, int):
            return DEFAULT_SKEW
        if isinstance(skew, bool) or not 0 <= skew <= MAX_SKEW:  # found by fuzzing
            raise AIPError("aip_input_invalid", f"trust.skew is not 0..{MAX_SKEW}")
        return skew

    def resolver(self) -> Resolver:
        """A resolver with only the case's pinned documents; never the network."""
        documents = self.trust.get("documents") or {}
        issuers = self.trust.get("trusted_issuers") or []
        if not isinstance(documents, dict) or not isinstance(issuers, list) or not all(
                isinstance(i, str) for i in issuers):  # found by fuzzing
            raise AIPError("aip_input_invalid", "trust.documents or trust.trusted_issuers "
                           "has the wrong type")
        return Resolver(TrustStore(documents, list(issuers)), network=False, skew=self.skew)


def operation(name: str, *, profile: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        OPERATIONS[name] = handler
        PROFILES.add(profile)
        return handler

    return register
