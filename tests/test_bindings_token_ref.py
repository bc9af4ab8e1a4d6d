"""Token by reference (spec/bindings.md, AIP-HTTP-030..036): the opt-in TokenRefFetcher behind
the HTTP middleware, the MCP guard and the A2A guard, against a real HTTPS token server on
loopback (trustme certificate) and real uvicorn apps."""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest
import trustme
from loopback_https import serve_https
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from weak_servers.servers import verifier_for

from aip import AIPError, Resolver, TrustStore, generate_key
from aip._chained import chain_mint
from aip._compact import issue_token
from aip.bindings import ChainedSigner, CompactSigner, TokenRefFetcher
from aip.bindings._core import CallSigner
from aip.bindings._serve import LoopbackServer
from aip.bindings._token_ref import is_public_address, token_text
from aip.bindings.a2a import AIPAgentGuard, message_invocation
from aip.bindings.http import AIPMiddleware, http_invocation
from aip.bindings.mcp import AIPToolGuard, tool_invocation

ISSUER = generate_key()
SERVER = generate_key()
HOLDER = generate_key()
VERIFIER = verifier_for(ISSUER.identity, SERVER.identity)
BODY = b'{"q":"llamas"}'

Handler = Callable[[BaseHTTPRequestHandler], None]


# --- the token server: HTTPS on loopback, certificate for localhost, 127.0.0.1, tokens.test ---

@dataclass
class TokenServer:
    port: int
    ca: trustme.CA
    routes: dict[str, Handler] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def origin(self, host: str = "localhost") -> str:
        return f"https://{host}:{self.port}"

    def trust(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        self.ca.configure_trust(ctx)
        return ctx

    def fetcher(self, *, internal: Sequence[str] | None = None, origins: Sequence[str] = (),
                **options: Any) -> TokenRefFetcher:
        return TokenRefFetcher(origins, internal_origins=([self.origin()] if internal is None
                                                          else internal),
                               verify=self.trust(), **options)

    def serve(self, path: str, body: bytes, *, status: int = 200,
              headers: dict[str, str] | None = None, length: bool = True) -> str:
        def route(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(status)
            handler.send_header("Content-Type", "text/plain")
            if length:
                handler.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(body)

        self.routes[path] = route
        return self.origin() + path

    def stall(self, path: str, *, after_headers: bool) -> str:
        def route(handler: BaseHTTPRequestHandler) -> None:
            if after_headers:
                handler.send_response(200)
                handler.send_header("Content-Length", "100")
                handler.end_headers()
                handler.wfile.write(b"ab")
                handler.wfile.flush()
            self.release.wait(30)
            handler.close_connection = True

        self.routes[path] = route
        return self.origin() + path


@pytest.fixture
def tokens(ca: trustme.CA) -> Iterator[TokenServer]:
    routes: dict[str, Handler] = {}
    hits: list[str] = []
    with serve_https(ca, ("localhost", "127.0.0.1", "tokens.test"), routes, hits) as port:
        info = TokenServer(port=port, ca=ca, routes=routes, hits=hits)
        try:
            yield info
        finally:
            info.release.set()  # let stalled handlers finish before the server shuts down
            VERIFIER.token_refs = None


# --- the protected servers: the three guards, one verifier ------------------------------------

async def _who(request: Request) -> JSONResponse:
    call = request.scope["aip.call"]
    return JSONResponse({"caller": call.caller, "mode": call.mode})


@dataclass
class Apps:
    http: str
    mcp: str
    a2a: str


@pytest.fixture(scope="module")
def apps() -> Iterator[Apps]:
    http_app = AIPMiddleware(
        Starlette(routes=[Route("/v1/search", _who, methods=["POST"]),
                          Route("/health", lambda r: JSONResponse({"ok": True}))]),
        verifier=VERIFIER, exempt={"/health"})
    mcp_app = AIPToolGuard(Starlette(routes=[Route("/mcp", _who, methods=["POST"])]), VERIFIER)
    a2a_app = AIPAgentGuard(Starlette(routes=[Route("/", _who, methods=["POST"])]), VERIFIER,
                            skills=["research"])
    with LoopbackServer(http_app) as h, LoopbackServer(mcp_app) as m, LoopbackServer(a2a_app) as a:
        yield Apps(h, m + "/mcp", a + "/")


def _compact() -> CompactSigner:
    return CompactSigner(issue_token(ISSUER, subject=HOLDER.identity, audience=SERVER.identity,
                                     scopes=["tool:*"]), HOLDER)


def _chained() -> ChainedSigner:
    chain = chain_mint(ISSUER, holder=HOLDER.identity, scopes=["tool:*"],
                       expires=int(time.time()) + 600)
    return ChainedSigner(chain, HOLDER, Resolver(TrustStore(trusted_issuers=[ISSUER.identity])))


def _post_http(apps: Apps, tokens: TokenServer, ref: str | None, *, signer: CallSigner | None = None,
               inline: bool = False, path: str = "/t") -> httpx.Response:
    """POST /v1/search with its token served by ``tokens`` at ``path`` and referenced by ``ref``."""
    creds = (signer or _compact()).credentials(
        http_invocation("POST", "/v1/search", "", BODY), SERVER.identity)
    tokens.serve(path, creds.token.encode("ascii") + b"\n")
    headers = {"Content-Type": "application/json"}
    if ref is not None:
        headers["X-AIP-Token-Ref"] = ref
    if inline:
        headers["Authorization"] = f"AIP {creds.token}"
    if creds.proof is not None:
        headers["X-AIP-Proof"] = creds.proof
    return httpx.post(apps.http + "/v1/search", content=BODY, headers=headers, timeout=30)


def _code(r: httpx.Response) -> str:
    body = r.json()
    error = body["error"]
    return str(error["data"]["code"] if "data" in error else error["code"])


def _refused(r: httpx.Response, *, because: str | None = None) -> None:
    assert r.status_code == 401, r.text
    assert _code(r) == "aip_token_missing"
    message = r.json()["error"]["message"]
    assert "\n" not in message
    if because is not None:
        assert because in message, message


# --- a reference that is fetched ---------------------------------------------------------------

def test_a_listed_origin_serving_the_token_verifies(apps: Apps, tokens: TokenServer) -> None:
    VERIFIER.token_refs = tokens.fetcher()
    r = _post_http(apps, tokens, tokens.origin() + "/t")
    assert r.status_code == 200, r.text
    assert r.json() == {"caller": HOLDER.identity, "mode": "compact"}
    assert tokens.hits == ["/t"]


def test_a_chained_token_by_reference_verifies(apps: Apps, tokens: TokenServer) -> None:
    VERIFIER.token_refs = tokens.fetcher()
    r = _post_http(apps, tokens, tokens.origin() + "/t", signer=_chained())
    assert r.status_code == 200, r.text
    assert r.json()["mode"] == "chained"


def test_each_request_fetches_its_reference_again(apps: Apps, tokens: TokenServer) -> None:
    VERIFIER.token_refs = tokens.fetcher()
    for _ in range(2):
        assert _post_http(apps, tokens, tokens.origin() + "/t").status_code == 200
    assert tokens.hits == ["/t", "/t"]  # nothing cached


def test_an_inline_token_wins_and_the_reference_is_not_fetched(apps: Apps,
                                                               tokens: TokenServer) -> None:
    VERIFIER.token_refs = tokens.fetcher()
    r = _post_http(apps, tokens, tokens.origin() + "/t", inline=True)
    assert r.status_code == 200, r.text
    assert tokens.hits == []


def test_without_a_fetcher_a_reference_alone_is_token_missing(apps: Apps,
                                                             tokens: TokenServer) -> None:
    _refused(_post_http(apps, tokens, tokens.origin() + "/t"), because="not accepted here")
    assert tokens.hits == []


def test_the_mcp_guard_fetches_through_the_same_function(apps: Apps, tokens: TokenServer) -> None:
    VERIFIER.token_refs = tokens.fetcher()
    params = {"name": "search", "arguments": {"q": "llamas"}}
    creds = _compact().credentials(tool_invocation(params), SERVER.identity)
    ref = tokens.serve("/mcp-token", creds.token.encode("ascii"))
    message = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params}
    headers = {"X-AIP-Token-Ref": ref, "X-AIP-Proof": creds.proof or ""}
    r = httpx.post(apps.mcp, json=message, headers=headers, timeout=30)
    assert r.status_code == 200 and r.json()["caller"] == HOLDER.identity, r.text
    r = httpx.post(apps.mcp, json=message, timeout=30,
                   headers={"X-AIP-Token-Ref": tokens.origin("127.0.0.1") + "/mcp-token"})
    assert _code(r) == "aip_token_missing"
    assert tokens.hits == ["/mcp-token"]


def test_the_a2a_guard_fetches_and_prefers_a_metadata_token(apps: Apps,
                                                            tokens: TokenServer) -> None:
    VERIFIER.token_refs = tokens.fetcher()
    message: dict[str, Any] = {"messageId": str(uuid.uuid4()), "role": "ROLE_USER",
                               "parts": [{"text": "llamas?"}], "metadata": {"aip_skill": "research"}}
    creds = _compact().credentials(message_invocation("SendMessage", message), SERVER.identity)
    ref = tokens.serve("/a2a-token", creds.token.encode("ascii") + b"\r\n")
    request = {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": message}}
    r = httpx.post(apps.a2a, json=request, timeout=30,
                   headers={"X-AIP-Token-Ref": ref, "X-AIP-Proof": creds.proof or ""})
    assert r.status_code == 200 and r.json()["caller"] == HOLDER.identity, r.text
    assert tokens.hits == ["/a2a-token"]
    # A token inline in the message metadata is inline too (AIP-HTTP-030): no fetch.
    creds = _compact().credentials(message_invocation("SendMessage", message), SERVER.identity)
    message["metadata"] = {"aip_skill": "research", "aip_token": creds.token,
                           "aip_proof": creds.proof}
    r = httpx.post(apps.a2a, json=request, headers={"X-AIP-Token-Ref": ref}, timeout=30)
    assert r.status_code == 200, r.text
    assert tokens.hits == ["/a2a-token"]


# --- references that are refused --------------------------------------------------------------

def test_an_unlisted_origin_is_refused_without_a_request(apps: Apps, tokens: TokenServer) -> None:
    VERIFIER.token_refs = tokens.fetcher(internal=[f"https://localhost:{tokens.port + 1}"])
    _refused(_post_http(apps, tokens, tokens.origin() + "/t"), because="allow-list")
    assert tokens.hits == []


def test_an_http_url_is_refused(apps: Apps, tokens: TokenServer) -> None:
    VERIFIER.token_refs = tokens.fetcher()
    _refused(_post_http(apps, tokens, f"http://localhost:{tokens.port}/t"), because="https")
    assert tokens.hits == []


@pytest.mark.parametrize("ref", [
    "https://user:pw@localhost:{port}/t",  # user information
    "https://localhost:{port}/t https://localhost:{port}/t",  # not one URL
    "https://localhost:{port}/t\u00e9",  # not ASCII
    "/t",  # relative
])
def test_odd_references_are_refused(apps: Apps, tokens: TokenServer, ref: str) -> None:
    VERIFIER.token_refs = tokens.fetcher()
    creds = _compact().credentials(http_invocation("POST", "/v1/search", "", BODY), SERVER.identity)
    r = httpx.post(apps.http + "/v1/search", content=BODY, timeout=30,
                   headers=[(b"X-AIP-Token-Ref", ref.format(port=tokens.port).encode("utf-8")),
                            (b"X-AIP-Proof", (creds.proof or "").encode())])
    _refused(r)
    assert tokens.hits == []


def test_a_repeated_reference_header_is_refused(apps: Apps, tokens: TokenServer) -> None:
    VERIFIER.token_refs = tokens.fetcher()
    ref = (tokens.origin() + "/t").encode()
    r = httpx.post(apps.http + "/v1/search", content=BODY, timeout=30,
                   headers=[(b"X-AIP-Token-Ref", ref), (b"X-AIP-Token-Ref", ref)])
    _refused(r, because="repeated")
    assert tokens.hits == []


def test_a_redirect_is_refused_and_its_target_not_fetched(apps: Apps, tokens: TokenServer) -> None:
    VERIFIER.token_refs = tokens.fetcher()
    redirect = tokens.serve("/r", b"", status=302, headers={"Location": tokens.origin() + "/t"})
    _refused(_post_http(apps, tokens, redirect), because="redirect")
    assert tokens.hits == ["/r"]


@pytest.mark.parametrize("length", [True, False])
def test_a_body_over_16384_octets_is_refused(apps: Apps, tokens: TokenServer,
                                             length: bool) -> None:
    VERIFIER.token_refs = tokens.fetcher()
    big = tokens.serve("/big", b"a" * 16385, length=length)
    _refused(_post_http(apps, tokens, big), because="16384 octets")
    exact = tokens.serve("/exact", b"a" * 16384, length=length)
    r = _post_http(apps, tokens, exact)  # within the limit: fetched, then not a valid token
    assert r.status_code == 401 and _code(r) == "aip_token_malformed"


def test_a_lower_size_limit_applies(apps: Apps, tokens: TokenServer) -> None:
    VERIFIER.token_refs = tokens.fetcher(max_bytes=64)
    _refused(_post_http(apps, tokens, tokens.origin() + "/t"), because="64 octets")


@pytest.mark.parametrize("after_headers", [False, True])
def test_a_stalling_server_is_refused_within_the_budget(apps: Apps, tokens: TokenServer,
                                                        after_headers: bool) -> None:
    VERIFIER.token_refs = tokens.fetcher(timeout=0.5)
    _refused(_post_http(apps, tokens, tokens.stall("/slow", after_headers=after_headers)),
             because="exceeded")


def test_a_stalled_fetch_does_not_hold_up_the_event_loop(apps: Apps, tokens: TokenServer) -> None:
    VERIFIER.token_refs = tokens.fetcher(timeout=5)
    ref = tokens.stall("/slow", after_headers=True)
    outcome: list[httpx.Response] = []
    worker = threading.Thread(target=lambda: outcome.append(_post_http(apps, tokens, ref)))
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while "/slow" not in tokens.hits and time.monotonic() < deadline:
            time.sleep(0.01)
        assert "/slow" in tokens.hits
        assert httpx.get(apps.http + "/health", timeout=30).json() == {"ok": True}
    finally:
        tokens.release.set()  # the body ends short of its Content-Length
        worker.join(30)
    _refused(outcome[0])


@pytest.mark.parametrize(("body", "code"), [
    (b"not a token", "aip_token_malformed"),
    (b"tok\xc3\xa9n", "aip_token_malformed"),
    (b"abc\n\n", "aip_token_malformed"),
    (b"", "aip_token_missing"),
    (b"\n", "aip_token_missing"),
])
def test_a_body_that_is_not_a_token(apps: Apps, tokens: TokenServer, body: bytes,
                                    code: str) -> None:
    VERIFIER.token_refs = tokens.fetcher()
    ref = tokens.serve("/odd", body)
    creds = _compact().credentials(http_invocation("POST", "/v1/search", "", BODY), SERVER.identity)
    r = httpx.post(apps.http + "/v1/search", content=BODY, timeout=30,
                   headers={"X-AIP-Token-Ref": ref, "X-AIP-Proof": creds.proof or ""})
    assert r.status_code == 401 and _code(r) == code


def test_a_non_200_answer_or_a_content_coding_is_refused(apps: Apps, tokens: TokenServer) -> None:
    VERIFIER.token_refs = tokens.fetcher()
    _refused(_post_http(apps, tokens, tokens.origin() + "/nothing-here"), because="HTTP 404")
    gz = tokens.serve("/gz", b"x", headers={"Content-Encoding": "gzip"})
    _refused(_post_http(apps, tokens, gz), because="content coding")


# --- addresses: checked before connecting, pinned for the connection -------------------------

def test_a_listed_host_resolving_to_loopback_is_refused_unless_listed_as_internal(
        apps: Apps, tokens: TokenServer) -> None:
    # localhost is listed, but as an ordinary origin: it resolves to loopback, so no connection.
    VERIFIER.token_refs = tokens.fetcher(internal=[], origins=[tokens.origin()])
    _refused(_post_http(apps, tokens, tokens.origin() + "/t"), because="non-public")
    assert tokens.hits == []


def test_a_loopback_address_that_is_not_the_listed_origin_is_refused(apps: Apps,
                                                                     tokens: TokenServer) -> None:
    # Same server, same port, but the origin https://127.0.0.1:PORT is not the listed one.
    VERIFIER.token_refs = tokens.fetcher()
    _refused(_post_http(apps, tokens, tokens.origin("127.0.0.1") + "/t"), because="allow-list")
    VERIFIER.token_refs = tokens.fetcher(internal=[], origins=[tokens.origin("127.0.0.1")])
    _refused(_post_http(apps, tokens, tokens.origin("127.0.0.1") + "/t"), because="non-public")
    assert tokens.hits == []


class FakeDNS:
    """A ``getaddrinfo`` answering from a table, counting lookups."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int, family: int = 0, type: int = 0,
                 *rest: Any) -> list[tuple[Any, ...]]:
        self.lookups.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "unknown host")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port)) for a in self.table[host]]


def test_the_connection_goes_to_the_vetted_address_with_tls_for_the_host_name(
        apps: Apps, tokens: TokenServer) -> None:
    # tokens.test exists only in this table: the fetch can only succeed by connecting to the
    # one address it resolved (no second lookup), and TLS verified the name tokens.test.
    dns = FakeDNS({"tokens.test": ["127.0.0.1"]})
    VERIFIER.token_refs = tokens.fetcher(internal=[tokens.origin("tokens.test")], getaddrinfo=dns)
    r = _post_http(apps, tokens, tokens.origin("tokens.test") + "/t")
    assert r.status_code == 200, r.text
    assert dns.lookups == ["tokens.test"]


def test_the_certificate_is_checked_for_the_host_name_not_the_address(
        apps: Apps, tokens: TokenServer) -> None:
    dns = FakeDNS({"other.test": ["127.0.0.1"]})  # the certificate does not name other.test
    VERIFIER.token_refs = tokens.fetcher(internal=[tokens.origin("other.test")], getaddrinfo=dns)
    _refused(_post_http(apps, tokens, tokens.origin("other.test") + "/t"))
    assert tokens.hits == []


@pytest.mark.parametrize("answers", [
    ["93.184.215.14", "10.0.0.7"],  # one private answer among public ones
    ["::ffff:127.0.0.1"],  # loopback, mapped into IPv6
    ["169.254.169.254"],  # link-local (cloud metadata)
])
def test_a_public_origin_with_a_non_public_answer_is_refused_before_connecting(
        apps: Apps, tokens: TokenServer, answers: list[str]) -> None:
    dns = FakeDNS({"tokens.test": answers})
    VERIFIER.token_refs = tokens.fetcher(internal=[], origins=[tokens.origin("tokens.test")],
                                         getaddrinfo=dns)
    _refused(_post_http(apps, tokens, tokens.origin("tokens.test") + "/t"), because="non-public")
    assert tokens.hits == []


def test_an_unresolvable_host_is_refused(apps: Apps, tokens: TokenServer) -> None:
    VERIFIER.token_refs = tokens.fetcher(internal=[tokens.origin("tokens.test")],
                                         getaddrinfo=FakeDNS({}))
    _refused(_post_http(apps, tokens, tokens.origin("tokens.test") + "/t"), because="resolve")


# --- units -------------------------------------------------------------------------------------

@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "192.0.2.1", "::1", "fe80::1",
    "fc00::1", "::", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::1",
    "2002:a00:1::1", "64:ff9b::a00:1", "2001:db8::1",
])
def test_non_public_addresses(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.215.14", "2606:4700:4700::1111",
                                     "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"])
def test_public_addresses(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


def test_token_text_strips_one_line_break() -> None:
    assert token_text(b"a.b.c\n") == "a.b.c"
    assert token_text(b"a.b.c\r\n") == "a.b.c"
    assert token_text(b"a.b.c") == "a.b.c"
    with pytest.raises(AIPError) as info:
        token_text(b"a.b.c\n\n")
    assert info.value.code == "aip_token_malformed"


@pytest.mark.parametrize("options", [
    {"timeout": 5.5}, {"timeout": 0}, {"max_bytes": 16385}, {"max_bytes": 0},
    {"verify": False}, {"origins": ["http://tokens.example"]},
    {"origins": ["https://tokens.example/path"]}, {"origins": ["https://u@tokens.example"]},
    {"origins": []},
])
def test_configuration_that_would_loosen_the_rules_is_refused(options: dict[str, Any]) -> None:
    options = {"origins": ["https://tokens.example"], **options}
    with pytest.raises(ValueError):
        TokenRefFetcher(**options)


def test_origins_are_compared_normalised() -> None:
    fetcher = TokenRefFetcher(["https://Tokens.Example:443/"])
    assert fetcher.allows("https://tokens.example/abc")
    assert fetcher.allows("https://TOKENS.example:443/abc?x=1")
    assert not fetcher.allows("https://tokens.example:8443/abc")
    assert not fetcher.allows("http://tokens.example/abc")
    assert not fetcher.allows("https://tokens.example.evil/abc")
    assert json.dumps(sorted(fetcher.origins)) == '[["tokens.example", 443]]'
