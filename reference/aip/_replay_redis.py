"""A replay cache shared by a fleet of verifiers, on Redis (spec/bindings.md, AIP-RPL-020..025).

* Each accepted invocation is one key, ``<prefix>jti:<sha256(holder, jti)>``, written with
  ``SET key 1 NX EXAT <expires_at + 1>``: atomic across the fleet, and Redis forgets it only
  after the proof could no longer pass the freshness check.
* ``trusted_since`` lives in Redis (``<prefix>trusted_since``), written once with ``SETNX``, so
  restarting a verifier does not reset it. If Redis loses its data (a flush, a restart without
  persistence), the key is gone with the entries it vouched for; the next verifier to look
  writes a new ``trusted_since`` (now), and the restart rule refuses every proof that could
  predate that loss.
* Any Redis failure (unreachable, timeout, a reply of the wrong type) fails closed with
  ``aip_replay_detected``: a verifier that cannot tell whether it saw a ``jti`` refuses it.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import redis

from ._errors import AIPError

__all__ = ["RedisReplayCache"]

_CODE = "aip_replay_detected"


class RedisReplayCache:
    """A :class:`~aip.ReplayCache` on Redis. ``client`` is a ``redis.Redis`` (sync) client,
    ideally created with ``socket_timeout`` and ``socket_connect_timeout`` set (see
    :meth:`from_url`).

    ``initial_trusted_since`` is used only when the store has no ``trusted_since`` yet (a
    brand-new store): an operator who knows that no verifier of this audience ever accepted a
    proof may set it in the past; by default it is the current time.
    """

    def __init__(self, client: redis.Redis, *, prefix: str = "aip:replay:",
                 initial_trusted_since: int | None = None,
                 trusted_since_refresh: float = 1.0) -> None:
        self.client = client
        self.prefix = prefix
        self._initial = initial_trusted_since
        self._refresh = trusted_since_refresh
        self._cached: tuple[float, int] | None = None

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 0.5, **kwargs: Any) -> RedisReplayCache:
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                      retry_on_timeout=False)
        return cls(client, **kwargs)

    def close(self) -> None:
        self.client.close()

    @property
    def _since_key(self) -> str:
        return self.prefix + "trusted_since"

    @property
    def trusted_since(self) -> int:
        """The store's ``trusted_since``, created with SETNX when absent (AIP-RPL-022).

        Read at most once per ``trusted_since_refresh`` seconds, so a data loss is noticed
        within that time; a failure raises ``aip_replay_detected`` (fail closed).
        """
        clock = time.monotonic()
        if self._cached is not None and clock - self._cached[0] < self._refresh:
            return self._cached[1]
        candidate = int(time.time()) if self._initial is None else self._initial
        try:
            self.client.set(self._since_key, candidate, nx=True)
            raw = self.client.get(self._since_key)
            value = int(raw) if isinstance(raw, bytes | str | int) else None
        except (redis.RedisError, OSError, ValueError):
            self._cached = None
            raise AIPError(_CODE, "replay store unreachable; cannot tell whether this is a "
                                  "replay") from None
        if value is None:
            raise AIPError(_CODE, "replay store lost trusted_since; cannot tell")
        self._cached = (clock, value)
        self._initial = None  # from now on, a missing key means Redis lost its data
        return value

    def _key(self, jti: str) -> str:
        digest = hashlib.sha256(jti.encode("utf-8", "surrogatepass")).hexdigest()
        return f"{self.prefix}jti:{digest}"

    def check_and_store(self, jti: str, expires_at: int, now: int) -> None:
        """``SET key 1 NX EXAT expires_at+1``; an existing key is a replay (AIP-RPL-021)."""
        if expires_at < now:
            return  # already outside its window; the freshness check refuses it anyway
        try:
            stored = self.client.set(self._key(jti), 1, nx=True, exat=expires_at + 1)
        except (redis.RedisError, OSError):
            raise AIPError(_CODE, "replay store unreachable; cannot tell whether this is a "
                                  "replay") from None
        if not stored:
            raise AIPError(_CODE, "invocation jti was already used")
