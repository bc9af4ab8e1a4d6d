"""The canonical Datalog of chained-mode blocks (spec/chained.md, AIP-CHN-020..034).

Every value reaches Datalog through biscuit-python's typed parameters (``{name}`` holes),
never by pasting text into source: a context string full of quotes and ``check if`` stays one
string term. Every block carries exactly one AIP fact holding everything the structural walk
needs, made of simple terms only (strings, integers, dates), plus its own self-contained
scope check and expiry check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from biscuit_auth import BlockBuilder, Rule

__all__ = [
    "AUTHORITY_FACT",
    "AUTHORITY_QUERY",
    "DELEGATION_FACT",
    "DELEGATION_QUERY",
    "INVOCATION_FACT",
    "INVOCATION_QUERY",
    "authority_block",
    "delegation_block",
    "epoch",
    "invocation_block",
    "scope_check",
    "when",
]

AUTHORITY_FACT = ("aip_authority({identity}, {kid}, {holder}, {scopes}, {max_depth}, {expires}, "
                  "{budget_ceiling}, {principal});")
DELEGATION_FACT = ("aip_delegation({seq}, {delegator}, {kid}, {delegate}, {context}, {scopes}, "
                   "{expires}, {budget_ceiling}, {principal});")
INVOCATION_FACT = ("aip_invocation({seq}, {invoker}, {kid}, {audience}, {operation}, {tool}, "
                   "{args_hash}, {jti}, {iat});")

# Queries name the type of every term, so a fact of the right name but the wrong shape is
# simply not returned (and never reaches biscuit-python's term conversion).
_S, _I, _D = '"string"', '"integer"', '"date"'


def _typed(head: str, body: str, types: Sequence[str]) -> str:
    names = [f"$v{i}" for i in range(len(types))]
    guards = ", ".join(f"{n}.type() == {t}" for n, t in zip(names, types, strict=True))
    args = ", ".join(names)
    return f"{head}({args}) <- {body}({args}), {guards}"


AUTHORITY_QUERY = _typed("q", "aip_authority", [_S, _S, _S, _S, _I, _D, _I, _S])
DELEGATION_QUERY = _typed("q", "aip_delegation", [_I, _S, _S, _S, _S, _S, _D, _I, _S]) \
    + " trusting {signer}"
INVOCATION_QUERY = _typed("q", "aip_invocation", [_I, _S, _S, _S, _S, _S, _S, _S, _D]) \
    + " trusting {signer}"
# Any fact of these names, whatever its shape: used to tell "wrong shape" from "absent".
AUTHORITY_ANY = "q($x) <- aip_authority($x, $a, $b, $c, $d, $e, $f, $g)"


def when(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def epoch(value: Any) -> int:
    assert isinstance(value, datetime)
    return int(value.timestamp())


def scope_check(scopes: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """One self-contained check granting exactly ``scopes`` (AIP-CHN-023): exact scopes by set
    membership, prefix scopes ``p:*`` by ``starts_with``, ``*`` by any ``tool`` fact."""
    if "*" in scopes:
        return "check if tool($t);", {}
    exact = {s for s in scopes if not s.endswith("*")}
    prefixes = sorted(s[:-1] for s in scopes if s.endswith("*"))
    params: dict[str, Any] = {}
    parts: list[str] = []
    if exact:
        params["aip_exact"] = exact
        parts.append("tool($t), {aip_exact}.contains($t)")
    for i, prefix in enumerate(prefixes):
        params[f"aip_prefix{i}"] = prefix
        parts.append(f"tool($t), $t.starts_with({{aip_prefix{i}}})")
    return "check if " + " or ".join(parts) + ";", params


def _with_checks(fact: str, params: Mapping[str, Any], scopes: Sequence[str],
                 expires: int, extra: str | None) -> BlockBuilder:
    block = BlockBuilder(fact, dict(params))
    check, check_params = scope_check(scopes)
    block.add_code(check, check_params)
    block.add_code("check if time($t), $t <= {aip_expires};", {"aip_expires": when(expires)})
    if extra:
        block.add_code(extra)
    return block


def authority_block(*, identity: str, kid: str, holder: str, scopes: Sequence[str],
                    max_depth: int, expires: int, budget_ceiling: int | None,
                    principal: str | None, extra: str | None = None) -> BlockBuilder:
    params = {"identity": identity, "kid": kid, "holder": holder, "scopes": " ".join(scopes),
              "max_depth": max_depth, "expires": when(expires),
              "budget_ceiling": -1 if budget_ceiling is None else budget_ceiling,
              "principal": principal or ""}
    return _with_checks(AUTHORITY_FACT, params, scopes, expires, extra)


def delegation_block(*, seq: int, delegator: str, kid: str, delegate: str, context: str,
                     scopes: Sequence[str], expires: int, budget_ceiling: int | None,
                     principal: str | None, extra: str | None = None) -> BlockBuilder:
    params = {"seq": seq, "delegator": delegator, "kid": kid, "delegate": delegate,
              "context": context, "scopes": " ".join(scopes), "expires": when(expires),
              "budget_ceiling": -1 if budget_ceiling is None else budget_ceiling,
              "principal": principal or ""}
    return _with_checks(DELEGATION_FACT, params, scopes, expires, extra)


def invocation_block(*, seq: int, invoker: str, kid: str, audience: str, operation: str,
                     tool: str, args_hash: str, jti: str, iat: int) -> BlockBuilder:
    return BlockBuilder(INVOCATION_FACT, {
        "seq": seq, "invoker": invoker, "kid": kid, "audience": audience,
        "operation": operation, "tool": tool, "args_hash": args_hash, "jti": jti,
        "iat": when(iat)})


def rule(source: str, signer: Any = None) -> Rule:
    return Rule(source, None, {"signer": signer} if signer is not None else None)
