"""The plain HTTP binding: AIPMiddleware on a real Starlette app served by uvicorn, the httpx
client auth, and `aip-conformance probe http` against it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from weak_servers.servers import verifier_for

from aip import generate_key
from aip._chained import chain_mint
from aip._compact import issue_token
from aip._keys import dumps_key
from aip.bindings import ChainedSigner, CompactSigner, current_call
from aip.bindings._serve import LoopbackServer
from aip.bindings.http import AIPHttpAuth, AIPMiddleware
from aip_conformance.probe import ProbeConfig, load_identity, run_probe

ISSUER = generate_key()
SERVER = generate_key()
HOLDER = generate_key()


async def search(request: Request) -> JSONResponse:
    call = request.state.aip
    assert current_call.get() is call
    body = await request.json() if await request.body() else None
    return JSONResponse({"caller": call.caller, "mode": call.mode, "echo": body})


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    app = Starlette(routes=[Route("/v1/search", search, methods=["GET", "POST"]),
                            Route("/health", lambda r: JSONResponse({"ok": True}))])
    guarded = AIPMiddleware(app, verifier=verifier_for(ISSUER.identity, SERVER.identity),
                            exempt={"/health"}, max_body=4096)
    with LoopbackServer(guarded) as base:
        yield base


def _compact(scopes: list[str] | None = None) -> CompactSigner:
    token = issue_token(ISSUER, subject=HOLDER.identity, audience=SERVER.identity,
                        scopes=scopes or ["tool:v1/search"])
    return CompactSigner(token, HOLDER)


def test_a_signed_request_reaches_the_handler_with_the_verified_call(url: str) -> None:
    with httpx.Client(auth=AIPHttpAuth(_compact(), SERVER.identity)) as client:
        r = client.post(url + "/v1/search?x=1", json={"q": "llamas"})
    assert r.status_code == 200
    assert r.json() == {"caller": HOLDER.identity, "mode": "compact", "echo": {"q": "llamas"}}


def test_chained_mode_works_over_http(url: str) -> None:
    import time
    token = chain_mint(ISSUER, holder=HOLDER.identity, scopes=["tool:*"],
                       expires=int(time.time()) + 600)
    from aip import Resolver, TrustStore
    signer = ChainedSigner(token, HOLDER, Resolver(TrustStore(trusted_issuers=[ISSUER.identity])))
    with httpx.Client(auth=AIPHttpAuth(signer, SERVER.identity)) as client:
        r = client.get(url + "/v1/search")
    assert r.status_code == 200 and r.json()["mode"] == "chained"


def _error(r: httpx.Response) -> str:
    body: dict[str, Any] = r.json()
    assert list(body) == ["error"] and set(body["error"]) == {"code", "message"}
    return str(body["error"]["code"])


def test_no_token_is_401_with_challenge_and_registry_body(url: str) -> None:
    r = httpx.post(url + "/v1/search", json={})
    assert r.status_code == 401
    assert _error(r) == "aip_token_missing"
    assert r.headers["www-authenticate"] == f'AIP realm="{SERVER.identity}", error="aip_token_missing"'
    assert r.headers["cache-control"] == "no-store"


def test_exempt_paths_pass_without_a_token(url: str) -> None:
    assert httpx.get(url + "/health").json() == {"ok": True}


def test_the_body_is_bound_by_its_digest(url: str) -> None:
    signer = _compact()
    creds = signer.credentials(
        __import__("aip.bindings.http", fromlist=["x"]).http_invocation(
            "POST", "/v1/search", "", b'{"q":"a"}'), SERVER.identity)
    r = httpx.post(url + "/v1/search", content=b'{"q":"b"}',
                   headers={"Authorization": f"AIP {creds.token}", "X-AIP-Proof": creds.proof or ""})
    assert r.status_code == 403 and _error(r) == "aip_invocation_mismatch"


def test_scope_for_another_route_is_403(url: str) -> None:
    with httpx.Client(auth=AIPHttpAuth(_compact(["tool:v1/other"]), SERVER.identity)) as client:
        r = client.post(url + "/v1/search", json={})
    assert r.status_code == 403 and _error(r) == "aip_scope_insufficient"


def test_a_token_reference_alone_is_token_missing(url: str) -> None:
    r = httpx.post(url + "/v1/search", json={},
                   headers={"X-AIP-Token-Ref": "https://tokens.example/abc"})
    assert r.status_code == 401 and _error(r) == "aip_token_missing"


def test_repeated_or_conflicting_headers_are_malformed(url: str) -> None:
    r = httpx.post(url + "/v1/search", json={},
                   headers=[("X-AIP-Proof", "a.b.c"), ("X-AIP-Proof", "d.e.f"),
                            ("Authorization", "AIP x.y.z")])
    assert r.status_code == 401 and _error(r) == "aip_token_malformed"


def test_an_oversized_body_is_refused_before_verification(url: str) -> None:
    r = httpx.post(url + "/v1/search", content=b"x" * 5000)
    assert r.status_code == 401 and _error(r) == "aip_limit_exceeded"


def test_garbage_tokens_get_a_code_never_a_traceback(url: str) -> None:
    for token in ["a.b", "not-base64!", "e30.e30.e30", "AAAA", "x" * 300]:
        r = httpx.post(url + "/v1/search", json={}, headers={"Authorization": f"AIP {token}"})
        assert r.status_code in (400, 401), token
        assert "Traceback" not in r.text
        _error(r)


def test_probe_http_passes_against_the_middleware(url: str, tmp_path: Path) -> None:
    key_file = tmp_path / "issuer.json"
    key_file.write_text(dumps_key(ISSUER))
    result = run_probe(ProbeConfig(profile="http", url=url + "/v1/search",
                                   issuer=load_identity(key_file), audience=SERVER.identity,
                                   body=b'{"q": "probe"}'))
    assert [(r.case.flags[0], r.reason) for r in result.records if r.outcome != "passed"] == []


