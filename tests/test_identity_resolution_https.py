"""aip:web resolution over real HTTPS on loopback (spec/identities.md, AIP-RES-*, AIP-TRUST-*)."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler

import pytest
from conftest import HttpsServer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from aip import AIPError, Resolver, TrustStore, build_document
from aip._keys import public_bytes

NOW = int(time.time())


def _doc(identifier: str, key: Ed25519PrivateKey, **kw: object) -> bytes:
    doc = build_document(identifier, [("key-1", public_bytes(key), NOW - 60, None)],
                         expires=NOW + 3600, signer=("key-1", key), **kw)  # type: ignore[arg-type]
    return json.dumps(doc).encode()


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _ident(server: HttpsServer, path: str = "agents/alpha") -> str:
    return f"aip:web:localhost%3A{server.port}/{path}"


def _resolver(server: HttpsServer, **kw: object) -> Resolver:
    return Resolver(network=True, verify=server.client_context(), **kw)  # type: ignore[arg-type]


def test_resolves_document_served_at_its_well_known_url(https_server: HttpsServer, key: Ed25519PrivateKey) -> None:
    ident = _ident(https_server)
    https_server.serve_json("/.well-known/aip/agents/alpha.json", _doc(ident, key))
    resolver = _resolver(https_server)
    resolved = resolver.resolve(ident, now=NOW)
    assert resolved.document is not None and resolved.document.signed_by == "key-1"
    assert resolved.key("key-1", NOW).public_bytes_raw() == public_bytes(key)
    resolver.close()


def test_second_resolution_within_max_age_uses_the_cache(https_server: HttpsServer, key: Ed25519PrivateKey) -> None:
    ident = _ident(https_server)
    https_server.serve_json("/.well-known/aip/agents/alpha.json", _doc(ident, key))
    resolver = _resolver(https_server)
    resolver.resolve(ident, now=NOW)
    resolver.resolve(ident, now=NOW)
    assert len(https_server.hits) == 1
    resolver.close()


def test_no_store_response_is_fetched_again(https_server: HttpsServer, key: Ed25519PrivateKey) -> None:
    ident = _ident(https_server)
    https_server.serve_json("/.well-known/aip/agents/alpha.json", _doc(ident, key),
                            headers={"Cache-Control": "no-store"})
    resolver = _resolver(https_server)
    resolver.resolve(ident, now=NOW)
    resolver.resolve(ident, now=NOW)
    assert len(https_server.hits) == 2
    resolver.close()


def test_cache_lifetime_cannot_exceed_five_minutes() -> None:
    with pytest.raises(ValueError):
        Resolver(cache_seconds=301)


def test_tls_verification_cannot_be_disabled() -> None:
    with pytest.raises(ValueError):
        Resolver(verify=False)


def test_untrusted_certificate_is_unresolvable(https_server: HttpsServer, key: Ed25519PrivateKey) -> None:
    ident = _ident(https_server)
    https_server.serve_json("/.well-known/aip/agents/alpha.json", _doc(ident, key))
    resolver = Resolver(network=True)  # system roots do not include the test CA
    with pytest.raises(AIPError) as err:
        resolver.resolve(ident, now=NOW)
    assert err.value.code == "aip_identity_unresolvable"
    assert https_server.hits == []  # the handshake failed before any request
    resolver.close()


@pytest.mark.parametrize("status", [404, 500, 204])
def test_non_200_answer_is_unresolvable(https_server: HttpsServer, key: Ed25519PrivateKey, status: int) -> None:
    ident = _ident(https_server)
    https_server.serve_json("/.well-known/aip/agents/alpha.json", b"{}", status=status)
    with pytest.raises(AIPError) as err:
        _resolver(https_server).resolve(ident, now=NOW)
    assert err.value.code == "aip_identity_unresolvable"


def test_redirect_within_the_same_origin_is_followed(https_server: HttpsServer, key: Ed25519PrivateKey) -> None:
    ident = _ident(https_server)

    def redirect(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", "/moved.json")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    https_server.routes["/.well-known/aip/agents/alpha.json"] = redirect
    https_server.serve_json("/moved.json", _doc(ident, key))
    assert _resolver(https_server).resolve(ident, now=NOW).document is not None


@pytest.mark.parametrize("location", [
    "https://127.0.0.1:{port}/moved.json",  # another host
    "http://localhost:{port}/moved.json",  # another scheme
    "https://localhost:1/moved.json",  # another port
])
def test_redirect_to_another_origin_is_refused(https_server: HttpsServer, key: Ed25519PrivateKey, location: str) -> None:
    ident = _ident(https_server)

    def redirect(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(301)
        handler.send_header("Location", location.format(port=https_server.port))
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    https_server.routes["/.well-known/aip/agents/alpha.json"] = redirect
    https_server.serve_json("/moved.json", _doc(ident, key))
    with pytest.raises(AIPError) as err:
        _resolver(https_server).resolve(ident, now=NOW)
    assert err.value.code == "aip_identity_unresolvable"
    assert "/moved.json" not in https_server.hits


def test_redirect_loop_stops_after_three_hops(https_server: HttpsServer) -> None:
    ident = _ident(https_server)

    def loop(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", "/.well-known/aip/agents/alpha.json")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    https_server.routes["/.well-known/aip/agents/alpha.json"] = loop
    with pytest.raises(AIPError) as err:
        _resolver(https_server).resolve(ident, now=NOW)
    assert err.value.code == "aip_identity_unresolvable"
    assert len(https_server.hits) == 4


def test_oversized_document_is_refused_without_reading_it_all(https_server: HttpsServer) -> None:
    ident = _ident(https_server)

    def huge(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.end_headers()  # no Content-Length: the limit must hold while streaming
        try:
            for _ in range(200):
                handler.wfile.write(b" " * 4096)
        except (BrokenPipeError, ConnectionResetError):
            pass

    https_server.routes["/.well-known/aip/agents/alpha.json"] = huge
    with pytest.raises(AIPError) as err:
        _resolver(https_server).resolve(ident, now=NOW)
    assert err.value.code == "aip_identity_unresolvable"
    assert "65536" in err.value.reason


def test_slow_server_hits_the_timeout(https_server: HttpsServer) -> None:
    ident = _ident(https_server)

    def slow(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(1.5)
        handler.send_response(200)
        handler.end_headers()

    https_server.routes["/.well-known/aip/agents/alpha.json"] = slow
    started = time.monotonic()
    with pytest.raises(AIPError) as err:
        _resolver(https_server, timeout=0.5).resolve(ident, now=NOW)
    assert err.value.code == "aip_identity_unresolvable"
    assert time.monotonic() - started < 1.4


def test_document_for_another_identity_is_unresolvable(https_server: HttpsServer, key: Ed25519PrivateKey) -> None:
    ident = _ident(https_server)
    https_server.serve_json("/.well-known/aip/agents/alpha.json",
                            _doc(_ident(https_server, "agents/beta"), key))
    with pytest.raises(AIPError) as err:
        _resolver(https_server).resolve(ident, now=NOW)
    assert err.value.code == "aip_identity_unresolvable"
    assert "aip_document_invalid" in err.value.reason


def test_pinned_document_wins_and_the_network_is_not_used(https_server: HttpsServer, key: Ed25519PrivateKey) -> None:
    ident = _ident(https_server)
    pinned = json.loads(_doc(ident, key))
    https_server.serve_json("/.well-known/aip/agents/alpha.json", _doc(ident, Ed25519PrivateKey.generate()))
    resolver = Resolver(TrustStore({ident: pinned}), network=True, verify=https_server.client_context())
    resolved = resolver.resolve(ident, now=NOW)
    assert resolved.key("key-1", NOW).public_bytes_raw() == public_bytes(key)
    assert https_server.hits == []


def test_without_network_an_unpinned_web_identity_is_unresolvable(https_server: HttpsServer) -> None:
    with pytest.raises(AIPError) as err:
        Resolver().resolve(_ident(https_server), now=NOW)
    assert err.value.code == "aip_identity_unresolvable"
    assert https_server.hits == []


def test_pinned_document_is_rechecked_and_expires(key: Ed25519PrivateKey) -> None:
    ident = "aip:web:example.com/agents/alpha"
    resolver = Resolver(TrustStore({ident: json.loads(_doc(ident, key))}))
    resolver.resolve(ident, now=NOW)
    with pytest.raises(AIPError) as err:
        resolver.resolve(ident, now=NOW + 7200)
    assert err.value.code == "aip_identity_unresolvable"
