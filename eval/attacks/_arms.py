"""The five arms: MCP servers on loopback (the real ``mcp`` SDK, uvicorn) that differ only in
what guards ``tools/call``.

* ``none``     no authentication at all;
* ``jwt``      a plain JWT bearer check, the way it is usually done: pyjwt with the issuer's
               public key, ``algorithms=["EdDSA"]``, ``exp`` and ``aud`` verified;
* ``draft01``  what the earlier draft's SDK did: signatures under any trusted root key (no
               binding of the root key to the identity the token names), scope (compact
               ``scope`` claim, chained Datalog checks), expiry, depth counted as "blocks
               minus one", a non-empty context read from printed Datalog; plain appended
               blocks accepted; no invocation binding, no audience, no replay cache;
* ``compact``  the AIP reference binding accepting compact tokens;
* ``chained``  the AIP reference binding accepting chained tokens (with a revocation list).

Every arm answers a refusal as a JSON-RPC error (``data.code`` carries the AIP code for the
AIP arms), so they are told apart only by what they accept.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import biscuit_auth
import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from mcp import types
from mcp.server.lowlevel.server import Server

from aip import Resolver, RevocationPolicy, TrustStore, verify_revocation_list
from aip._replay import MemoryReplayCache, ReplayCache
from aip.bindings import BindingVerifier
from aip.bindings.mcp import streamable_http_app
from aip_conformance.generators._common import public_raw

from ._world import World

__all__ = ["ARMS", "ARM_MODES", "ARM_TITLES", "Loopback", "arm_apps", "tool_server"]

_B: Any = biscuit_auth
ARMS = ("none", "jwt", "draft01", "compact", "chained")
ARM_TITLES = {
    "none": "(a) no authentication",
    "jwt": "(b) plain JWT bearer (pyjwt: signature, exp, aud)",
    "draft01": "(c) draft-01 SDK (signatures and scope only)",
    "compact": "(d) AIP compact",
    "chained": "(e) AIP chained",
}
ARM_MODES: dict[str, frozenset[str]] = {
    "none": frozenset({"compact", "chained"}),
    "jwt": frozenset({"compact"}),
    "draft01": frozenset({"compact", "chained"}),
    "compact": frozenset({"compact"}),
    "chained": frozenset({"chained"}),
}
Check = Callable[[dict[str, str], Mapping[str, Any]], str | None]


def tool_server(name: str) -> Server[Any]:
    """An MCP server whose every tool succeeds: any call that reaches it was accepted."""
    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[types.Tool(name="search", input_schema={"type": "object"})])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        return types.CallToolResult(content=[types.TextContent(type="text", text=f"ran {params.name}")])

    return Server(name, on_list_tools=list_tools, on_call_tool=call_tool)


# --- guards for the baseline arms -------------------------------------------------------------

def _guarded(inner: Any, check: Check) -> Any:
    """ASGI: run ``check(headers, params)`` on every ``tools/call`` POST; refuse on a reason."""
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await inner(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            request = json.loads(body or b"null")
        except ValueError:
            request = None
        if isinstance(request, dict) and request.get("method") == "tools/call":
            headers: dict[str, str] = {}
            for k, v in scope["headers"]:
                headers[k.decode("latin-1").lower()] = v.decode("latin-1")
            params = request.get("params")
            try:
                reason = check(headers, params if isinstance(params, dict) else {})
            except Exception as exc:  # a baseline that crashes refuses
                reason = type(exc).__name__
            if reason is not None:
                out = json.dumps({"jsonrpc": "2.0", "id": request.get("id"), "error": {
                    "code": -32001, "message": reason[:200], "data": {"code": "refused"}}}).encode()
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": out})
                return
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await inner(scope, replay, send)

    return app


def _bearer(headers: Mapping[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    scheme, _, rest = auth.partition(" ")
    if scheme.lower() in ("aip", "bearer") and rest.strip():
        return rest.strip()
    return headers.get("x-aip-token") or None


def _tool_granted(scopes: Any, tool: str) -> bool:
    if not isinstance(scopes, list):
        return False
    want = f"tool:{tool}"
    return any(s == want or s == "*" or (isinstance(s, str) and s.endswith(":*") and want.startswith(s[:-1]))
               for s in scopes)


def jwt_check(world: World) -> Check:
    key = Ed25519PublicKey.from_public_bytes(public_raw(world.A.key))

    def check(headers: dict[str, str], params: Mapping[str, Any]) -> str | None:
        token = _bearer(headers)
        if token is None:
            return "no bearer token"
        try:
            jwt.decode(token, key, algorithms=["EdDSA"], audience=world.audience,
                       options={"require": ["exp", "aud"]})
        except jwt.PyJWTError as exc:
            return f"jwt: {type(exc).__name__}"
        return None

    return check


_CONTEXT = re.compile(r'aip_delegation\(\d+, "[^"]*", "[^"]*", "[^"]*", "([^"]*)"')


def draft01_check(world: World) -> Check:
    roots = [public_raw(k) for k in (world.A.key, world.B.key, world.W1, world.W2)]

    def compact(token: str, tool: str) -> str | None:
        for raw in roots:
            try:
                claims = jwt.decode(token, Ed25519PublicKey.from_public_bytes(raw),
                                    algorithms=["EdDSA"], options={"verify_aud": False})
            except jwt.PyJWTError:
                continue
            return None if _tool_granted(claims.get("scope"), tool) else "scope"
        return "signature"

    def chained(token: str, tool: str) -> str | None:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        biscuit = None
        for raw in roots:
            try:
                biscuit = _B.Biscuit.from_bytes(data, _B.PublicKey.from_bytes(raw, _B.Algorithm.Ed25519))
                break
            except Exception:  # noqa: S112 (try the next trusted root)
                continue
        if biscuit is None:
            return "signature"
        now = _dt.datetime.fromtimestamp(int(time.time()), tz=_dt.UTC)
        builder = _B.AuthorizerBuilder("time({t}); tool({tool}); allow if true;",
                                       {"t": now, "tool": f"tool:{tool}"})
        # The AIP arms' run limit (ChainLimits.max_time_ms), not biscuit-python's default 1 ms:
        # on a busy machine that default refuses honest chains at random, which would count as
        # rejections this arm did not earn.
        limits = builder.limits()
        limits.max_time = _dt.timedelta(milliseconds=50)
        builder.set_limits(limits)
        authorizer = builder.build(biscuit)
        authorizer.authorize()
        rows = authorizer.query(_B.Rule("d($d) <- aip_authority($a, $b, $c, $e, $d, $f, $g, $h)"))
        max_depth = rows[0].terms[0] if rows else 3
        if biscuit.block_count() - 1 > max_depth:  # draft-01: depth = blocks - 1
            return "depth"
        for i in range(1, biscuit.block_count()):
            for context in _CONTEXT.findall(biscuit.block_source(i)):
                if not context.strip():
                    return "context"
        return None

    def check(headers: dict[str, str], params: Mapping[str, Any]) -> str | None:
        token = _bearer(headers)
        tool = params.get("name")
        if token is None or not isinstance(tool, str):
            return "no token"
        return compact(token, tool) if token.count(".") == 2 else chained(token, tool)

    return check


# --- the servers ----------------------------------------------------------------------------------

@dataclass
class AipSetup:
    resolver: Resolver
    revocation: RevocationPolicy


def aip_setup(world: World, revocation_lists: list[str]) -> AipSetup:
    store = TrustStore(documents={world.W.id: world.web_document()},
                       trusted_issuers=[world.A.id, world.B.id, world.W.id])
    resolver = Resolver(store)
    lists = [verify_revocation_list(text, resolver=resolver, now=world.now) for text in revocation_lists]
    return AipSetup(resolver, RevocationPolicy(lists=lists))


def aip_verifier(world: World, setup: AipSetup, mode: str, *,
                 replay_cache: ReplayCache | None = None) -> BindingVerifier:
    # A fresh audience: no verifier of it ever accepted a proof before, so the replay record is
    # complete since time 0 (AIP-RPL-005's T; see spec/bindings.md on provisioning).
    return BindingVerifier(setup.resolver, audience=world.audience, modes=(mode,),  # type: ignore[arg-type]
                           replay_cache=replay_cache or MemoryReplayCache(trusted_since=0),
                           revocation=setup.revocation if mode == "chained" else None)


def arm_apps(world: World, revocation_lists: list[str]) -> dict[str, Any]:
    setup = aip_setup(world, revocation_lists)
    return {
        "none": tool_server("arm-none").streamable_http_app(),
        "jwt": _guarded(tool_server("arm-jwt").streamable_http_app(), jwt_check(world)),
        "draft01": _guarded(tool_server("arm-draft01").streamable_http_app(), draft01_check(world)),
        "compact": streamable_http_app(tool_server("arm-compact"), aip_verifier(world, setup, "compact")),
        "chained": streamable_http_app(tool_server("arm-chained"), aip_verifier(world, setup, "chained")),
    }


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Loopback:
    """uvicorn on 127.0.0.1 in a thread; headers up to 64 KiB so oversized tokens reach the
    verifier (AIP-HTTP-004) instead of being cut off by h11's 16 KiB default."""

    def __init__(self, app: Any) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="critical",
                                access_log=False, lifespan="on", timeout_graceful_shutdown=2,
                                h11_max_incomplete_event_size=64 * 1024)
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, daemon=True, name=f"arm-{self.port}")

    def __enter__(self) -> str:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.server.should_exit = True
                raise RuntimeError(f"uvicorn did not start on port {self.port}")
            time.sleep(0.01)
        return self.url

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)


@contextlib.contextmanager
def serve_arms(apps: Mapping[str, Any]) -> Iterator[dict[str, str]]:
    """Start every arm; yield arm -> MCP endpoint URL; stop them all."""
    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context(Loopback(app)) + "/mcp" for name, app in apps.items()}
