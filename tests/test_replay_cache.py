"""MemoryReplayCache: expiry, bounded memory that fails closed, thread safety."""

from __future__ import annotations

import threading

import pytest

from aip import AIPError, MemoryReplayCache, ReplayCache


def test_memory_cache_satisfies_the_replay_cache_protocol() -> None:
    assert isinstance(MemoryReplayCache(trusted_since=0), ReplayCache)


def test_a_seen_jti_is_refused_until_its_expiry_inclusive_then_forgotten() -> None:
    cache = MemoryReplayCache(trusted_since=0)
    cache.check_and_store("a", expires_at=100, now=10)
    with pytest.raises(AIPError) as info:
        cache.check_and_store("a", expires_at=100, now=100)
    assert info.value.code == "aip_replay_detected"
    cache.check_and_store("a", expires_at=200, now=101)


def test_a_full_cache_of_live_entries_fails_closed() -> None:
    cache = MemoryReplayCache(2, trusted_since=0)
    cache.check_and_store("a", 100, 0)
    cache.check_and_store("b", 100, 0)
    with pytest.raises(AIPError, match="full") as info:
        cache.check_and_store("c", 100, 0)
    assert info.value.code == "aip_replay_detected"
    with pytest.raises(AIPError):
        cache.check_and_store("a", 100, 1)  # the live entry was not evicted


def test_expired_entries_make_room_when_the_cache_is_full() -> None:
    cache = MemoryReplayCache(2, trusted_since=0)
    cache.check_and_store("a", 10, 0)
    cache.check_and_store("b", 100, 0)
    cache.check_and_store("c", 100, 11)
    assert len(cache) == 2


def test_memory_stays_bounded_under_churn() -> None:
    cache = MemoryReplayCache(10, trusted_since=0)
    for i in range(10_000):
        cache.check_and_store(f"j{i}", i + 1, i)
    assert len(cache) <= 10 and len(cache._heap) <= 20


def test_concurrent_presentations_of_one_jti_accept_exactly_one() -> None:
    cache = MemoryReplayCache(trusted_since=0)
    accepted: list[int] = []
    barrier = threading.Barrier(16)

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            cache.check_and_store("same", 100, 0)
            accepted.append(n)
        except AIPError:
            pass

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(accepted) == 1
