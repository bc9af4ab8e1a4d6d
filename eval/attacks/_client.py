"""Delivering attempts to an arm over MCP streamable HTTP.

Most attempts go through the real ``mcp`` SDK client (``ClientSession.call_tool``) with the
crafted credentials put on the ``tools/call`` POST by an ``httpx2.Auth``. Attempts the SDK
client cannot express (a JSON-RPC batch, repeated headers, nesting the client would refuse to
serialise) go as raw JSON-RPC over httpx, inside an MCP session initialised the same way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import httpx2
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

__all__ = ["ArmClient", "Attempt", "Outcome"]

logging.getLogger("client").setLevel(logging.ERROR)  # the mcp SDK's "tool not listed" notes

PROTOCOL = "2025-06-18"
CALL_TIMEOUT = 20.0


@dataclass
class Attempt:
    """One crafted call: what is sent, and the registry code an AIP arm must answer."""

    label: str
    expect: str
    headers: dict[str, str] = field(default_factory=dict)
    tool: str = "search"
    arguments: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] | None = None  # params._meta of the call
    prime: bool = False  # send once before the scored delivery (replays)
    raw_body: bytes | None = None  # deliver as raw JSON-RPC instead of through the SDK
    raw_headers: Sequence[tuple[str, str]] | None = None  # raw delivery: repeatable headers


@dataclass
class Outcome:
    accepted: bool
    code: str | None  # data.code of the JSON-RPC error, when there is one
    detail: str = ""


class _Inject(httpx2.Auth):
    """Puts the pending credentials on the next ``tools/call`` POST."""

    requires_request_body = True

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, Any, None]:
        if request.method == "POST" and b'"tools/call"' in (request.content or b""):
            for name, value in self.headers.items():
                request.headers[name] = value
        yield request


def _broken(outcome: Outcome) -> bool:
    return not outcome.accepted and outcome.code is None and not outcome.detail.startswith(("JSON-RPC", "tool"))


def _reply(data: bytes, content_type: str, want_id: Any) -> Any:
    if "text/event-stream" in content_type:
        for line in data.decode("utf-8", "replace").splitlines():
            if line.startswith("data:"):
                try:
                    message = json.loads(line[5:].strip())
                except ValueError:
                    continue
                if isinstance(message, dict) and message.get("id") == want_id:
                    return message
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def _outcome(status: int, body: Any) -> Outcome:
    if isinstance(body, list):  # a batch answer: accepted only if some call ran
        ok = any(isinstance(m, dict) and isinstance(m.get("result"), dict)
                 and not m["result"].get("isError") for m in body)
        codes = [m.get("error", {}).get("data", {}).get("code") for m in body
                 if isinstance(m, dict) and isinstance(m.get("error"), dict)
                 and isinstance(m["error"].get("data"), dict)]
        return Outcome(ok and status < 300, codes[0] if codes else None, f"batch HTTP {status}")
    if not isinstance(body, dict):
        return Outcome(False, None, f"HTTP {status}, no JSON-RPC answer")
    if "error" in body:
        err = body["error"] if isinstance(body["error"], dict) else {}
        data = err.get("data")
        code = data.get("code") if isinstance(data, dict) else None
        return Outcome(False, code if isinstance(code, str) else None, f"HTTP {status}")
    result = body.get("result")
    ok = isinstance(result, dict) and not result.get("isError") and status < 300
    return Outcome(ok, None, f"HTTP {status}")


class ArmClient:
    """One arm's MCP client: an SDK session in a worker task (restarted after a transport
    failure, which the SDK answers by tearing its session down) plus a raw httpx session for
    what the SDK cannot send."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._auth = _Inject()
        self._tg: Any = None
        self._inbox: MemoryObjectSendStream[tuple[Attempt, MemoryObjectSendStream[Outcome]]] | None = None
        self._raw: httpx.AsyncClient | None = None
        self._raw_session: str | None = None

    async def __aenter__(self) -> ArmClient:
        self._raw = httpx.AsyncClient(timeout=CALL_TIMEOUT)
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._inbox is not None:
            await self._inbox.aclose()
            self._inbox = None
        await self._tg.__aexit__(None, None, None)
        if self._raw is not None:
            await self._raw.aclose()

    async def _start(self) -> None:
        send, recv = anyio.create_memory_object_stream[tuple[Attempt, MemoryObjectSendStream[Outcome]]](0)
        ready = anyio.Event()
        self._tg.start_soon(self._worker, recv, ready)
        await ready.wait()
        self._inbox = send

    async def _worker(self, inbox: MemoryObjectReceiveStream[tuple[Attempt, MemoryObjectSendStream[Outcome]]],
                      ready: anyio.Event) -> None:
        try:
            async with inbox, httpx2.AsyncClient(auth=self._auth, timeout=CALL_TIMEOUT) as http, \
                    streamable_http_client(self.url, http_client=http) as (read, write), \
                    ClientSession(read, write) as session:
                await session.initialize()
                ready.set()
                async for attempt, reply in inbox:
                    async with reply:
                        outcome, broken = await self._call(session, attempt)
                        await reply.send(outcome)
                    if broken:
                        break
        except Exception:  # noqa: S110 (the SDK tore the session down; the next call restarts it)
            pass
        finally:
            ready.set()

    async def _call(self, session: ClientSession, attempt: Attempt) -> tuple[Outcome, bool]:
        self._auth.headers = dict(attempt.headers)
        try:
            with anyio.fail_after(CALL_TIMEOUT):
                result = await session.call_tool(attempt.tool, attempt.arguments,
                                                 meta=attempt.meta)  # type: ignore[arg-type]
        except MCPError as exc:
            data = exc.error.data
            code = data.get("code") if isinstance(data, dict) else None
            return Outcome(False, code if isinstance(code, str) else None, f"JSON-RPC {exc.error.code}"), False
        except Exception as exc:
            return Outcome(False, None, type(exc).__name__), True
        finally:
            self._auth.headers = {}
        return Outcome(not result.is_error, None, "tool result" + (" (isError)" if result.is_error else "")), False

    async def send(self, attempt: Attempt) -> Outcome:
        if attempt.raw_body is not None or attempt.raw_headers is not None:
            return await self._send_raw(attempt)
        for _ in range(2):
            if self._inbox is None:
                await self._start()
            assert self._inbox is not None
            reply_send, reply_recv = anyio.create_memory_object_stream[Outcome](1)
            async with reply_recv:
                try:
                    await self._inbox.send((attempt, reply_send))
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    await reply_send.aclose()
                    await self._inbox.aclose()
                    self._inbox = None
                    continue  # the worker had died before this call: restart and send again
                try:
                    outcome: Outcome = await reply_recv.receive()
                except anyio.EndOfStream:
                    outcome = Outcome(False, None, "transport failure")
            if outcome.detail not in ("transport failure",) and not _broken(outcome):
                return outcome
            await self._inbox.aclose()
            self._inbox = None
            return outcome
        return Outcome(False, None, "could not open an MCP session")

    def _base_headers(self) -> list[tuple[str, str]]:
        out = [("accept", "application/json, text/event-stream"), ("content-type", "application/json"),
               ("mcp-protocol-version", PROTOCOL)]
        if self._raw_session:
            out.append(("mcp-session-id", self._raw_session))
        return out

    async def _raw_init(self) -> None:
        assert self._raw is not None
        init = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": PROTOCOL, "capabilities": {},
            "clientInfo": {"name": "aip-eval-raw", "version": "1"}}}
        r = await self._raw.post(self.url, headers=self._base_headers(), content=json.dumps(init))
        self._raw_session = r.headers.get("mcp-session-id")
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        await self._raw.post(self.url, headers=self._base_headers(), content=json.dumps(note))

    async def _send_raw(self, attempt: Attempt) -> Outcome:
        assert self._raw is not None
        if self._raw_session is None:
            await self._raw_init()
        body = attempt.raw_body
        rid: Any = 7
        if body is None:
            params: dict[str, Any] = {"name": attempt.tool, "arguments": attempt.arguments}
            if attempt.meta:
                params["_meta"] = attempt.meta
            body = json.dumps({"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}).encode()
        headers = [*self._base_headers(), *(attempt.raw_headers or attempt.headers.items())]
        try:
            r = await self._raw.post(self.url, headers=headers, content=body)
        except httpx.HTTPError as exc:
            return Outcome(False, None, type(exc).__name__)
        return _outcome(r.status_code, _reply(r.content, r.headers.get("content-type", ""), rid))


def header_items(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    return list(headers.items())
