"""What every transport binding shares (spec/bindings.md).

* where credentials travel (HTTP headers, MCP ``_meta`` keys, A2A metadata keys);
* :class:`BindingVerifier`: one verifier for both modes, checking a token (and, in compact
  mode, its invocation proof) against the request actually received, and returning a
  :class:`VerifiedCall`;
* :class:`CompactSigner` / :class:`ChainedSigner`: the client side, which binds each call to
  its own proof or invocation block (a hop never forwards the token it received);
* the error mapping: HTTP status, ``WWW-Authenticate`` challenge, JSON body, JSON-RPC error;
* completion records (spec/completion.md): :meth:`BindingVerifier.complete` signs the record of
  a verified call with the server's own key (``signing_key``), :func:`report_completion` lets
  the tool say what it cost, and :func:`verify_completion` is the caller's check of what came
  back.

Nothing here depends on an SDK; the SDK-specific modules (``http``, ``mcp``, ``a2a``) build on it.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

import anyio.to_thread

from .. import _chained_datalog as _dl
from .._chained import ChainLimits, ChainRequest, VerifiedChain, chain_invoke, verify_chain
from .._chained import _open as _chained_open
from .._chained import _private as _chained_private
from .._chained import _public as _chained_public
from .._compact import CompactVerifier, VerifiedToken
from .._completion import complete_chained, create_receipt
from .._completion_wire import check_completion_values
from .._encoding import b64url_encode
from .._errors import AIPError
from .._json import loads_strict
from .._keys import SigningKey
from .._proof import Invocation, args_hash, create_proof, token_hash
from .._replay import MemoryReplayCache, ReplayCache
from .._resolver import Resolver
from .._revocation import RevocationPolicy
from .._scope import scope_allows, tool_scope
from .._time import DEFAULT_SKEW, check_skew
from ._token_ref import TokenRefFetcher

_log = logging.getLogger("aip.bindings")

if TYPE_CHECKING:
    from .._audit import AuditRecord

__all__ = [
    "AUTH_SCHEME",
    "HEADER_PROOF",
    "HEADER_TOKEN",
    "HEADER_TOKEN_REF",
    "MAX_BODY_BYTES",
    "MAX_HEADER_TOKEN_BYTES",
    "BindingVerifier",
    "CallSigner",
    "ChainedSigner",
    "CompactSigner",
    "CompletionReport",
    "Credentials",
    "VerifiedCall",
    "challenge",
    "completion_credentials",
    "current_call",
    "error_body",
    "jsonrpc_error",
    "read_credentials",
    "report_completion",
    "request_credentials",
    "safe_error",
    "verify_completion",
]

AUTH_SCHEME = "AIP"
HEADER_TOKEN = "x-aip-token"  # noqa: S105 (a header name)
HEADER_TOKEN_REF = "x-aip-token-ref"  # noqa: S105
HEADER_PROOF = "x-aip-proof"
MAX_HEADER_TOKEN_BYTES = 16384  # AIP-HTTP-004
MAX_BODY_BYTES = 1024 * 1024  # AIP-HTTP-011
_MALFORMED = "aip_token_malformed"

Mode = Literal["compact", "chained"]

current_call: contextvars.ContextVar[VerifiedCall | None] = contextvars.ContextVar(
    "aip_current_call", default=None)
"""The call verified for the request being served (set by every server-side binding)."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a client attaches to one call: the token and, in compact mode, its proof."""

    token: str
    proof: str | None = None


@dataclass(frozen=True, slots=True)
class VerifiedCall:
    """A call that passed verification: who called, under whose authority, bound to what."""

    mode: Mode
    issuer: str
    caller: str  # the compact token's holder, or the chain's invoker (its last delegate)
    audience: str
    operation: str
    tool: str | None
    args_hash: str
    jti: str
    token_hash: str
    scopes: tuple[str, ...]
    expires: int
    delegation_path: tuple[str, ...]  # issuer, then every delegate, ending with the caller
    compact: VerifiedToken | None = field(default=None, repr=False)
    chain: VerifiedChain | None = field(default=None, repr=False)
    token: str = field(default="", repr=False)
    proof: str = field(default="", repr=False)  # compact mode: the proof exactly as received

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mode": self.mode, "issuer": self.issuer, "caller": self.caller,
            "audience": self.audience, "operation": self.operation, "tool": self.tool,
            "args_hash": self.args_hash, "jti": self.jti, "token_hash": self.token_hash,
            "scopes": list(self.scopes), "expires": self.expires,
            "delegation_path": list(self.delegation_path),
        }
        if self.chain is not None:
            out["chain"] = self.chain.to_json()
        return out


def safe_error(exc: BaseException) -> AIPError:
    """Any failure as an :class:`AIPError`; unexpected exceptions never leak their text."""
    if isinstance(exc, AIPError):
        return exc
    return AIPError(_MALFORMED, "the credentials could not be processed")


def error_body(err: AIPError) -> bytes:
    return json.dumps(err.to_body(), separators=(",", ":")).encode("utf-8")


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def challenge(err: AIPError | None, audience: str) -> str:
    """The ``WWW-Authenticate`` value of an AIP failure (AIP-HTTP-008)."""
    parts = [f"{AUTH_SCHEME} realm={_quoted(audience)}"]
    if err is not None:
        parts.append(f"error={_quoted(err.code)}")
    return ", ".join(parts)


def jsonrpc_error(err: AIPError, request_id: Any) -> dict[str, Any]:
    """A JSON-RPC 2.0 error response with the AIP code in ``data`` (AIP-ERR-007/008)."""
    return {"jsonrpc": "2.0", "id": request_id,
            "error": {"code": err.jsonrpc_code, "message": err.reason,
                      "data": {"code": err.code}}}


def read_credentials(
        headers: Iterable[tuple[bytes, bytes]]) -> tuple[str | None, str | None, tuple[str, ...]]:
    """Token, proof and the token references sent (``X-AIP-Token-Ref`` values, normally none
    or one), from raw ASGI headers.

    ``Authorization: AIP <token>`` and ``X-AIP-Token: <token>`` are both accepted; when both
    are present they must be equal (AIP-HTTP-003). A repeated token or proof header is refused;
    references are only looked at by :func:`request_credentials`, and only when no token is
    inline (AIP-HTTP-030).
    """
    auth: list[bytes] = []
    tokens: list[bytes] = []
    proofs: list[bytes] = []
    refs: list[str] = []
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"authorization":
            auth.append(value)
        elif lowered == b"x-aip-token":
            tokens.append(value)
        elif lowered == b"x-aip-proof":
            proofs.append(value)
        elif lowered == b"x-aip-token-ref":
            refs.append(value.strip().decode("latin-1"))
    if len(auth) > 1 or len(tokens) > 1 or len(proofs) > 1:
        raise AIPError(_MALFORMED, "an AIP header is repeated")
    token: str | None = None
    if auth:
        scheme, _, rest = auth[0].partition(b" ")
        if scheme.lower() == AUTH_SCHEME.lower().encode():
            token = _header_text(rest.strip(), "Authorization")
    if tokens:
        other = _header_text(tokens[0].strip(), "X-AIP-Token")
        if token is not None and other != token:
            raise AIPError(_MALFORMED, "Authorization and X-AIP-Token carry different tokens")
        token = other
    proof = _header_text(proofs[0].strip(), "X-AIP-Proof") if proofs else None
    return token or None, proof or None, tuple(refs)


async def request_credentials(
        headers: Iterable[tuple[bytes, bytes]], verifier: BindingVerifier, *,
        inline: Callable[[], tuple[str | None, str | None]] | None = None,
) -> tuple[str | None, str | None]:
    """The token and proof of a request, as every HTTP-borne binding takes them.

    A token inline wins: the headers first, then ``inline()`` (A2A: the message metadata).
    Only when neither carries a token is an ``X-AIP-Token-Ref`` looked at (AIP-HTTP-030): it is
    fetched by the verifier's :class:`~aip.bindings.TokenRefFetcher` (AIP-HTTP-032..036) and
    answered with ``aip_token_missing`` when the verifier has none (AIP-HTTP-031). The proof
    of a token fetched by reference is the ``X-AIP-Proof`` header's.
    """
    token, proof, refs = read_credentials(headers)
    if token is not None:
        return token, proof
    if inline is not None:
        inline_token, inline_proof = inline()
        if inline_token is not None:
            return inline_token, inline_proof
    if not refs:
        return None, proof
    fetcher = verifier.token_refs
    if fetcher is None:
        raise AIPError("aip_token_missing", "token references are not accepted here")
    if len(refs) > 1:
        raise AIPError("aip_token_missing", "token reference not fetched: X-AIP-Token-Ref is "
                                            "repeated")
    return await fetcher.fetch(refs[0]), proof


def _header_text(raw: bytes, what: str) -> str:
    if len(raw) > MAX_HEADER_TOKEN_BYTES:
        raise AIPError("aip_limit_exceeded", f"{what} is over {MAX_HEADER_TOKEN_BYTES} bytes")
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        raise AIPError(_MALFORMED, f"{what} is not ASCII") from None


def detect_mode(token: str) -> Mode:
    """A JWS compact serialization (two dots) is compact; anything else is chained."""
    return "compact" if token.count(".") == 2 else "chained"


class BindingVerifier:
    """Verifies a call in either mode against the request received, for one audience.

    ``audience`` is this server's own AIP identifier. Tokens of both modes are accepted unless
    ``modes`` narrows them. ``replay_cache`` is shared by both modes (a
    :class:`~aip.RedisReplayCache` shares it across a fleet).

    ``signing_key`` is the server's own identity key: with it, the server is the *executor* of
    the calls it verifies and the bindings return a signed completion record with every result
    (:meth:`complete`; AIP-MCP-041, AIP-A2A-041). Its identity must be the audience
    (AIP-CMP-002), which may then be omitted.

    ``token_refs`` opts in to tokens by reference (``X-AIP-Token-Ref``, AIP-HTTP-032..036):
    a :class:`~aip.bindings.TokenRefFetcher` with the origins references may point at. Without
    it a request carrying only a reference is answered with ``aip_token_missing``.
    """

    def __init__(
        self,
        resolver: Resolver,
        *,
        audience: str | None = None,
        modes: Iterable[Mode] = ("compact", "chained"),
        replay_cache: ReplayCache | None = None,
        skew: int = DEFAULT_SKEW,
        revocation: RevocationPolicy | None = None,
        clock: Callable[[], int] | None = None,
        signing_key: SigningKey | None = None,
        token_refs: TokenRefFetcher | None = None,
    ) -> None:
        if audience is None:
            if signing_key is None:
                raise ValueError("a BindingVerifier needs its audience (or its signing_key)")
            audience = signing_key.identity
        if signing_key is not None and signing_key.identity != audience:
            raise ValueError("signing_key must be the key of the audience identifier: the "
                             "executor is the party the invocation addresses (AIP-CMP-002)")
        self.resolver = resolver
        self.audience = audience
        self.signing_key = signing_key
        self.token_refs = token_refs
        self.modes = frozenset(modes)
        if not self.modes or not self.modes <= {"compact", "chained"}:
            raise ValueError("modes must be a non-empty subset of {'compact', 'chained'}")
        self.skew = check_skew(skew)
        self.replay_cache: ReplayCache = (replay_cache if replay_cache is not None
                                          else MemoryReplayCache())
        self.revocation = revocation
        self.clock = clock or (lambda: int(time.time()))
        self.compact = CompactVerifier(resolver, audience=audience, skew=skew,
                                       replay_cache=self.replay_cache)

    def advertisement(self) -> dict[str, Any]:
        """What a server publishes to say it requires AIP (AIP-MCP-020, AIP-A2A-001)."""
        return {"version": "1.0", "required": True, "audience": self.audience,
                "modes": sorted(self.modes), "header": "X-AIP-Token",
                "proof_header": "X-AIP-Proof"}

    def complete(self, call: VerifiedCall, *, status: str, result_hash: str,
                 tokens_used: int | None = None, cost_usd: str | None = None,
                 duration_ms: int | None = None, ldp_provenance_id: str | None = None,
                 now: int | None = None) -> dict[str, str]:
        """The completion record of ``call`` signed with :attr:`signing_key` (spec/completion.md):
        ``{"receipt": <receipt JWT>}`` in compact mode, ``{"token": <the chain as received,
        extended by the completion block>}`` in chained mode (AIP-MCP-042)."""
        key = self.signing_key
        if key is None:
            raise ValueError("this verifier has no signing_key to sign completion records with")
        moment = self.clock() if now is None else now
        if call.mode == "compact":
            return {"receipt": create_receipt(
                key, call.token, call.proof, status=status, result_hash=result_hash, now=moment,
                tokens_used=tokens_used, cost_usd=cost_usd, duration_ms=duration_ms,
                ldp_provenance_id=ldp_provenance_id)}
        return {"token": complete_chained(
            call.token, key, status=status, result_hash=result_hash, resolver=self.resolver,
            now=moment, skew=self.skew, tokens_used=tokens_used, cost_usd=cost_usd,
            duration_ms=duration_ms, ldp_provenance_id=ldp_provenance_id, verified=call.chain)}

    def verify(self, token: str | None, proof: str | None, invocation: Invocation,
               *, now: int | None = None) -> VerifiedCall:
        """Verify ``token`` (and ``proof``) for ``invocation``; raise :class:`AIPError`."""
        try:
            return self._verify(token, proof, invocation, self.clock() if now is None else now)
        except Exception as exc:  # biscuit and friends: never leak a traceback or its text
            raise safe_error(exc) from None

    async def verify_async(self, token: str | None, proof: str | None,
                           invocation: Invocation) -> VerifiedCall:
        """:meth:`verify` in a worker thread, for servers on an event loop: resolving an
        identity can wait on the network (up to the resolver's time limit), and one slow
        issuer must not stall every other request the loop is serving."""
        return await anyio.to_thread.run_sync(self.verify, token, proof, invocation)

    def _verify(self, token: str | None, proof: str | None, invocation: Invocation,
                now: int) -> VerifiedCall:
        if token is None or token == "":
            raise AIPError("aip_token_missing", "no AIP token was presented")
        arguments = _arguments(invocation)
        mode = detect_mode(token)
        if mode not in self.modes:
            raise AIPError(_MALFORMED, f"{mode} tokens are not accepted here")
        if mode == "compact":
            verified = self.compact.verify(token, proof=proof, invocation=invocation, now=now)
            assert verified.proof is not None  # require_proof is on
            return VerifiedCall(
                mode="compact", issuer=verified.issuer, caller=verified.holder,
                audience=self.audience, operation=invocation.operation, tool=invocation.tool,
                args_hash=verified.proof.args_hash, jti=verified.proof.jti,
                token_hash=token_hash(token), scopes=verified.scopes,
                expires=verified.expires_at, delegation_path=(verified.issuer, verified.holder),
                compact=verified, token=token, proof=proof or "")
        if invocation.tool is None:
            raise AIPError("aip_input_invalid", "a chained invocation needs a tool name")
        chain = verify_chain(
            token, resolver=self.resolver, now=now, skew=self.skew,
            request=ChainRequest(audience=self.audience, operation=invocation.operation,
                                 tool=invocation.tool, arguments=arguments),
            require_invocation=True, replay_cache=self.replay_cache,
            revocation=self.revocation)
        call = chain.invocation
        assert call is not None
        path = (chain.issuer, chain.holder, *(h.delegate for h in chain.hops))
        return VerifiedCall(
            mode="chained", issuer=chain.issuer, caller=call.invoker, audience=self.audience,
            operation=call.operation, tool=call.tool, args_hash=call.args_hash, jti=call.jti,
            token_hash=token_hash(token), scopes=chain.effective_scopes,
            expires=chain.effective_expires, delegation_path=path, chain=chain, token=token)


def _arguments(invocation: Invocation) -> Mapping[str, Any]:
    if invocation.arguments_json is not None:
        value = loads_strict(invocation.arguments_json, code="aip_input_invalid",
                             what="invocation arguments", max_bytes=MAX_BODY_BYTES)
        if not isinstance(value, dict):
            raise AIPError("aip_input_invalid", "invocation arguments are not a JSON object")
        return value
    if invocation.arguments is None:
        return {}
    if not isinstance(invocation.arguments, Mapping):
        raise AIPError("aip_input_invalid", "invocation arguments are not a JSON object")
    return invocation.arguments


# --- completion records (server side) ----------------------------------------------------------

@dataclass
class CompletionReport:
    """What the tool (or agent) serving a verified call says about it, for its completion
    record: ``status`` (``partial`` when it did only part of the work; the binding otherwise
    derives ``completed``/``failed`` from the result), usage, cost and a provenance id."""

    status: str | None = None
    tokens_used: int | None = None
    cost_usd: str | None = None
    duration_ms: int | None = None
    ldp_provenance_id: str | None = None


_report: contextvars.ContextVar[CompletionReport | None] = contextvars.ContextVar(
    "aip_completion_report", default=None)


def report_completion(*, status: str | None = None, tokens_used: int | None = None,
                      cost_usd: str | None = None, duration_ms: int | None = None,
                      ldp_provenance_id: str | None = None) -> bool:
    """Called by a tool while it serves a verified call: what the call's completion record
    should say besides the result digest (values as AIP-CMP-010..015; ``cost_usd`` a decimal
    string such as ``"0.0042"``). Returns False when no binding is collecting a record."""
    check_completion_values(status=status or "completed", result_hash="sha256:" + "0" * 64,
                            verification_status="verified", tokens_used=tokens_used,
                            cost_usd=cost_usd, duration_ms=duration_ms,
                            ldp_provenance_id=ldp_provenance_id, code="aip_input_invalid")
    report = _report.get()
    if report is None:
        return False
    for name, value in (("status", status), ("tokens_used", tokens_used),
                        ("cost_usd", cost_usd), ("duration_ms", duration_ms),
                        ("ldp_provenance_id", ldp_provenance_id)):
        if value is not None:
            setattr(report, name, value)
    return True


def collect_report() -> tuple[CompletionReport, contextvars.Token[CompletionReport | None]]:
    """Start collecting what the code serving a call reports (reset with ``_report.reset``)."""
    report = CompletionReport()
    return report, _report.set(report)


def reset_report(token: contextvars.Token[CompletionReport | None]) -> None:
    _report.reset(token)


def sign_completion(verifier: BindingVerifier, call: VerifiedCall, *, status: str,
                    result_hash: str, report: CompletionReport,
                    elapsed_ms: int | None) -> dict[str, str] | None:
    """The default completion record of a binding, or None when it cannot be made (the result
    is delivered without one, and the failure is logged: the tool has already run)."""
    try:
        return verifier.complete(
            call, status=report.status or status, result_hash=result_hash,
            tokens_used=report.tokens_used, cost_usd=report.cost_usd,
            duration_ms=report.duration_ms if report.duration_ms is not None else elapsed_ms,
            ldp_provenance_id=report.ldp_provenance_id)
    except Exception as exc:
        _log.warning("no completion record for invocation %s: %s", call.jti,
                     safe_error(exc).code)
        return None


# --- completion records (client side) ----------------------------------------------------------

def completion_credentials(record: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``(receipt, completed_chain)`` of a completion record object (AIP-MCP-042)."""
    if not isinstance(record, Mapping):
        raise AIPError("aip_completion_invalid", "the completion record is not an object")
    receipt, chain = record.get("receipt"), record.get("token")
    if (receipt is None) == (chain is None) or not isinstance(receipt or chain, str):
        raise AIPError("aip_completion_invalid", "the completion record holds neither exactly "
                       "one receipt nor one completed chain")
    return receipt, chain


def verify_completion(record: Mapping[str, Any] | None, sent: Credentials, *, result_hash: str,
                      resolver: Resolver, now: int | None = None, skew: int = DEFAULT_SKEW,
                      require: bool = True) -> AuditRecord | None:
    """The caller's check of a completion record that came back with a result: audit
    verification (spec/completion.md) of the record against the credentials the caller
    ``sent`` for that call and the digest of the result it received (AIP-CMP-034).

    Returns the verified audit record; raises :class:`AIPError` when the record does not
    verify, or is absent and ``require`` is true (returns None when absent otherwise).
    """
    from .._audit import verify_audit

    if record is None:
        if require:
            raise AIPError("aip_completion_invalid", "the result carries no completion record")
        return None
    receipt, chain = completion_credentials(record)
    if detect_mode(sent.token) == "compact":
        if receipt is None:
            raise AIPError("aip_completion_invalid", "a compact call is completed by a receipt")
        return verify_audit(sent.token, proof=sent.proof, receipt=receipt, resolver=resolver,
                            now=now, skew=skew, result_hash=result_hash)
    if chain is None:
        raise AIPError("aip_completion_invalid", "a chained call is completed by its chain")
    return verify_audit(chain, invoked_token=sent.token, resolver=resolver, now=now, skew=skew,
                        result_hash=result_hash)


class SentLog:
    """The credentials a client sent, kept (bounded) so that a completion record can be checked
    against them: a receipt names the proof it completes (``proof_hash``), a completed chain the
    token it extends."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.last: Credentials | None = None
        self._sent: dict[str, Credentials] = {}

    def add(self, creds: Credentials) -> None:
        self.last = creds
        key = token_hash(creds.proof if creds.proof is not None else creds.token)
        self._sent[key] = creds
        while len(self._sent) > self.size:
            del self._sent[next(iter(self._sent))]

    def find(self, record: Mapping[str, Any] | None) -> Credentials | None:
        """The credentials ``record`` completes (None when they were not sent from here)."""
        if record is None:
            return None
        receipt, chain = completion_credentials(record)
        if receipt is not None:
            from .._proof import jws_json, jws_split

            claims = jws_json(jws_split(receipt, code="aip_completion_invalid",
                                        what="receipt")[1],
                              code="aip_completion_invalid", what="receipt payload")
            digest = claims.get("proof_hash")
            return self._sent.get(digest) if isinstance(digest, str) else None
        assert chain is not None
        for creds in reversed(self._sent.values()):
            if creds.proof is None and _extends(chain, creds.token):
                return creds
        return None


def _extends(completed: str, token: str) -> bool:
    """Whether the chain ``completed`` holds ``token``'s blocks byte for byte, followed by more
    (a pre-filter to find the call; the audit verification checks the link, AIP-AUD-002)."""
    from .._encoding import b64url_decode

    try:
        before = b64url_decode(token, code=_MALFORMED, what="token")
        after = b64url_decode(completed, code=_MALFORMED, what="token")
        end = _blocks_end(before)
    except (AIPError, IndexError):
        return False
    return 0 < end < len(after) and after.startswith(before[:end])


def _blocks_end(data: bytes) -> int:
    """Length of a serialized Biscuit's leading fields that hold its blocks (protobuf fields
    1..3: root key id, authority, blocks; the proof, field 4, changes when a block is added)."""
    pos = end = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        length, pos = _varint(data, pos) if key & 7 == 2 else (0, pos)
        if key & 7 == 0:
            _, pos = _varint(data, pos)
        pos += length
        if key >> 3 in (1, 2, 3):
            end = pos
    return end


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


# --- the client side ----------------------------------------------------------------------------

class CallSigner(Protocol):
    """Makes the credentials of one call (a fresh proof or invocation block every time)."""

    def credentials(self, invocation: Invocation, audience: str) -> Credentials: ...


@dataclass
class CompactSigner:
    """Compact mode: the token issued to ``holder``, and a fresh proof per call."""

    token: str
    holder: SigningKey
    clock: Callable[[], int] = field(default=lambda: int(time.time()))

    def credentials(self, invocation: Invocation, audience: str) -> Credentials:
        proof = create_proof(self.holder, self.token, audience=audience,
                             invocation=invocation, now=self.clock())
        return Credentials(self.token, proof)


@dataclass
class ChainedSigner:
    """Chained mode: the chain whose last delegate is ``invoker``; each call appends its own
    invocation block (the chain itself is never sent without one).

    The chain is opened and checked once (as :func:`aip.chain_invoke` does on every call) and
    kept; each call then only appends and signs its invocation block. Set ``cache=False`` to
    re-open the chain on every call.
    """

    token: str
    invoker: SigningKey
    resolver: Resolver
    clock: Callable[[], int] = field(default=lambda: int(time.time()))
    cache: bool = True
    _opened: tuple[Any, VerifiedChain] | None = field(default=None, init=False, repr=False)

    def credentials(self, invocation: Invocation, audience: str) -> Credentials:
        if invocation.tool is None:
            raise AIPError("aip_input_invalid", "a chained invocation needs a tool name")
        arguments = _arguments(invocation)
        now = self.clock()
        if not self.cache:
            return Credentials(chain_invoke(
                self.token, self.invoker, audience=audience, operation=invocation.operation,
                tool=invocation.tool, arguments=arguments, resolver=self.resolver, now=now), None)
        if self._opened is None:
            self._opened = _chained_open(self.token, self.resolver, now, DEFAULT_SKEW,
                                         ChainLimits())
        biscuit, chain = self._opened
        if chain.invocation is not None or self.invoker.identity != chain.last_delegate:
            raise AIPError("aip_chain_invalid", f"{self.invoker.identity} cannot invoke: it is "
                                                "not the chain's last delegate")
        if now - DEFAULT_SKEW > chain.effective_expires:
            raise AIPError("aip_token_expired", "the chain has expired")
        if not scope_allows(chain.effective_scopes, tool_scope(invocation.tool)):
            raise AIPError("aip_scope_insufficient", "the tool is not within the chain")
        block = _dl.invocation_block(
            seq=biscuit.block_count(), invoker=self.invoker.identity, kid=self.invoker.kid,
            audience=audience, operation=invocation.operation, tool=invocation.tool,
            args_hash=args_hash(arguments), jti=b64url_encode(secrets.token_bytes(16)), iat=now)
        signed = biscuit.third_party_request().create_block(_chained_private(self.invoker), block)
        appended = biscuit.append_third_party(_chained_public(self.invoker.public_key), signed)
        return Credentials(b64url_encode(bytes(appended.to_bytes())), None)


def body_digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def http_arguments(query: str, body: bytes) -> dict[str, str]:
    """The arguments of a plain HTTP request (AIP-HTTP-021): raw query and body digest."""
    return {"body": body_digest(body), "query": query}


def digest_of(arguments: Mapping[str, Any] | None) -> str:
    return args_hash(arguments)
