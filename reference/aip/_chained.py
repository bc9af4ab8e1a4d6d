"""Chained mode (spec/chained.md): a Biscuit v3 token whose every hop is signed by the identity
it names.

* :func:`mint` makes block 0 (authority), signed by a key of the issuing identity.
* :func:`delegate` lets the current holder append a delegation block, offline, signed with
  its own identity key as a Biscuit third-party block.
* :func:`invoke` lets the last delegate append the invocation block binding audience,
  operation, tool, argument digest, ``jti`` and ``iat``.
* :func:`verify` runs the numbered algorithm of spec/chained.md section "Verification" and
  returns the whole verified chain.

Tokens travel as unpadded base64url of the Biscuit bytes.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Any

import biscuit_auth
from biscuit_auth import (
    AuthorizationError,
    Authorizer,
    AuthorizerBuilder,
    Biscuit,
    BiscuitBlockError,
    BiscuitBuilder,
    BiscuitBuildError,
    BiscuitSerializationError,
    BiscuitValidationError,
    DataLogError,
    PrivateKey,
    PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from . import _chained_datalog as dl
from ._chained_tail import check_attestation, check_completion
from ._chained_wire import read_envelope
from ._completion_wire import (
    ATTESTATION_QUERY,
    COMPLETION_QUERY,
    ChainAttestation,
    ChainCompletion,
)
from ._encoding import b64url_decode, b64url_encode
from ._errors import AIPError
from ._identifiers import parse_identifier
from ._keys import SigningKey
from ._proof import args_hash, digest_equal, is_digest
from ._replay import ReplayCache, check_replay
from ._resolver import Resolver
from ._revocation import RevocationPolicy
from ._scope import check_scopes, scope_allows, scopes_within, tool_scope
from ._time import DEFAULT_SKEW, check_skew

__all__ = [
    "INVOCATION_MAX_AGE",
    "MAX_CONTEXT_LENGTH",
    "ChainHop",
    "ChainInvocation",
    "ChainLimits",
    "ChainRequest",
    "VerifiedChain",
    "chain_delegate",
    "chain_invoke",
    "chain_mint",
    "verify_chain",
]

MAX_CONTEXT_LENGTH = 1024  # characters (AIP-CHN-027)
MAX_MAX_DEPTH = 16
INVOCATION_MAX_AGE = 300  # seconds (AIP-CHN-046)
_JTI_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_OPERATION_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./")
_BAD = "aip_token_malformed"


@dataclass(frozen=True, slots=True)
class ChainLimits:
    """Size and run limits (AIP-CHN-060..063)."""

    max_token_chars: int = 16384
    max_blocks: int = 24
    max_facts: int = 1000
    max_iterations: int = 100
    max_time_ms: int = 50


@dataclass(frozen=True, slots=True)
class ChainRequest:
    """The request actually received, against which the invocation block is checked."""

    audience: str
    operation: str
    tool: str
    arguments: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ChainHop:
    index: int
    delegator: str
    kid: str
    delegate: str
    context: str
    scopes: tuple[str, ...]
    expires: int
    budget_ceiling: int | None
    principal: str | None

    def to_json(self) -> dict[str, Any]:
        return {"block": self.index, "delegator": self.delegator, "kid": self.kid,
                "delegate": self.delegate, "context": self.context, "scopes": list(self.scopes),
                "expires": self.expires, "budget_ceiling": self.budget_ceiling,
                "principal": self.principal}


@dataclass(frozen=True, slots=True)
class ChainInvocation:
    index: int
    invoker: str
    kid: str
    audience: str
    operation: str
    tool: str
    args_hash: str
    jti: str
    iat: int

    def to_json(self) -> dict[str, Any]:
        return {"block": self.index, "invoker": self.invoker, "kid": self.kid,
                "audience": self.audience, "operation": self.operation, "tool": self.tool,
                "args_hash": self.args_hash, "jti": self.jti, "iat": self.iat}


@dataclass(frozen=True, slots=True)
class VerifiedChain:
    """The verified chain: who granted what to whom, every hop, and the invocation."""

    issuer: str
    root_kid: str
    holder: str
    scopes: tuple[str, ...]  # granted by block 0
    max_depth: int  # effective: min(block 0, issuer document)
    expires: int  # block 0
    budget_ceiling: int | None
    principal: str | None
    hops: tuple[ChainHop, ...]
    invocation: ChainInvocation | None
    revocation_ids: tuple[str, ...]
    authorized: bool = False  # True when a request was checked (steps 15..19)
    size: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    completion: ChainCompletion | None = None  # spec/completion.md
    attestations: tuple[ChainAttestation, ...] = ()

    @property
    def depth(self) -> int:
        return len(self.hops)

    @property
    def effective_scopes(self) -> tuple[str, ...]:
        return self.hops[-1].scopes if self.hops else self.scopes

    @property
    def effective_expires(self) -> int:
        return min([self.expires, *(h.expires for h in self.hops)])

    @property
    def last_delegate(self) -> str:
        return self.hops[-1].delegate if self.hops else self.holder

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": "chained", "issuer": self.issuer, "root_kid": self.root_kid,
            "holder": self.holder, "scopes": list(self.scopes), "max_depth": self.max_depth,
            "depth": self.depth, "expires": self.expires, "budget_ceiling": self.budget_ceiling,
            "principal": self.principal, "hops": [h.to_json() for h in self.hops],
            "effective_scopes": list(self.effective_scopes),
            "effective_expires": self.effective_expires,
            "invocation": self.invocation.to_json() if self.invocation else None,
            "revocation_ids": list(self.revocation_ids), "authorized": self.authorized,
            "completion": self.completion.to_json() if self.completion else None,
            "attestations": [a.to_json() for a in self.attestations],
        }


# --- helpers --------------------------------------------------------------------------------

# biscuit-python 0.4's type stubs lag its runtime (``from_bytes`` takes an algorithm,
# ``block_external_key`` returns a PublicKey, limits exist); go through ``Any`` for those.
_BISCUIT: Any = biscuit_auth


def _private(key: SigningKey) -> PrivateKey:
    out: PrivateKey = _BISCUIT.PrivateKey.from_bytes(key.private_key.private_bytes_raw(),
                                                     _BISCUIT.Algorithm.Ed25519)
    return out


@lru_cache(maxsize=1024)
def _public(raw: bytes) -> PublicKey:
    """biscuit-python's key object for ``raw`` (immutable, so memoised per key)."""
    out: PublicKey = _BISCUIT.PublicKey.from_bytes(raw, _BISCUIT.Algorithm.Ed25519)
    return out


def _external_key(token: Biscuit, index: int) -> bytes | None:
    key: Any = token.block_external_key(index)
    return None if key is None else bytes(key.to_bytes())


def _raw(key: Any) -> bytes:
    return bytes(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def _encode(token: Biscuit) -> str:
    return b64url_encode(bytes(token.to_bytes()))


def _decode_token(token: str, limits: ChainLimits) -> bytes:
    if not isinstance(token, str) or not token:
        raise AIPError("aip_token_missing" if not token else _BAD, "no chained token")
    if len(token) > limits.max_token_chars:
        raise AIPError("aip_limit_exceeded",
                       f"token is {len(token)} characters, limit {limits.max_token_chars}")
    return b64url_decode(token, code=_BAD, what="chained token")


@lru_cache(maxsize=4096)
def _identifier_problem(value: str) -> str | None:
    """Why ``value`` is not an AIP identifier, or None (a pure function, so memoized)."""
    try:
        parse_identifier(value)
    except AIPError as exc:
        return exc.reason
    return None


def _check_identifier(value: str, what: str, code: str = _BAD) -> str:
    problem = _identifier_problem(value)
    if problem is not None:
        raise AIPError(code, f"{what}: {problem}")
    return value


# Unicode White_Space (PropList.txt). str.isspace() differs: it also counts U+001C..U+001F.
_WHITE_SPACE = frozenset("\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
                         "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def _check_context(context: str) -> None:
    if all(ch in _WHITE_SPACE for ch in context):
        raise AIPError("aip_context_missing", "delegation context is empty or whitespace")
    if len(context) > MAX_CONTEXT_LENGTH:
        raise AIPError("aip_context_missing",
                       f"delegation context is over {MAX_CONTEXT_LENGTH} characters")


def _scopes(text: str, what: str) -> tuple[str, ...]:
    return check_scopes(text.split(" ") if text else [], code=_BAD, what=what)


def _optional_int(value: int) -> int | None:
    if value < -1:
        raise AIPError(_BAD, "budget_ceiling is below -1")
    return None if value == -1 else value


@lru_cache(maxsize=1024)
def _rule(source: str, signer: bytes | None) -> Any:
    return dl.rule(source, None if signer is None else _public(signer))


def _query(authorizer: Authorizer, source: str, signer: bytes | None = None) -> list[list[Any]]:
    try:
        return [list(f.terms) for f in authorizer.query(_rule(source, signer))]
    except AuthorizationError as exc:  # run limits also bound queries
        raise _authorization_error(exc) from None


# biscuit-python 0.4 reports errors as strings. A failed check's message quotes the check's
# source, which the token chose, so only the library's own prefix decides (AIP-CHN-062):
# a check mentioning "limit" is still a failed check.
_RUN_LIMITS = "Reached Datalog execution limits"  # facts, iterations and time alike
# Failed checks: the policy `allow if true` always matches, so this is the only form. Other
# "authorization failed: " errors (a block rule the library refuses) are not failed checks.
_FAILED_CHECKS = "authorization failed: an allow policy matched"


def _authorization_error(exc: Exception) -> AIPError:
    """The one place where biscuit-python's authorization errors (strings) become codes
    (AIP-CHN-062, AIP-CHN-063)."""
    text = str(exc)
    if text.startswith(_RUN_LIMITS):
        return AIPError("aip_limit_exceeded", "Datalog evaluation exceeded the run limits")
    if text.startswith(_FAILED_CHECKS):
        return AIPError("aip_scope_insufficient", "a Datalog check of the chain failed")
    return AIPError("aip_chain_invalid", f"Datalog evaluation failed: {text[:120]}")


def _authorizer(token: Biscuit, limits: ChainLimits, *, time_: int,
                tool: str | None = None) -> Authorizer:
    source = "time({time}); allow if true;"
    params: dict[str, Any] = {"time": dl.when(time_)}
    if tool is not None:
        source = "tool({tool}); " + source
        params["tool"] = tool
    builder: Any = AuthorizerBuilder(source, params)
    run = builder.limits()
    run.max_facts = limits.max_facts
    run.max_iterations = limits.max_iterations
    run.max_time = timedelta(milliseconds=limits.max_time_ms)
    builder.set_limits(run)
    try:
        built: Authorizer = builder.build(token)
    except (AuthorizationError, DataLogError) as exc:
        raise _authorization_error(exc) from None
    return built


# --- minting ---------------------------------------------------------------------------------

def chain_mint(issuer: SigningKey, *, holder: str, scopes: Sequence[str], expires: int,
               max_depth: int = 3, budget_ceiling: int | None = None,
               principal: str | None = None, extra_datalog: str | None = None) -> str:
    """Mint block 0, signed by ``issuer`` (AIP-CHN-020). Returns the token."""
    _check_identifier(holder, "holder", "aip_input_invalid")
    scopes = check_scopes(list(scopes), code="aip_input_invalid", what="scopes")
    if not 0 <= max_depth <= MAX_MAX_DEPTH:
        raise AIPError("aip_input_invalid", f"max_depth must be 0..{MAX_MAX_DEPTH}")
    if principal:
        _check_identifier(principal, "principal", "aip_input_invalid")
    if budget_ceiling is not None and budget_ceiling < 0:
        raise AIPError("aip_input_invalid", "budget_ceiling must be >= 0")
    block = dl.authority_block(identity=issuer.identity, kid=issuer.kid, holder=holder,
                               scopes=scopes, max_depth=max_depth, expires=expires,
                               budget_ceiling=budget_ceiling, principal=principal,
                               extra=extra_datalog)
    builder = BiscuitBuilder()
    builder.merge(block)
    return _encode(builder.build(_private(issuer)))


def _open(token: str, resolver: Resolver, now: int, skew: int,
          limits: ChainLimits) -> tuple[Biscuit, VerifiedChain]:
    """Holder-side: verify what is there so far (without a request)."""
    chain = verify_chain(token, resolver=resolver, now=now, skew=skew, limits=limits)
    data = _decode_token(token, limits)
    root = resolver.resolve(chain.issuer, now=now).key(chain.root_kid, now, skew)
    return Biscuit.from_bytes(data, _public(_raw(root))), chain


def chain_delegate(token: str, delegator: SigningKey, *, delegate: str, context: str,
                   resolver: Resolver, now: int, scopes: Sequence[str] | None = None,
                   expires: int | None = None, budget_ceiling: int | None = None,
                   principal: str | None = None, skew: int = DEFAULT_SKEW,
                   extra_datalog: str | None = None,
                   limits: ChainLimits = ChainLimits()) -> str:
    """Append a delegation block signed by ``delegator`` (the current holder), offline
    (AIP-CHN-024). Refuses to widen anything (an honest library; verifiers check anyway)."""
    biscuit, chain = _open(token, resolver, now, skew, limits)
    if chain.invocation is not None:
        raise AIPError("aip_chain_invalid", "the chain already ends in an invocation")
    if delegator.identity != chain.last_delegate:
        raise AIPError("aip_chain_invalid",
                       f"{delegator.identity} is not the current holder {chain.last_delegate}")
    if chain.depth + 1 > chain.max_depth:
        raise AIPError("aip_depth_exceeded", f"max_depth {chain.max_depth} reached")
    _check_identifier(delegate, "delegate", "aip_input_invalid")
    _check_context(context)
    parent_scopes = chain.effective_scopes
    new_scopes = parent_scopes if scopes is None else check_scopes(
        list(scopes), code="aip_input_invalid", what="scopes")
    if budget_ceiling is not None and budget_ceiling < 0:  # -1 would drop the ceiling
        raise AIPError("aip_input_invalid", "budget_ceiling must be >= 0")
    if not scopes_within(new_scopes, parent_scopes):
        raise AIPError("aip_attenuation_violation", "scopes are wider than the holder's")
    parent_expires = chain.effective_expires
    new_expires = parent_expires if expires is None else expires
    if new_expires > parent_expires:
        raise AIPError("aip_attenuation_violation", "expiry is later than the holder's")
    parent_budget = chain.hops[-1].budget_ceiling if chain.hops else chain.budget_ceiling
    new_budget = parent_budget if budget_ceiling is None else budget_ceiling
    if parent_budget is not None and (new_budget is None or new_budget > parent_budget):
        raise AIPError("aip_budget_exceeded", "budget ceiling is above the holder's")
    if principal is not None and principal != (chain.principal or principal):
        raise AIPError("aip_attenuation_violation", "principal differs from the chain's")
    block = dl.delegation_block(seq=biscuit.block_count(), delegator=delegator.identity,
                                kid=delegator.kid, delegate=delegate, context=context,
                                scopes=new_scopes, expires=new_expires,
                                budget_ceiling=new_budget, principal=principal,
                                extra=extra_datalog)
    signed = biscuit.third_party_request().create_block(_private(delegator), block)
    return _encode(biscuit.append_third_party(_public(delegator.public_key), signed))


def chain_invoke(token: str, invoker: SigningKey, *, audience: str, operation: str, tool: str,
                 arguments: Mapping[str, Any] | None, resolver: Resolver, now: int,
                 jti: str | None = None, skew: int = DEFAULT_SKEW,
                 limits: ChainLimits = ChainLimits()) -> str:
    """Append the invocation block, signed by the last delegate (AIP-CHN-040)."""
    biscuit, chain = _open(token, resolver, now, skew, limits)
    if chain.invocation is not None:
        raise AIPError("aip_chain_invalid", "the chain already ends in an invocation")
    if invoker.identity != chain.last_delegate:
        raise AIPError("aip_chain_invalid",
                       f"{invoker.identity} is not the last delegate {chain.last_delegate}")
    if not scope_allows(chain.effective_scopes, tool_scope(tool)):
        raise AIPError("aip_scope_insufficient", f"tool {tool[:64]!r} is not within the chain")
    block = dl.invocation_block(seq=biscuit.block_count(), invoker=invoker.identity,
                                kid=invoker.kid, audience=audience, operation=operation,
                                tool=tool, args_hash=args_hash(arguments),
                                jti=jti or b64url_encode(secrets.token_bytes(16)), iat=now)
    signed = biscuit.third_party_request().create_block(_private(invoker), block)
    return _encode(biscuit.append_third_party(_public(invoker.public_key), signed))


# --- verification ----------------------------------------------------------------------------

_SELF_CERTIFYING: dict[tuple[str, str], bytes] = {}


def _signer_key(resolver: Resolver, identity: str, kid: str, now: int, skew: int) -> bytes:
    """The key ``kid`` of ``identity``, from the resolver. An ``aip:key`` identity's key is
    its identifier (independent of resolver and time), so that answer is memoized."""
    memo = (identity, kid)
    if identity.startswith("aip:key:") and memo in _SELF_CERTIFYING:
        return _SELF_CERTIFYING[memo]
    raw = _raw(resolver.resolve(identity, now=now).key(kid, now, skew))
    if identity.startswith("aip:key:"):
        if len(_SELF_CERTIFYING) >= 4096:
            _SELF_CERTIFYING.clear()
        _SELF_CERTIFYING[memo] = raw
    return raw


def verify_chain(
    token: str,
    *,
    resolver: Resolver,
    now: int,
    skew: int = DEFAULT_SKEW,
    request: ChainRequest | None = None,
    require_invocation: bool = False,
    replay_cache: ReplayCache | None = None,
    revocation: RevocationPolicy | None = None,
    limits: ChainLimits = ChainLimits(),
    trusted_attesters: frozenset[str] | None = None,
) -> VerifiedChain:
    """Verify a chained token (spec/chained.md, "Verification", steps 1..20; completion and
    attestation blocks as spec/completion.md, steps C1..C5 and T1..T4).

    ``trusted_attesters``, when given, limits third-party attestations to those identities."""
    check_skew(skew)
    # 1. Size and encoding.
    data = _decode_token(token, limits)
    # 2. Envelope.
    envelope = read_envelope(data, max_blocks=limits.max_blocks)
    # 3. Claimed root identity and key id, read from the wire (a hint, confirmed in step 6).
    claims = [terms for name, terms in envelope.authority_facts if name == "aip_authority"]
    if len(claims) != 1:
        raise AIPError("aip_chain_invalid", "block 0 does not carry exactly one aip_authority "
                       "fact (a draft-01 token or not an AIP token)")
    hint = claims[0]
    if len(hint) != 8 or not isinstance(hint[0], str) or not isinstance(hint[1], str):
        raise AIPError(_BAD, "aip_authority fact has the wrong shape")
    issuer, root_kid = hint[0], hint[1]
    _check_identifier(issuer, "block 0 identity")
    # 4. The root identity must be trusted; its key comes from its identity, never the token.
    if issuer not in resolver.trust_store.trusted_issuers:
        raise AIPError("aip_identity_unresolvable", f"{issuer} is not a trusted issuer")
    resolved_root = resolver.resolve(issuer, now=now)
    root_key = _signer_key(resolver, issuer, root_kid, now, skew)
    # 5. Signatures of every block.
    try:
        biscuit = Biscuit.from_bytes(data, _public(root_key))
    except (BiscuitValidationError, BiscuitSerializationError, BiscuitBlockError,
            BiscuitBuildError, ValueError):
        raise AIPError("aip_signature_invalid",
                       "the token does not verify under the root identity's key") from None
    count = biscuit.block_count()
    time_floor = now - skew
    authorizer = _authorizer(biscuit, limits, time_=time_floor,
                             tool=tool_scope(request.tool, code="aip_input_invalid")
                             if request is not None else None)
    # 6. Block 0, read through the authorizer.
    rows = _query(authorizer, dl.AUTHORITY_QUERY)
    if len(rows) != 1 or rows[0][0] != issuer or rows[0][1] != root_kid:
        raise AIPError(_BAD, "block 0's aip_authority fact is not one well-typed fact")
    _, _, holder, scope_text, max_depth, expires_at, budget, principal = rows[0]
    _check_identifier(holder, "block 0 holder")
    scopes = _scopes(scope_text, "block 0 scopes")
    if not 0 <= max_depth <= MAX_MAX_DEPTH:
        raise AIPError(_BAD, f"block 0 max_depth is not 0..{MAX_MAX_DEPTH}")
    if principal:
        _check_identifier(principal, "block 0 principal")
    expires = dl.epoch(expires_at)
    if time_floor > expires:
        raise AIPError("aip_token_expired", "the token (block 0) has expired")
    limit_depth = max_depth if resolved_root.max_depth is None else min(
        max_depth, resolved_root.max_depth)
    budget_ceiling = _optional_int(budget)
    # 7..12. The structural walk.
    hops: list[ChainHop] = []
    invocation: ChainInvocation | None = None
    completion: ChainCompletion | None = None
    attestations: list[ChainAttestation] = []

    def signer(identity: str, kid: str) -> bytes:
        return _signer_key(resolver, identity, kid, now, skew)

    def identifier_ok(value: str) -> bool:
        return _identifier_problem(value) is None
    signing_keys: list[tuple[str, str]] = [(issuer, root_kid)]
    prev_delegate, prev_scopes, prev_expires = holder, scopes, expires
    prev_budget, chain_principal = budget_ceiling, principal or None
    for index in range(1, count):
        external = _external_key(biscuit, index)
        # 7. Every block after block 0 is a third-party block.
        if external is None:
            raise AIPError("aip_chain_invalid", f"block {index} is not a third-party block "
                           "(a plain append, as in draft-01)")
        # 8. Exactly one AIP fact for this block, from a block signed by its external key.
        found = [r for r in _query(authorizer, dl.DELEGATION_QUERY, external) if r[0] == index]
        if not found:
            kind = _tail_kind(authorizer, external, index)
            if kind is None:
                raise AIPError("aip_chain_invalid", f"block {index} carries no AIP fact "
                               "(unknown block kind, or a fact of the wrong shape)")
            name, rows = kind
            if name == "invocation":
                if completion is not None:
                    raise AIPError("aip_completion_invalid", f"block {index}: an invocation "
                                   "block follows the completion")
                if invocation is not None:
                    raise AIPError("aip_chain_invalid", f"block {index} is a second invocation")
                invocation = _invocation(rows, index, prev_delegate, resolver, now, skew,
                                         external)
                signing_keys.append((invocation.invoker, invocation.kid))
            elif name == "completion":
                completion = check_completion(rows, index, invocation=invocation,
                                              previous=completion, signer=signer,
                                              external=external, identifier_ok=identifier_ok,
                                              now=now, skew=skew)
                signing_keys.append((completion.executor, completion.kid))
            else:
                attestation = check_attestation(
                    rows, index, completion=completion,
                    last_delegator=hops[-1].delegator if hops else issuer, signer=signer,
                    external=external, identifier_ok=identifier_ok, now=now, skew=skew,
                    trusted_attesters=trusted_attesters)
                attestations.append(attestation)
                signing_keys.append((attestation.attester, attestation.kid))
            continue
        if completion is not None:
            raise AIPError("aip_completion_invalid", f"block {index}: a delegation block "
                           "follows the completion")
        if invocation is not None:
            raise AIPError("aip_chain_invalid", f"block {index}: a delegation block follows "
                           "the invocation")
        if len(found) != 1:
            raise AIPError("aip_chain_invalid", f"block {index} is not one delegation block "
                           "(a missing or duplicate fact)")
        hop = _hop(found[0], index)
        # 9. The link: this block's delegator is the previous delegate.
        if hop.delegator != prev_delegate:
            raise AIPError("aip_chain_invalid", f"block {index} delegator {hop.delegator} is "
                           f"not the previous delegate {prev_delegate}")
        # 10. The block is signed by the delegator's own identity key.
        if _signer_key(resolver, hop.delegator, hop.kid, now, skew) != external:
            raise AIPError("aip_signature_invalid", f"block {index} is not signed by a key of "
                           f"its delegator {hop.delegator}")
        signing_keys.append((hop.delegator, hop.kid))
        # 11. Context.
        _check_context(hop.context)
        # 12. Attenuation.
        if not scopes_within(hop.scopes, prev_scopes):
            raise AIPError("aip_attenuation_violation", f"block {index} widens the scopes")
        if hop.expires > prev_expires:
            raise AIPError("aip_attenuation_violation", f"block {index} extends the expiry")
        if prev_budget is not None and (hop.budget_ceiling is None
                                        or hop.budget_ceiling > prev_budget):
            raise AIPError("aip_budget_exceeded", f"block {index} raises the budget ceiling")
        if hop.principal is not None and chain_principal is not None \
                and hop.principal != chain_principal:
            raise AIPError("aip_attenuation_violation", f"block {index} changes the principal")
        if hop.principal is not None and chain_principal is None:
            raise AIPError("aip_attenuation_violation", f"block {index} adds a principal")
        if time_floor > hop.expires:
            raise AIPError("aip_token_expired", f"block {index} has expired")
        hops.append(hop)
        prev_delegate, prev_scopes, prev_expires = hop.delegate, hop.scopes, hop.expires
        prev_budget = hop.budget_ceiling
    # 13. Depth counts delegation blocks only.
    if len(hops) > limit_depth:
        raise AIPError("aip_depth_exceeded",
                       f"{len(hops)} delegation blocks, max_depth {limit_depth}")
    # 14. Revocation.
    revocation_ids = tuple(biscuit.revocation_ids)
    if revocation is not None:
        revocation.check(root=issuer, revocation_ids=revocation_ids, keys=signing_keys)
    chain = VerifiedChain(issuer, root_kid, holder, scopes, limit_depth, expires,
                          budget_ceiling, chain_principal, tuple(hops), invocation,
                          revocation_ids, size=len(data), completion=completion,
                          attestations=tuple(attestations))
    if request is None:
        if require_invocation and invocation is None:
            raise AIPError("aip_proof_missing", "the chain has no invocation block")
        return chain
    # 15..20. The request. A completed invocation is no authority for a new one (AIP-CMP-008).
    if completion is not None:
        raise AIPError("aip_completion_invalid", "the chain is completed; a completed "
                       "invocation does not authorize a request")
    _authorize(chain, request, authorizer, now=now, skew=skew,
               require_invocation=require_invocation, replay_cache=replay_cache)
    return VerifiedChain(issuer, root_kid, holder, scopes, limit_depth, expires,
                         budget_ceiling, chain_principal, tuple(hops), invocation,
                         revocation_ids, authorized=True, size=len(data))


def _tail_kind(authorizer: Authorizer, external: bytes,
               index: int) -> tuple[str, list[list[Any]]] | None:
    """The kind and rows of a block that is not a delegation block: invocation, completion or
    attestation (queried in that order; the first kind with a fact for ``index`` wins)."""
    for name, query in (("invocation", dl.INVOCATION_QUERY), ("completion", COMPLETION_QUERY),
                        ("attestation", ATTESTATION_QUERY)):
        rows = [r for r in _query(authorizer, query, external) if r[0] == index]
        if rows:
            return name, rows
    return None


def _hop(row: list[Any], index: int) -> ChainHop:
    _, delegator, kid, delegate, context, scope_text, expires_at, budget, principal = row
    _check_identifier(delegator, f"block {index} delegator")
    _check_identifier(delegate, f"block {index} delegate")
    if principal:
        _check_identifier(principal, f"block {index} principal")
    return ChainHop(index, delegator, kid, delegate, context, _scopes(scope_text, f"block {index} "
               "scopes"), dl.epoch(expires_at), _optional_int(budget), principal or None)


def _invocation(rows: list[list[Any]], index: int, last_delegate: str, resolver: Resolver,
                now: int, skew: int, external: bytes) -> ChainInvocation:
    if len(rows) != 1:
        raise AIPError("aip_chain_invalid", f"block {index} carries more than one invocation")
    _, invoker, kid, audience, operation, tool, digest, jti, iat = rows[0]
    _check_identifier(invoker, f"block {index} invoker")
    if not is_digest(digest):
        raise AIPError(_BAD, "invocation args_hash is not sha256:<64 hex>")
    if not 8 <= len(jti) <= 128 or not set(jti) <= _JTI_CHARS:
        raise AIPError(_BAD, "invocation jti is not 8..128 base64url characters")
    if not operation or not set(operation) <= _OPERATION_CHARS or len(operation) > 128:
        raise AIPError(_BAD, "invocation operation is not 1..128 of [A-Za-z0-9-_./]")
    if not audience or len(audience) > 512:
        raise AIPError(_BAD, "invocation audience is not 1..512 characters")
    # 9'. The invocation is made by the last delegate...
    if invoker != last_delegate:
        raise AIPError("aip_chain_invalid", f"the invocation is made by {invoker}, not the "
                       f"last delegate {last_delegate}")
    # 10'. ...and signed by a key of that identity.
    if _signer_key(resolver, invoker, kid, now, skew) != external:
        raise AIPError("aip_signature_invalid", f"the invocation is not signed by a key of "
                       f"{invoker}")
    return ChainInvocation(index, invoker, kid, audience, operation, tool, digest, jti,
                      dl.epoch(iat))


def _authorize(chain: VerifiedChain, request: ChainRequest, authorizer: Authorizer, *,
               now: int, skew: int, require_invocation: bool,
               replay_cache: ReplayCache | None) -> None:
    required = tool_scope(request.tool, code="aip_input_invalid")
    digest = args_hash(request.arguments)
    call = chain.invocation
    # 15. ChainInvocation present when required.
    if call is None and require_invocation:
        raise AIPError("aip_proof_missing", "the chain has no invocation block")
    if call is not None:
        # 16. Bound to this request.
        if call.audience != request.audience:
            raise AIPError("aip_audience_mismatch", "the invocation is for another audience")
        if call.operation != request.operation or call.tool != request.tool:
            raise AIPError("aip_invocation_mismatch",
                           "the invocation names another operation or tool")
        if not digest_equal(call.args_hash, digest):
            raise AIPError("aip_invocation_mismatch",
                           "the invocation's argument digest does not match the arguments")
        # 17. Fresh.
        if call.iat > now + skew:
            raise AIPError("aip_token_not_yet_valid", "the invocation is issued in the future")
        if now - skew > call.iat + INVOCATION_MAX_AGE:
            raise AIPError("aip_proof_invalid", "the invocation is older than "
                           f"{INVOCATION_MAX_AGE} s")
    # 18. Scope, structurally, at every hop.
    for scopes in (chain.scopes, *(h.scopes for h in chain.hops)):
        if not scope_allows(scopes, required):
            raise AIPError("aip_scope_insufficient",
                           f"{required[:80]!r} is not within the chain's scopes")
    # 19. Datalog evaluation under run limits.
    try:
        authorizer.authorize()
    except (AuthorizationError, DataLogError) as exc:
        raise _authorization_error(exc) from None
    # 20. Replay, last, so a refused request never burns a jti.
    if call is not None and replay_cache is not None:
        check_replay(replay_cache, holder=call.invoker, jti=call.jti, issued_at=call.iat,
                     expires_at=call.iat + INVOCATION_MAX_AGE + skew, now=now, skew=skew)
