"""The plain HTTP binding: AIPMiddleware on a real Starlette app served by uvicorn, the httpx
client auth, completion records in `AIP-Completion` (AIP-HTTP-050..058), and
`aip-conformance probe http` against it."""

from __future__ import annotations

import gzip
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from weak_servers.servers import verifier_for

from aip import AIPError, Resolver, TrustStore, generate_key
from aip._chained import chain_mint
from aip._compact import issue_token
from aip._completion_wire import result_digest_http
from aip._keys import dumps_key
from aip._proof import token_hash
from aip._replay import MemoryReplayCache
from aip.bindings import (
    BindingVerifier,
    CallSigner,
    ChainedSigner,
    CompactSigner,
    VerifiedCall,
    current_call,
    report_completion,
)
from aip.bindings._serve import LoopbackServer
from aip.bindings.http import (
    MAX_COMPLETION_HEADER_BYTES,
    AIPHttpAuth,
    AIPMiddleware,
    completion_of_response,
    http_invocation,
    response_digest,
    sent_credentials,
    verify_http_response,
)
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
    assert result.ok
    # This server has no signing key: it sends no records, and the probe checks only records
    # that are sent (AIP-HTTP-051 is a SHOULD) ...
    reasons = {r.case.flags[0]: r.reason for r in result.records}
    for name in ("completion-compact", "completion-chained"):
        assert reasons[name] == ("no completion record was sent (the AIP-Completion header); "
                                 "nothing to check")
    # ... unless told to require them.
    strict = run_probe(ProbeConfig(profile="http", url=url + "/v1/search",
                                   issuer=load_identity(key_file), audience=SERVER.identity,
                                   body=b'{"q": "probe"}', require_completion=True))
    assert {r.case.flags[0] for r in strict.records if r.outcome != "passed"} == \
        {"completion-compact", "completion-chained"}
    assert not strict.ok




# --- completion records (AIP-HTTP-050..058) ---------------------------------------------------

SIGNED_LIMIT = 4096  # the signed server's max_response, small enough to stream past


async def _fail(request: Request) -> JSONResponse:
    return JSONResponse({"error": "nothing found"}, status_code=404)


async def _crash(request: Request) -> JSONResponse:
    return JSONResponse({"error": "backend down"}, status_code=503)


async def _partial(request: Request) -> JSONResponse:
    assert report_completion(status="partial", tokens_used=812, cost_usd="0.0042")
    return JSONResponse({"found": 1, "of": 3})


async def _partial_error(request: Request) -> JSONResponse:
    report_completion(status="partial")  # a 4xx/5xx response is failed whatever is reported
    return JSONResponse({"error": "half"}, status_code=500)


async def _redirect(request: Request) -> Response:
    return RedirectResponse("/v1/search", status_code=303)


async def _big(request: Request) -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 1000
    return StreamingResponse(chunks(), media_type="text/plain")


async def _gzip(request: Request) -> Response:
    return Response(gzip.compress(b'{"zipped": true}'), media_type="application/json",
                    headers={"content-encoding": "gzip"})


async def _own_header(request: Request) -> Response:
    return PlainTextResponse("mine", headers={"AIP-Completion": "receipt=a.b.c"})


@pytest.fixture(scope="module")
def signed_url() -> Iterator[str]:
    app = Starlette(routes=[
        Route("/v1/search", search, methods=["GET", "POST"]),
        Route("/v1/fail", _fail, methods=["POST"]), Route("/v1/crash", _crash, methods=["POST"]),
        Route("/v1/partial", _partial, methods=["POST"]),
        Route("/v1/partial-error", _partial_error, methods=["POST"]),
        Route("/v1/redirect", _redirect, methods=["POST"]),
        Route("/v1/big", _big, methods=["GET"]), Route("/v1/gzip", _gzip, methods=["GET"]),
        Route("/v1/own", _own_header, methods=["GET"])])
    verifier = verifier_for(ISSUER.identity, SERVER.identity, signing_key=SERVER)
    with LoopbackServer(AIPMiddleware(app, verifier=verifier,
                                      max_response=SIGNED_LIMIT)) as base:
        yield base


def _trust() -> Resolver:
    return Resolver(TrustStore(trusted_issuers=[ISSUER.identity]))


def _chained() -> ChainedSigner:
    token = chain_mint(ISSUER, holder=HOLDER.identity, scopes=["tool:*"],
                       expires=int(time.time()) + 600)
    return ChainedSigner(token, HOLDER, _trust())


def _call(url: str, method: str, path: str, signer: CallSigner | None = None,
          **kwargs: Any) -> tuple[AIPHttpAuth, httpx.Response]:
    auth = AIPHttpAuth(signer or _compact(["tool:*"]), SERVER.identity)
    with httpx.Client(auth=auth, follow_redirects=False) as client:
        return auth, client.request(method, url + path, **kwargs)


def test_compact_record_is_a_receipt_that_verifies(signed_url: str) -> None:
    auth, r = _call(signed_url, "POST", "/v1/search?x=1", json={"q": "llamas"})
    assert r.status_code == 200
    assert r.headers["aip-completion"].startswith("receipt=")
    record = completion_of_response(r)
    assert record is not None and list(record) == ["receipt"]
    audit = auth.verify_response(r, resolver=_trust())
    assert audit.mode == "compact" and audit.result_checked
    assert audit.completion is not None
    assert audit.completion["status"] == "completed"
    assert audit.completion["executor"] == SERVER.identity
    assert audit.completion["result_hash"] == response_digest(r)


def test_chained_record_is_the_completed_chain_and_verifies(signed_url: str) -> None:
    auth, r = _call(signed_url, "GET", "/v1/search", _chained())
    assert r.status_code == 200 and r.json()["mode"] == "chained"
    assert r.headers["aip-completion"].startswith("token=")
    audit = auth.verify_response(r, resolver=_trust())
    assert audit.mode == "chained" and audit.completion is not None
    assert audit.completion["status"] == "completed"
    sent = sent_credentials(r.request)
    assert audit.aip_token_hash == token_hash(sent.token)


def test_the_digest_is_that_of_the_response_as_sent(signed_url: str) -> None:
    _, r = _call(signed_url, "POST", "/v1/search", json={"q": 1})
    expected = result_digest_http(200, r.headers["content-type"], r.content)
    assert response_digest(r) == expected


@pytest.mark.parametrize(("path", "status", "record_status"), [
    ("/v1/search", 200, "completed"), ("/v1/redirect", 303, "completed"),
    ("/v1/fail", 404, "failed"), ("/v1/crash", 503, "failed"),
    ("/v1/partial", 200, "partial"), ("/v1/partial-error", 500, "failed")])
@pytest.mark.parametrize("mode", ["compact", "chained"])
def test_status_mapping(signed_url: str, path: str, status: int, record_status: str,
                        mode: str) -> None:
    signer = _compact(["tool:*"]) if mode == "compact" else _chained()
    auth, r = _call(signed_url, "POST", path, signer, json={})
    assert r.status_code == status
    audit = auth.verify_response(r, resolver=_trust())
    assert audit.completion is not None and audit.completion["status"] == record_status


def test_partial_carries_what_the_handler_reported(signed_url: str) -> None:
    auth, r = _call(signed_url, "POST", "/v1/partial", json={})
    audit = auth.verify_response(r, resolver=_trust())
    assert audit.completion is not None
    assert (audit.completion["tokens_used"], audit.completion["cost_usd"]) == (812, "0.0042")


def test_a_head_response_is_hashed_with_its_empty_body(signed_url: str) -> None:
    auth, r = _call(signed_url, "HEAD", "/v1/search")
    assert r.status_code == 200 and r.content == b""
    assert auth.verify_response(r, resolver=_trust()).result_checked


def _with(r: httpx.Response, *, content: bytes | None = None, status: int | None = None,
          headers: list[tuple[str, str]] | None = None) -> httpx.Response:
    """The response ``r`` as if it had arrived changed (same request)."""
    base = [(k, v) for k, v in r.headers.multi_items()
            if k.lower() not in ("content-length", "aip-completion")]
    record = [("aip-completion", v) for v in r.headers.get_list("aip-completion")]
    return httpx.Response(status or r.status_code, headers=base + (
        record if headers is None else headers), content=r.content if content is None
        else content, request=r.request)


def test_a_tampered_body_is_refused(signed_url: str) -> None:
    for signer in (_compact(["tool:*"]), _chained()):
        auth, r = _call(signed_url, "POST", "/v1/search", signer, json={"q": "llamas"})
        changed = _with(r, content=r.content.replace(b"llamas", b"alpaca"))
        with pytest.raises(AIPError) as info:
            auth.verify_response(changed, resolver=_trust())
        assert info.value.code == "aip_completion_invalid"


def test_a_changed_status_is_refused(signed_url: str) -> None:
    auth, r = _call(signed_url, "POST", "/v1/search", json={})
    with pytest.raises(AIPError) as info:
        auth.verify_response(_with(r, status=201), resolver=_trust())
    assert info.value.code == "aip_completion_invalid"


def test_a_swapped_record_is_refused(signed_url: str) -> None:
    for make in (lambda: _compact(["tool:*"]), _chained):
        auth, a = _call(signed_url, "POST", "/v1/search", make(), json={"q": "same"})
        _, b = _call(signed_url, "POST", "/v1/search", make(), json={"q": "same"})
        assert a.content == b.content  # same result, another call: the record is not b's
        swapped = _with(a, headers=[("aip-completion", b.headers["aip-completion"])])
        with pytest.raises(AIPError) as info:
            auth.verify_response(swapped, resolver=_trust())
        assert info.value.code == "aip_completion_invalid"


def test_a_record_with_a_status_that_contradicts_the_response_is_refused() -> None:
    # A server that signs "completed" over a 500 (AIP-HTTP-054): the digest matches, the
    # status does not.
    signer = _compact(["tool:*"])
    invocation = http_invocation("POST", "/v1/x", "", b"{}")
    creds = signer.credentials(invocation, SERVER.identity)
    verifier = verifier_for(ISSUER.identity, SERVER.identity, signing_key=SERVER)
    call = verifier.verify(creds.token, creds.proof, invocation)
    body, ctype = b'{"error": "boom"}', "application/json"
    record = verifier.complete(call, status="completed",
                               result_hash=result_digest_http(500, ctype, body))
    request = httpx.Request("POST", "http://server.test/v1/x", content=b"{}", headers={
        "Authorization": f"AIP {creds.token}", "X-AIP-Proof": creds.proof or ""})
    lying = httpx.Response(500, headers={"content-type": ctype,
                                         "aip-completion": f"receipt={record['receipt']}"},
                           content=body, request=request)
    with pytest.raises(AIPError) as info:
        verify_http_response(lying, resolver=_trust())
    assert info.value.code == "aip_completion_invalid"
    assert "500" in info.value.reason


@pytest.mark.parametrize(("headers", "code"), [
    ([], "aip_completion_invalid"),
    ([("aip-completion", "receipt=a.b.c"), ("aip-completion", "receipt=a.b.c")],
     "aip_completion_invalid"),
    ([("aip-completion", "receipt a.b.c")], "aip_completion_invalid"),
    ([("aip-completion", "proof=a.b.c")], "aip_completion_invalid"),
    ([("aip-completion", "receipt=a b")], "aip_completion_invalid"),
    ([("aip-completion", "token=" + "A" * MAX_COMPLETION_HEADER_BYTES)], "aip_limit_exceeded"),
])
def test_absent_repeated_malformed_or_oversized_headers_are_refused(
        signed_url: str, headers: list[tuple[str, str]], code: str) -> None:
    auth, r = _call(signed_url, "POST", "/v1/search", json={})
    with pytest.raises(AIPError) as info:
        auth.verify_response(_with(r, headers=headers), resolver=_trust())
    assert info.value.code == code
    assert "\n" not in info.value.reason


def test_a_receipt_for_a_chained_call_is_refused(signed_url: str) -> None:
    auth, compact = _call(signed_url, "POST", "/v1/search", json={})
    _, chained = _call(signed_url, "POST", "/v1/search", _chained(), json={})
    swapped = _with(chained, headers=[("aip-completion", compact.headers["aip-completion"])])
    with pytest.raises(AIPError) as info:
        auth.verify_response(swapped, resolver=_trust())
    assert info.value.code == "aip_completion_invalid"


def test_absent_record_is_none_when_not_required(url: str) -> None:
    _, r = _call(url, "POST", "/v1/search", json={})
    assert r.status_code == 200 and "aip-completion" not in r.headers
    assert verify_http_response(r, resolver=_trust(), require=False) is None


def test_an_unread_streamed_response_gets_a_code_not_a_traceback(signed_url: str) -> None:
    auth = AIPHttpAuth(_compact(["tool:*"]), SERVER.identity)
    with httpx.Client(auth=auth) as client, \
            client.stream("POST", signed_url + "/v1/search", json={}) as r:
        with pytest.raises(AIPError) as info:
            auth.verify_response(r, resolver=_trust())
        assert info.value.code == "aip_input_invalid"
        r.read()
        assert auth.verify_response(r, resolver=_trust()).result_checked


def test_without_a_signing_key_no_record_is_sent(url: str) -> None:
    for signer in (_compact(), _chained()):
        _, r = _call(url, "POST", "/v1/search", signer, json={})
        assert r.status_code == 200 and "aip-completion" not in r.headers


def test_a_response_over_the_bound_streams_through_without_a_record(signed_url: str) -> None:
    _, r = _call(signed_url, "GET", "/v1/big")
    assert r.status_code == 200 and r.content == b"x" * 10_000
    assert "aip-completion" not in r.headers


def test_a_content_coded_response_gets_no_record(signed_url: str) -> None:
    _, r = _call(signed_url, "GET", "/v1/gzip")
    assert r.status_code == 200 and r.json() == {"zipped": True}
    assert "aip-completion" not in r.headers


def test_the_middleware_owns_the_header(signed_url: str) -> None:
    auth, r = _call(signed_url, "GET", "/v1/own")
    assert r.text == "mine" and r.headers.get_list("aip-completion") != ["receipt=a.b.c"]
    assert len(r.headers.get_list("aip-completion")) == 1
    assert auth.verify_response(r, resolver=_trust()).result_checked


def test_failed_verification_carries_no_record(signed_url: str) -> None:
    r = httpx.post(signed_url + "/v1/search", json={})
    assert r.status_code == 401 and "aip-completion" not in r.headers
    _, r = _call(signed_url, "POST", "/v1/search", _compact(["tool:v1/other"]), json={})
    assert r.status_code == 403 and "aip-completion" not in r.headers


def test_probe_http_checks_the_records_of_the_signed_middleware(signed_url: str,
                                                                tmp_path: Path) -> None:
    key_file = tmp_path / "issuer.json"
    key_file.write_text(dumps_key(ISSUER))
    result = run_probe(ProbeConfig(profile="http", url=signed_url + "/v1/search",
                                   issuer=load_identity(key_file), audience=SERVER.identity,
                                   body=b'{"q": "probe"}'))
    assert [(r.case.flags[0], r.reason) for r in result.records if r.outcome != "passed"] == []
    assert {"completion-compact", "completion-chained"} <= {r.case.flags[0]
                                                            for r in result.records}


class _Broken:
    """An ASGI wrapper outside the signing middleware that breaks one completion rule."""

    def __init__(self, app: Any, how: str) -> None:
        self.app, self.how = app, how

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def wrapped(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message["headers"] if k != b"content-length"]
                if self.how == "record-on-errors" and message["status"] >= 400:
                    headers.append((b"aip-completion", b"receipt=a.b.c"))
                if self.how == "repeat-header":
                    headers += [(k, v) for k, v in headers if k == b"aip-completion"]
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and self.how == "tamper-body":
                message = {**message, "body": message.get("body", b"") + b" "}
            await send(message)

        await self.app(scope, receive, wrapped)


@pytest.mark.parametrize(("how", "caught"), [
    ("tamper-body", {"completion-compact", "completion-chained"}),
    ("repeat-header", {"completion-compact", "completion-chained"}),
    ("record-on-errors", None),
])
def test_probe_http_catches_broken_completion_records(how: str, caught: set[str] | None,
                                                      tmp_path: Path) -> None:
    app = Starlette(routes=[Route("/v1/search", search, methods=["POST"])])
    verifier = verifier_for(ISSUER.identity, SERVER.identity, signing_key=SERVER)
    key_file = tmp_path / "issuer.json"
    key_file.write_text(dumps_key(ISSUER))
    with LoopbackServer(_Broken(AIPMiddleware(app, verifier=verifier), how)) as base:
        result = run_probe(ProbeConfig(profile="http", url=base + "/v1/search",
                                       issuer=load_identity(key_file), audience=SERVER.identity))
    failed = {r.case.flags[0]: r.reason for r in result.records if r.outcome != "passed"}
    refused = {r.case.flags[0] for r in result.records if r.case.error is not None}
    assert set(failed) == (refused if caught is None else caught)
    if how == "tamper-body":
        assert all("result_hash" in reason for reason in failed.values()), failed
    elif how == "repeat-header":
        assert set(failed.values()) == {"the response repeats the AIP-Completion header"}
    else:
        assert all(reason == "an AIP failure carries an AIP-Completion header"
                   for reason in failed.values()), failed


def test_probe_cli_require_completion(url: str, signed_url: str, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    from aip_conformance.cli import main
    key_file = tmp_path / "issuer.json"
    key_file.write_text(dumps_key(ISSUER))
    common = ["--issuer-key", str(key_file), "--audience", SERVER.identity,
              "--require-completion", "--mode", "compact", "--report", str(tmp_path / "r")]
    assert main(["probe", "http", signed_url + "/v1/search", *common]) == 0
    assert "result: PASS" in capsys.readouterr().out
    assert main(["probe", "http", url + "/v1/search", *common]) == 1
    out = capsys.readouterr().out
    assert "result: FAIL" in out and "completion-compact" in out


def test_a_record_over_the_header_bound_is_not_sent() -> None:
    # AIP-HTTP-057: a verifier whose records come out longer than 24576 octets (a stand-in for
    # a very long chain) sends the response without the header rather than a header no
    # intermediary is bound to carry.
    class Oversized(BindingVerifier):
        def complete(self, call: VerifiedCall, **kwargs: Any) -> dict[str, str]:
            return {"token": "A" * MAX_COMPLETION_HEADER_BYTES}

    verifier = Oversized(_trust(), signing_key=SERVER,
                         replay_cache=MemoryReplayCache(trusted_since=0))
    app = Starlette(routes=[Route("/v1/search", search, methods=["POST"])])
    with LoopbackServer(AIPMiddleware(app, verifier=verifier)) as base:
        _, r = _call(base, "POST", "/v1/search", json={"q": 1})
    assert r.status_code == 200 and r.json()["echo"] == {"q": 1}
    assert "aip-completion" not in r.headers


def test_the_spec_example_digest_is_right() -> None:
    # spec/bindings.md, "The completion header": the example response's result_hash.
    text = (Path(__file__).resolve().parents[1] / "spec" / "bindings.md").read_text()
    example = text[text.index("### The completion header"):text.index("## MCP")]
    body = b'{"hotels": 3}'
    assert f"Content-Length: {len(body)}\nAIP-Completion: receipt=" in example
    assert '`{"body":"eyJob3RlbHMiOiAzfQ","content_type":"application/json","status":200}`' \
        in example
    assert result_digest_http(200, "application/json", body) in example
