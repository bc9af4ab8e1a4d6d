"""Independent checks of completion blocks, attestations and receipts an implementation made
(``chained.complete``, ``chained.attest``, ``receipt.create``; spec/completion.md).

Same shape as ``checks_chained.OUTPUT_CHECKS``: each check gets the case input and the
answer's output and returns a list of problems, using only biscuit-python, cryptography and
rfc8785, never ``aip``:

* ``chained.complete``: the input chain kept byte for byte plus one third-party block signed
  by the executor's key, holding exactly one ``aip_completion`` fact that names the executor
  (= the invocation's audience), the invocation's ``jti``, the ``aip_token_hash`` of the input
  token and the values asked for;
* ``chained.attest``: likewise one ``aip_attestation`` fact by the input key's identity, of
  the kind asked for, attesting the completion's result digest;
* ``receipt.create``: an EdDSA JWS with ``typ`` ``aip-receipt+jwt`` and ``kid``, signed by the
  executor's key, whose payload has exactly the members of AIP-CMP-042 and binds the token
  digest, the proof's ``jti`` and digest, and the result digest.

:func:`check_completed_chain` and :func:`check_receipt_of` are the same checks given the
executor's *public* key, for records a live server returned (``aip-conformance probe``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .checks_chained import _appended, _open, _prefix_end, _private_public, _query

__all__ = ["OUTPUT_CHECKS", "check_attested", "check_completed", "check_completed_chain",
           "check_receipt", "check_receipt_of"]

_S, _I, _D, _B = '"string"', '"integer"', '"date"', '"bool"'
_COMPLETION = [_I, _S, _S, _S, _S, _S, _S, _S, _I, _S, _I, _S, _D]
_ATTESTATION = [_I, _S, _S, _S, _B, _S, _S, _D]
_INVOCATION = [_I, _S, _S, _S, _S, _S, _S, _S, _D]
_RECEIPT = {"iss", "iat", "token_hash", "proof_jti", "proof_hash", "status", "result_hash",
            "verification_status"}
_OPTIONAL = {"tokens_used", "cost_usd", "duration_ms", "ldp_provenance_id"}


def _b64d(text: object) -> bytes | None:
    """Unpadded base64url to bytes; None for anything else (padding, other alphabets)."""
    if not isinstance(text, str) or any(c in text for c in "=+/ \n"):
        return None
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        return None
    return data if base64.urlsafe_b64encode(data).rstrip(b"=").decode() == text else None


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("ascii")).hexdigest()


def _compare(problems: list[str], what: str, pairs: list[tuple[str, Any, Any]]) -> None:
    for name, got, want in pairs:
        if isinstance(want, frozenset):
            if got not in want:
                problems.append(f"{what} {name} is {got!r}, expected one of {sorted(want)!r}")
        elif got != want:
            problems.append(f"{what} {name} is {got!r}, expected {want!r}")


# The optional values of a completion, with the value that stands for "absent" in a block.
_VALUES = (("status", 5, None), ("result_hash", 6, None), ("verification_status", 7, None),
           ("tokens_used", 8, -1), ("cost_usd", 9, ""), ("duration_ms", 10, -1),
           ("ldp_provenance_id", 11, ""))


def check_completed(case_input: Mapping[str, Any], output: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    opened = _appended(case_input, output, problems)
    if opened is None:
        return problems
    biscuit, authorizer, external, (identity, kid, _) = opened
    expect = {"status": case_input.get("status"), "result_hash": case_input.get("result_hash"),
              "verification_status": case_input.get("verification_status", "verified")}
    expect.update({name: case_input.get(name, absent) for name, _, absent in _VALUES[3:]})
    token = case_input.get("token")
    return problems + _completion_fact(biscuit, authorizer, external, identity, kid,
                                       token if isinstance(token, str) else None, expect)


def _completion_fact(biscuit: Any, authorizer: Any, external: bytes, identity: str,
                     kid: str | None, token: str | None,
                     expect: Mapping[str, Any]) -> list[str]:
    """The last block's ``aip_completion`` fact: one, by ``identity``, after the invocation,
    bound to it and to ``token``, with the values in ``expect`` (block encoding)."""
    problems: list[str] = []
    seq = biscuit.block_count() - 1
    rows = [r for r in _query(authorizer, "aip_completion", _COMPLETION, external) if r[0] == seq]
    if len(rows) != 1:
        return [f"{len(rows)} aip_completion facts for block {seq}, expected 1"]
    calls = [r for r in _query(authorizer, "aip_invocation", _INVOCATION,
                               bytes(biscuit.block_external_key(seq - 1).to_bytes()))
             if r[0] == seq - 1] if seq >= 2 else []
    if len(calls) != 1:
        return ["the completion block does not directly follow an invocation block"]
    got, call = rows[0], calls[0]
    pairs: list[tuple[str, Any, Any]] = [
        ("executor", got[1], identity), ("executor (audience)", got[1], call[3]),
        ("jti", got[3], call[7]),
        ("token_hash", got[4], _digest(token) if token is not None else None)]
    if kid is not None:
        pairs.append(("kid", got[2], kid))
    pairs += [(name, got[index], expect[name]) for name, index, _ in _VALUES if name in expect]
    _compare(problems, "aip_completion", pairs)
    return problems


def check_completed_chain(token: str, completed: object, *, root_public_key: bytes,
                          executor: str, executor_public_key: bytes,
                          expect: Mapping[str, Any]) -> list[str]:
    """A completed chain an executor returned for the call made with ``token``: ``token``'s
    blocks kept byte for byte, then one third-party block signed by the executor's key with
    one ``aip_completion`` fact naming ``executor`` (the invocation's audience), the
    invocation's ``jti``, ``token``'s digest and the values in ``expect`` (a ``frozenset``
    value allows any of its members)."""
    problems: list[str] = []
    before = _b64d(token)
    if before is None:
        return ["the token sent is not unpadded base64url"]
    opened = _open(completed, root_public_key, problems)
    if opened is None:
        return problems
    biscuit, authorizer, data = opened
    if not data.startswith(before[:_prefix_end(before)]):
        problems.append("the completed chain does not keep the sent token's blocks byte for byte")
    external = biscuit.block_external_key(biscuit.block_count() - 1)
    if external is None:
        return [*problems, "the completion block is not a third-party block"]
    if bytes(external.to_bytes()) != executor_public_key:
        problems.append("the completion block is not signed by the executor's key")
    return problems + _completion_fact(biscuit, authorizer, bytes(external.to_bytes()),
                                       executor, None, token, expect)


def check_attested(case_input: Mapping[str, Any], output: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    opened = _appended(case_input, output, problems)
    if opened is None:
        return problems
    biscuit, authorizer, external, (identity, kid, _) = opened
    seq = biscuit.block_count() - 1
    rows = [r for r in _query(authorizer, "aip_attestation", _ATTESTATION, external)
            if r[0] == seq]
    if len(rows) != 1:
        return [*problems, f"{len(rows)} aip_attestation facts for block {seq}, expected 1"]
    done: list[Any] = []
    for i in range(1, seq):
        key = biscuit.block_external_key(i)
        if key is not None:
            done += [r for r in _query(authorizer, "aip_completion", _COMPLETION,
                                       bytes(key.to_bytes())) if r[0] == i]
    if len(done) != 1:
        return [*problems, "the chain does not hold exactly one completion before the "
                "attestation"]
    got = rows[0]
    _compare(problems, "aip_attestation", [
        ("kind", got[1], case_input.get("kind", "countersignature")),
        ("attester", got[2], identity), ("kid", got[3], kid),
        ("verified", got[4], case_input.get("verified", True)),
        ("result_hash", got[5], done[0][6]), ("note", got[6], case_input.get("note", ""))])
    return problems


def _segment(text: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def check_receipt(case_input: Mapping[str, Any], output: Mapping[str, Any]) -> list[str]:
    key = _private_public(case_input.get("key"))
    token, proof = case_input.get("token"), case_input.get("proof")
    if key is None or not isinstance(token, str) or not isinstance(proof, str):
        return ["case input lacks token, proof or key"]
    identity, kid, raw = key
    expect = {"status": case_input.get("status"), "result_hash": case_input.get("result_hash")}
    expect.update({name: case_input.get(name) for name in sorted(_OPTIONAL)})
    return check_receipt_of(output.get("receipt"), token=token, proof=proof, executor=identity,
                            executor_public_key=raw, kid=kid, expect=expect)


def check_receipt_of(receipt: object, *, token: str, proof: str, executor: str,
                     executor_public_key: bytes, kid: str | None,
                     expect: Mapping[str, Any]) -> list[str]:
    """A completion receipt for the call made with ``token`` and ``proof``: EdDSA, typ
    ``aip-receipt+jwt``, signed by the executor's key, exactly the members of AIP-CMP-042,
    ``iss`` the executor (= the proof's ``aud``), bound to the token, the proof and the values
    in ``expect`` (a ``frozenset`` value allows any of its members; ``None`` means absent)."""
    problems: list[str] = []
    if not isinstance(receipt, str) or receipt.count(".") != 2:
        return ["the receipt is not a JWS compact serialization"]
    h64, p64, s64 = receipt.split(".")
    signature = _b64d(s64)
    try:
        header, claims = _segment(h64), _segment(p64)
    except ValueError:
        return ["receipt header or payload is not base64url JSON"]
    if signature is None:
        return ["receipt signature is not unpadded base64url"]
    try:
        Ed25519PublicKey.from_public_bytes(executor_public_key).verify(
            signature, f"{h64}.{p64}".encode())
    except InvalidSignature:
        problems.append("receipt signature does not verify under the executor's key")
    if not isinstance(header, dict):
        return [*problems, "receipt header is not an object"]
    _compare(problems, "receipt header", [("alg", header.get("alg"), "EdDSA"),
                                          ("typ", header.get("typ"), "aip-receipt+jwt")])
    if kid is not None:
        _compare(problems, "receipt header", [("kid", header.get("kid"), kid)])
    elif not isinstance(header.get("kid"), str):
        problems.append("receipt header has no kid")
    if not isinstance(claims, dict):
        return [*problems, "receipt payload is not an object"]
    names = set(claims)
    if not _RECEIPT <= names or not names <= _RECEIPT | _OPTIONAL:
        problems.append(f"receipt members {sorted(names)} are not those of AIP-CMP-042")
    proof_claims = _segment(proof.split(".")[1])
    _compare(problems, "receipt", [
        ("iss", claims.get("iss"), executor), ("iss (proof aud)", claims.get("iss"),
                                               proof_claims.get("aud")),
        ("token_hash", claims.get("token_hash"), _digest(token)),
        ("proof_jti", claims.get("proof_jti"), proof_claims.get("jti")),
        ("proof_hash", claims.get("proof_hash"), _digest(proof))])
    _compare(problems, "receipt", [(name, claims.get(name), want)
                                   for name, want in expect.items()])
    return problems


OUTPUT_CHECKS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]]] = {
    "chained.complete": check_completed,
    "chained.attest": check_attested,
    "receipt.create": check_receipt,
}
