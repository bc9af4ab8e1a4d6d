"""Chained mode through the public API (spec/chained.md): mint, delegate offline, invoke, verify."""

from __future__ import annotations

import pytest
from biscuit_auth import AuthorizationError

from aip import (
    AIPError,
    ChainRequest,
    Resolver,
    TrustStore,
    chain_delegate,
    chain_invoke,
    chain_mint,
    generate_key,
    verify_chain,
)
from aip._chained import _authorization_error
from aip._chained_wire import read_envelope
from aip._encoding import b64url_decode
from aip._replay import MemoryReplayCache

NOW = 1767225600
AUD = "https://tools.example/mcp"


@pytest.fixture()
def parties() -> dict[str, object]:
    keys = {n: generate_key() for n in ("root", "a", "b", "c", "mallory")}
    return {"keys": keys, "resolver": Resolver(TrustStore({}, [keys["root"].identity]))}


def _chain(p: dict[str, object], depth: int) -> str:
    keys = p["keys"]
    resolver = p["resolver"]
    assert isinstance(keys, dict) and isinstance(resolver, Resolver)
    order = ["a", "b", "c", "a"]
    token = chain_mint(keys["root"], holder=keys["a"].identity, scopes=["tool:*"],
                       expires=NOW + 3600, max_depth=3)
    for i in range(depth):
        token = chain_delegate(token, keys[order[i]], delegate=keys[order[i + 1]].identity,
                               context=f"hop {i + 1}", resolver=resolver, now=NOW,
                               scopes=["tool:search"])
    return token


def test_round_trip_returns_every_hop_and_the_invocation(parties: dict[str, object]) -> None:
    keys, resolver = parties["keys"], parties["resolver"]
    assert isinstance(keys, dict) and isinstance(resolver, Resolver)
    token = chain_invoke(_chain(parties, 2), keys["c"], audience=AUD, operation="tools/call",
                         tool="search", arguments={"q": 1}, resolver=resolver, now=NOW)
    chain = verify_chain(token, resolver=resolver, now=NOW, require_invocation=True,
                         request=ChainRequest(AUD, "tools/call", "search", {"q": 1}),
                         replay_cache=MemoryReplayCache(trusted_since=0))
    assert chain.authorized and chain.depth == 2
    assert [h.delegate for h in chain.hops] == [keys["b"].identity, keys["c"].identity]
    assert chain.invocation is not None and chain.invocation.invoker == keys["c"].identity
    assert chain.effective_scopes == ("tool:search",)


def test_holder_cannot_widen_or_act_for_someone_else(parties: dict[str, object]) -> None:
    keys, resolver = parties["keys"], parties["resolver"]
    assert isinstance(keys, dict) and isinstance(resolver, Resolver)
    token = _chain(parties, 1)
    with pytest.raises(AIPError) as exc:
        chain_delegate(token, keys["b"], delegate=keys["c"].identity, context="x",
                       resolver=resolver, now=NOW, scopes=["*"])
    assert exc.value.code == "aip_attenuation_violation"
    with pytest.raises(AIPError) as exc:
        chain_delegate(token, keys["mallory"], delegate=keys["c"].identity, context="x",
                       resolver=resolver, now=NOW)
    assert exc.value.code == "aip_chain_invalid"
    with pytest.raises(AIPError) as exc:
        chain_delegate(token, keys["b"], delegate=keys["c"].identity, context="  ",
                       resolver=resolver, now=NOW)
    assert exc.value.code == "aip_context_missing"


def test_depth_limit_is_enforced_when_delegating(parties: dict[str, object]) -> None:
    keys, resolver = parties["keys"], parties["resolver"]
    assert isinstance(keys, dict) and isinstance(resolver, Resolver)
    token = _chain(parties, 3)
    with pytest.raises(AIPError) as exc:
        chain_delegate(token, keys["a"], delegate=keys["b"].identity, context="more",
                       resolver=resolver, now=NOW)
    assert exc.value.code == "aip_depth_exceeded"


def test_hostile_context_is_one_inert_string(parties: dict[str, object]) -> None:
    keys, resolver = parties["keys"], parties["resolver"]
    assert isinstance(keys, dict) and isinstance(resolver, Resolver)
    hostile = 'x"); delegate("mallory"); check if false; //'
    token = chain_mint(keys["root"], holder=keys["a"].identity, scopes=["tool:search"],
                       expires=NOW + 60)
    token = chain_delegate(token, keys["a"], delegate=keys["b"].identity, context=hostile,
                           resolver=resolver, now=NOW)
    chain = verify_chain(token, resolver=resolver, now=NOW,
                         request=ChainRequest(AUD, "tools/call", "search", {}))
    assert chain.hops[0].context == hostile and chain.hops[0].delegate == keys["b"].identity


def test_untrusted_root_and_missing_request_invocation(parties: dict[str, object]) -> None:
    keys, resolver = parties["keys"], parties["resolver"]
    assert isinstance(keys, dict) and isinstance(resolver, Resolver)
    rogue = chain_mint(keys["mallory"], holder=keys["a"].identity, scopes=["*"], expires=NOW + 60)
    with pytest.raises(AIPError) as exc:
        verify_chain(rogue, resolver=resolver, now=NOW)
    assert exc.value.code == "aip_identity_unresolvable"
    with pytest.raises(AIPError) as exc:
        verify_chain(_chain(parties, 1), resolver=resolver, now=NOW, require_invocation=True)
    assert exc.value.code == "aip_proof_missing"


def test_envelope_reader_reports_third_party_blocks(parties: dict[str, object]) -> None:
    envelope = read_envelope(b64url_decode(_chain(parties, 2), code="aip_token_malformed",
                                           what="t"), max_blocks=24)
    assert envelope.block_count == 3 and envelope.authority_facts[0][0] == "aip_authority"
    with pytest.raises(AIPError) as exc:
        read_envelope(b"\x12\xff\xff", max_blocks=24)
    assert exc.value.code == "aip_token_malformed"


def test_biscuit_errors_map_to_codes_in_one_place() -> None:
    # AIP-CHN-062: limits -> aip_limit_exceeded, failed checks -> aip_scope_insufficient.
    assert _authorization_error(AuthorizationError("Reached Datalog execution limits")).code \
        == "aip_limit_exceeded"
    assert _authorization_error(AuthorizationError(
        "authorization failed: an allow policy matched (policy index: 0), and the following "
        "checks failed: Check n°0 in block n°1: check if false")).code \
        == "aip_scope_insufficient"
    # A failed check's message quotes its source: a check mentioning limits is still a failed
    # check, and an evaluation error (type error, overflow) is neither (AIP-CHN-063).
    assert _authorization_error(AuthorizationError(
        "authorization failed: an allow policy matched (policy index: 0), and the following "
        'checks failed: Check n°2 in block n°1: check if tool("over the limit")')).code \
        == "aip_scope_insufficient"
    assert _authorization_error(AuthorizationError(
        "Datalog  execution failure: Invalid type")).code == "aip_chain_invalid"
