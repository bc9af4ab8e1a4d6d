"""Replay protection for invocation proofs (spec/compact.md, AIP-RPL-*).

A verifier remembers every accepted invocation ``jti`` until the proof carrying it could no
longer pass the freshness check, and refuses a ``jti`` it remembers. Chained mode uses the same
cache for its invocation blocks.

* :class:`ReplayCache` is the interface; a shared store (e.g. Redis ``SET key NX EXAT``) can
  implement it for a fleet of verifiers.
* :class:`MemoryReplayCache` is the thread-safe in-process default. Its memory is bounded: when
  it is full of entries that are still live it fails **closed** (``aip_replay_detected``,
  "replay cache full") rather than evict an entry that still protects against a replay.
* :func:`check_replay` applies the restart rule (AIP-RPL-005) before the cache: a cache only
  remembers what it saw since ``trusted_since``; a proof whose ``iat`` is earlier than
  ``trusted_since + skew`` may have been accepted before the verifier forgot, so it is refused.
"""

from __future__ import annotations

import heapq
import threading
import time
from typing import Protocol, runtime_checkable

from ._errors import AIPError

__all__ = [
    "DEFAULT_REPLAY_ENTRIES",
    "MemoryReplayCache",
    "ReplayCache",
    "check_replay",
    "replay_key",
]

DEFAULT_REPLAY_ENTRIES = 100_000
_CODE = "aip_replay_detected"


@runtime_checkable
class ReplayCache(Protocol):
    """What a verifier needs from a replay store.

    ``trusted_since`` is the Unix time since which the store has remembered every ``jti`` it
    was given (its creation time for an in-memory cache; the store's first start for a
    persistent one).
    """

    @property
    def trusted_since(self) -> int: ...

    def check_and_store(self, jti: str, expires_at: int, now: int) -> None:
        """Atomically: raise ``AIPError("aip_replay_detected")`` if ``jti`` is remembered and
        not expired at ``now``; otherwise remember it until ``expires_at`` (inclusive)."""
        ...


class MemoryReplayCache:
    """Thread-safe in-memory :class:`ReplayCache` holding at most ``max_entries`` entries.

    An entry is live while ``now <= expires_at``. Expired entries are purged when room is
    needed; if every entry is live the cache refuses the new ``jti`` (fail closed).
    """

    def __init__(self, max_entries: int = DEFAULT_REPLAY_ENTRIES, *,
                 trusted_since: int | None = None) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._trusted_since = int(time.time()) if trusted_since is None else trusted_since
        self._entries: dict[str, int] = {}
        self._heap: list[tuple[int, str]] = []
        self._lock = threading.Lock()

    @property
    def trusted_since(self) -> int:
        return self._trusted_since

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def check_and_store(self, jti: str, expires_at: int, now: int) -> None:
        with self._lock:
            seen = self._entries.get(jti)
            if seen is not None and now <= seen:
                raise AIPError(_CODE, "invocation jti was already used")
            if seen is None and len(self._entries) >= self.max_entries:
                self._purge(now)
                if len(self._entries) >= self.max_entries:
                    raise AIPError(_CODE, "replay cache full; cannot tell whether this is a replay")
            self._entries[jti] = expires_at
            heapq.heappush(self._heap, (expires_at, jti))
            if len(self._heap) > 2 * self.max_entries:
                self._compact()

    def _purge(self, now: int) -> None:
        while self._heap and self._heap[0][0] < now:
            expires_at, jti = heapq.heappop(self._heap)
            if self._entries.get(jti) == expires_at:
                del self._entries[jti]

    def _compact(self) -> None:
        # Stale heap items (overwritten entries) are dropped so the heap stays bounded too.
        self._heap = [(e, j) for j, e in self._entries.items()]
        heapq.heapify(self._heap)


def replay_key(holder: str, jti: str) -> str:
    """The cache key of an invocation: ``jti`` is unique per holder (AIP-RPL-002), so one
    holder cannot burn another holder's ``jti`` values."""
    return f"{holder}\n{jti}"


def check_replay(cache: ReplayCache, *, holder: str, jti: str, issued_at: int,
                 expires_at: int, now: int, skew: int) -> None:
    """Apply the restart rule, then record the invocation (raising ``aip_replay_detected``)."""
    if issued_at < cache.trusted_since + skew:
        raise AIPError(_CODE, "proof may predate the verifier's replay memory (restart rule)")
    cache.check_and_store(replay_key(holder, jti), expires_at, now)
