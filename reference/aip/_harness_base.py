"""Plumbing shared by the reference harness operations: the case object and the registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._resolver import Resolver, TrustStore
from ._time import DEFAULT_SKEW

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
        return skew if isinstance(skew, int) else DEFAULT_SKEW

    def resolver(self) -> Resolver:
        """A resolver with only the case's pinned documents; never the network."""
        store = TrustStore(self.trust.get("documents") or {},
                           list(self.trust.get("trusted_issuers") or []))
        return Resolver(store, network=False, skew=self.skew)


def operation(name: str, *, profile: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        OPERATIONS[name] = handler
        PROFILES.add(profile)
        return handler

    return register
