"""Independent checks of chained tokens an implementation minted, delegated or invoked.

Valid ``chained.mint``, ``chained.delegate`` and ``chained.invoke`` answers cannot be compared
by value (biscuit signs every block with a fresh random key), so the runner passes each case's
input and the answer's output here (same shape as ``checks_compact.OUTPUT_CHECKS``). Each
check returns a list of problems, empty when the token is right, using only biscuit-python,
cryptography and rfc8785 and the structural rules of spec/chained.md:

* the token is unpadded base64url of a Biscuit that verifies under the root key;
* ``chained.mint``: block 0 carries exactly the ``aip_authority`` fact the input asked for
  (budget ceiling ``-1`` and principal ``""`` when the input has none);
* ``chained.delegate``: the input token's blocks are kept byte for byte, one third-party
  block is added whose external key is the delegator's key, carrying the one
  ``aip_delegation`` fact asked for (seq, delegator, kid, delegate, context, scopes, expiry,
  budget ceiling; scopes, expiry and ceiling the input leaves out are the holder's, read from
  the input token: AIP-CHN-082), with a principal of ``""`` or block 0's;
* ``chained.invoke``: likewise one third-party ``aip_invocation`` block binding the request,
  with a generated ``jti`` of 8..128 base64url characters when the input gives none;
* the new block's own checks (AIP-CHN-020, AIP-CHN-022, AIP-CHN-023) are probed by running
  the token under the verifier's ambient facts (``time``, ``tool``; AIP-CHN-051): a tool the
  block's scopes grant passes at its expiry, a tool they do not grant fails (probes from the
  scopes themselves and near misses), and one second after the expiry fails.

Facts are read only through authorizer queries (``trusting`` the block's external key),
never from printed Datalog. The root public key of a delegate/invoke case is given in the
case input as ``check.root_public_key`` (base64url); implementations ignore ``check``.
Never imports ``aip``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import biscuit_auth
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ._b64 import b64url_or_none as _b64d

__all__ = ["OUTPUT_CHECKS", "check_delegated", "check_invoked", "check_minted", "check_output"]

_B: Any = biscuit_auth
_S, _I, _D = '"string"', '"integer"', '"date"'


def _private_public(jwk: object) -> tuple[str, str, bytes] | None:
    if not isinstance(jwk, Mapping):
        return None
    seed = _b64d(jwk.get("d"))
    identity = jwk.get("aip_id")
    if seed is None or len(seed) != 32 or not isinstance(identity, str):
        return None
    raw = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)
    kid = jwk.get("kid", identity)
    return identity, str(kid), raw


def _query(authorizer: Any, predicate: str, types: list[str], signer: bytes | None) -> list[Any]:
    names = [f"$v{i}" for i in range(len(types))]
    guards = ", ".join(f"{n}.type() == {t}" for n, t in zip(names, types, strict=True))
    source = f"q({', '.join(names)}) <- {predicate}({', '.join(names)}), {guards}"
    if signer is None:
        rule = _B.Rule(source)
    else:
        rule = _B.Rule(source + " trusting {k}", None,
                       {"k": _B.PublicKey.from_bytes(signer, _B.Algorithm.Ed25519)})
    return [list(f.terms) for f in authorizer.query(rule)]


def _authorizer(biscuit: Any, source: str = "allow if true;",
                params: dict[str, Any] | None = None) -> Any:
    """An authorizer for the token, with biscuit-python's default fact and iteration limits
    but a time limit of seconds, not its default 1 ms, so that a loaded machine never turns
    a check of the suite into a spurious failure."""
    builder = _B.AuthorizerBuilder(source, params or {})
    limits = builder.limits()
    limits.max_time = timedelta(seconds=5)
    builder.set_limits(limits)
    return builder.build(biscuit)


def _open(token: object, root: bytes, problems: list[str]) -> tuple[Any, Any, bytes] | None:
    data = _b64d(token)
    if data is None:
        problems.append("output.token is not unpadded base64url")
        return None
    try:
        biscuit = _B.Biscuit.from_bytes(data, _B.PublicKey.from_bytes(root, _B.Algorithm.Ed25519))
        return biscuit, _authorizer(biscuit), data
    except Exception as exc:  # any biscuit failure is a problem to report, not a crash
        problems.append(f"token does not verify under the root key: {exc}")
        return None


def _epoch(value: Any) -> int:
    return int(value.timestamp())


_PROBE = "aip-probe"
_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _grants(scopes: list[str], tool: str) -> bool:
    """Whether the scope list grants the ``tool`` fact ``tool`` (AIP-CHN-023's meaning)."""
    return any(s == "*" or s == tool or (s.endswith("*") and tool.startswith(s[:-1]))
               for s in scopes)


def _candidates(scope_lists: list[list[str]]) -> list[str]:
    """Tool facts to probe: what each scope grants and near misses of it."""
    out = {"tool:" + _PROBE, _PROBE}
    for scopes in scope_lists:
        for s in scopes:
            if s == "*":
                continue
            if s.endswith("*"):
                prefix = s[:-1]
                out |= {prefix + _PROBE, prefix[:-1] + _PROBE, prefix[:1] + _PROBE}
            else:
                out |= {s, s + "x", s[:-1]}
    return sorted(out)


def _passes(biscuit: Any, tool: str, when: int) -> bool:
    """Whether every check of the token passes under the verifier's ambient facts."""
    try:
        _authorizer(biscuit, "time({time}); tool({tool}); allow if true;",
                    {"time": datetime.fromtimestamp(when, tz=UTC), "tool": tool}).authorize()
    except Exception:  # a failed check (or any failure) is "does not pass"
        return False
    return True


def _probe_checks(biscuit: Any, scopes: list[str], expires: int, parent: list[str] | None,
                  problems: list[str]) -> None:
    """The new block's scope check grants exactly ``scopes`` and its expiry check passes
    until ``expires`` (AIP-CHN-020, AIP-CHN-022, AIP-CHN-023). With a ``parent`` scope list
    (the holder's, which the earlier blocks grant), only tools the parent grants are probed,
    so that a failure is the new block's."""
    for tool in _candidates([scopes, parent or []]):
        if parent is not None and not _grants(parent, tool):
            continue
        want = _grants(scopes, tool)
        if _passes(biscuit, tool, expires) != want:
            problems.append(f"the new block's checks {'refuse' if want else 'grant'} tool "
                            f"{tool!r} (scopes {' '.join(scopes)!r})")
    granted = next((t for t in _candidates([scopes]) if _grants(scopes, t)), None)
    if granted is not None and _passes(biscuit, granted, expires + 1):
        problems.append("the new block's checks still pass one second after its expiry")


def check_minted(case_input: Mapping[str, Any], output: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    key = _private_public(case_input.get("key"))
    if key is None:
        return ["case input has no usable key"]
    identity, kid, raw = key
    opened = _open(output.get("token"), raw, problems)
    if opened is None:
        return problems
    biscuit, authorizer, _ = opened
    if biscuit.block_count() != 1:
        problems.append(f"{biscuit.block_count()} blocks, expected 1")
    rows = _query(authorizer, "aip_authority", [_S, _S, _S, _S, _I, _D, _I, _S], None)
    if len(rows) != 1:
        return [*problems, f"{len(rows)} well-typed aip_authority facts, expected 1"]
    got = rows[0]
    want = [identity, kid, case_input.get("holder"), " ".join(case_input.get("scopes") or []),
            case_input.get("max_depth", 3)]
    for name, a, b in zip(["identity", "kid", "holder", "scopes", "max_depth"], got, want,
                          strict=False):
        if a != b:
            problems.append(f"aip_authority {name} is {a!r}, expected {b!r}")
    if "expires" in case_input and _epoch(got[5]) != case_input["expires"]:
        problems.append("aip_authority expires differs from the input")
    budget = case_input.get("budget_ceiling")
    if got[6] != (-1 if budget is None else budget):
        problems.append(f"aip_authority budget_ceiling is {got[6]!r}, expected "
                        f"{-1 if budget is None else budget!r}")
    if got[7] != (case_input.get("principal") or ""):
        problems.append(f"aip_authority principal is {got[7]!r}, expected "
                        f"{case_input.get('principal') or ''!r}")
    scopes = case_input.get("scopes")
    if isinstance(scopes, list) and all(isinstance(x, str) for x in scopes):
        _probe_checks(biscuit, scopes, _epoch(got[5]), None, problems)
    return problems


@dataclass
class _Holder:
    """What the input token grants its last holder: scopes and budget ceiling of the last
    delegation block (block 0's when there is none), the earliest expiry, block 0's
    principal."""

    scopes: str
    expires: int
    budget: int
    principal: str


def _holder(before: bytes, root: bytes) -> _Holder | None:
    try:
        biscuit = _B.Biscuit.from_bytes(before, _B.PublicKey.from_bytes(root, _B.Algorithm.Ed25519))
        authorizer = _authorizer(biscuit)
    except Exception:  # the input token is the vector's; an unreadable one gives no holder
        return None
    rows = _query(authorizer, "aip_authority", [_S, _S, _S, _S, _I, _D, _I, _S], None)
    if len(rows) != 1:
        return None
    root_row = rows[0]
    held = _Holder(root_row[3], _epoch(root_row[5]), root_row[6], root_row[7])
    for index in range(1, biscuit.block_count()):
        external = biscuit.block_external_key(index)
        if external is None:
            continue
        for row in _query(authorizer, "aip_delegation", [_I, _S, _S, _S, _S, _S, _D, _I, _S],
                          bytes(external.to_bytes())):
            if row[0] == index:
                held.scopes, held.budget = row[5], row[7]
                held.expires = min(held.expires, _epoch(row[6]))
    return held


def _appended(case_input: Mapping[str, Any], output: Mapping[str, Any],
              problems: list[str]) -> tuple[Any, Any, bytes, tuple[str, str, bytes]] | None:
    check = case_input.get("check") or {}
    root = _b64d(check.get("root_public_key")) if isinstance(check, Mapping) else None
    key = _private_public(case_input.get("key"))
    before = _b64d(case_input.get("token"))
    if root is None or key is None or before is None:
        problems.append("case input lacks token, key or check.root_public_key")
        return None
    opened = _open(output.get("token"), root, problems)
    if opened is None:
        return None
    biscuit, authorizer, data = opened
    if not data.startswith(before[:_prefix_end(before)]):
        problems.append("the input token's blocks were not kept byte for byte")
    last = biscuit.block_count() - 1
    external = biscuit.block_external_key(last)
    if external is None:
        problems.append("the new block is not a third-party block")
        return None
    if bytes(external.to_bytes()) != key[2]:
        problems.append("the new block is not signed by the key of the input's key")
    return biscuit, authorizer, bytes(external.to_bytes()), key


def _prefix_end(data: bytes) -> int:
    """Length of the leading protobuf fields that hold blocks (authority and blocks)."""
    pos = end = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        length, pos = _varint(data, pos) if key & 7 == 2 else (0, pos)
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


def _new_block_fact(case_input: Mapping[str, Any], output: Mapping[str, Any], predicate: str,
                    types: list[str], problems: list[str]) -> tuple[Any, str, str, Any] | None:
    """The one ``predicate`` fact of the block the operation appended, with the signer's
    identity and kid and the output token; ``None`` (and the reason in ``problems``) when
    there is not exactly one."""
    opened = _appended(case_input, output, problems)
    if opened is None:
        return None
    biscuit, authorizer, external, (identity, kid, _) = opened
    seq = biscuit.block_count() - 1
    rows = [r for r in _query(authorizer, predicate, types, external) if r[0] == seq]
    if len(rows) != 1:
        problems.append(f"{len(rows)} {predicate} facts for block {seq}, expected 1")
        return None
    return rows[0], identity, kid, biscuit


def check_delegated(case_input: Mapping[str, Any], output: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    found = _new_block_fact(case_input, output, "aip_delegation",
                            [_I, _S, _S, _S, _S, _S, _D, _I, _S], problems)
    if found is None:
        return problems
    got, identity, kid, biscuit = found
    for name, a, b in (("delegator", got[1], identity), ("kid", got[2], kid),
                       ("delegate", got[3], case_input.get("delegate")),
                       ("context", got[4], case_input.get("context"))):
        if a != b:
            problems.append(f"aip_delegation {name} is {a!r}, expected {b!r}")
    check = case_input.get("check") or {}
    held = _holder(_b64d(case_input.get("token")) or b"",
                   _b64d(check.get("root_public_key")) or b"")
    if held is None:
        return [*problems, "the input token does not give the holder's grant"]
    want = (" ".join(case_input["scopes"]) if case_input.get("scopes") is not None
            else held.scopes, case_input.get("expires", held.expires),
            case_input.get("budget_ceiling", held.budget))
    for name, a, b in (("scopes", got[5], want[0]), ("expires", _epoch(got[6]), want[1]),
                       ("budget_ceiling", got[7], want[2])):
        if a != b:
            problems.append(f"aip_delegation {name} is {a!r}, expected {b!r}")
    if got[8] not in ("", held.principal):
        problems.append(f"aip_delegation principal is {got[8]!r}, expected '' or "
                        f"{held.principal!r}")
    _probe_checks(biscuit, want[0].split(" "), want[1], held.scopes.split(" "), problems)
    return problems


def check_invoked(case_input: Mapping[str, Any], output: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    found = _new_block_fact(case_input, output, "aip_invocation",
                            [_I, _S, _S, _S, _S, _S, _S, _S, _D], problems)
    if found is None:
        return problems
    got, identity, kid, _ = found
    request = case_input.get("request") or {}
    digest = "sha256:" + hashlib.sha256(rfc8785.dumps(request.get("arguments") or {})).hexdigest()
    for name, a, b in (("invoker", got[1], identity), ("kid", got[2], kid),
                       ("audience", got[3], request.get("audience")),
                       ("operation", got[4], request.get("operation")),
                       ("tool", got[5], request.get("tool")), ("args_hash", got[6], digest)):
        if a != b:
            problems.append(f"aip_invocation {name} is {a!r}, expected {b!r}")
    if "jti" in case_input and got[7] != case_input["jti"]:
        problems.append("aip_invocation jti differs from the input")
    if "jti" not in case_input and not (8 <= len(got[7]) <= 128 and set(got[7]) <= _B64URL):
        problems.append(f"generated aip_invocation jti {got[7]!r} is not 8..128 base64url "
                        "characters")
    return problems


OUTPUT_CHECKS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]]] = {
    "chained.mint": check_minted,
    "chained.delegate": check_delegated,
    "chained.invoke": check_invoked,
}


def check_output(operation: str, case_input: Mapping[str, Any],
                 output: Mapping[str, Any]) -> list[str]:
    check = OUTPUT_CHECKS.get(operation)
    return check(case_input, output) if check else []
