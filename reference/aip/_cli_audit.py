"""``aip token complete|attest`` and ``aip audit verify|show`` (spec/completion.md).

* ``aip token complete TOKEN --key EXECUTOR.key --status completed --result FILE`` appends the
  completion block to a chained token (the chain as received, ending in its invocation), or,
  with ``--proof``, signs a compact-mode receipt for a compact token and its proof.
* ``aip token attest TOKEN --key KEY [--kind third_party] [--disputed] [--note TEXT]``.
* ``aip audit verify`` checks one artifact (a completed chain, or a compact token with
  ``--proof`` and ``--receipt``) and prints a short verdict (``--json``: the audit record);
  ``aip audit show`` prints it as a timeline.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ._audit import AuditRecord, verify_audit
from ._cli_chained import _resolver, _trust_options, _when, _write, is_chained, read_token
from ._completion import attest_chained, complete_chained, create_receipt
from ._completion_wire import (
    result_digest_a2a,
    result_digest_http,
    result_digest_json,
    result_digest_mcp,
)
from ._errors import AIPError
from ._json import loads_strict
from ._keys import load_key
from ._proof import is_digest
from ._time import now
from ._timeline import render_timeline

__all__ = ["register"]

_IN = "aip_input_invalid"
_KINDS = ("mcp", "a2a", "json", "http")


def _read_bytes(path: str) -> bytes:
    from .cli import read_bytes

    return read_bytes(path, "result")


def _result_hash(args: argparse.Namespace, *, required: bool) -> str | None:
    """``--result-hash`` as given, or the digest of ``--result FILE`` of ``--result-kind``."""
    given = getattr(args, "result_hash", None)
    path = getattr(args, "result", None)
    if given is not None and path is not None:
        raise AIPError(_IN, "give --result-hash or --result, not both")
    if given is not None:
        if not is_digest(given):
            raise AIPError(_IN, "--result-hash is not sha256:<64 lowercase hex>")
        return str(given)
    if path is None:
        if required:
            raise AIPError(_IN, "the result is needed: --result FILE or --result-hash")
        return None
    data = _read_bytes(path)
    kind = args.result_kind
    if kind == "http":
        return result_digest_http(args.http_status, args.content_type, data)
    value = loads_strict(data, code=_IN, what="result", max_bytes=16 * 1024 * 1024)
    if kind == "mcp":
        return result_digest_mcp(value)
    if kind == "a2a":
        return result_digest_a2a(value)
    return result_digest_json(value)


def _optional_text(value: str | None) -> str | None:
    return None if value is None else read_token(value)


def _cmd_complete(args: argparse.Namespace) -> int:
    key = load_key(args.key)
    token = read_token(args.token)
    moment = _when(args.now, now())
    digest = _result_hash(args, required=True)
    assert digest is not None
    usage: dict[str, Any] = {"tokens_used": args.tokens_used, "cost_usd": args.cost_usd,
                             "duration_ms": args.duration_ms,
                             "ldp_provenance_id": args.ldp_provenance_id,
                             "verification_status": args.verification_status}
    if is_chained(token):
        if args.proof:
            raise AIPError(_IN, "--proof is for compact tokens; a chained token carries its "
                           "invocation")
        out = complete_chained(token, key, status=args.status, result_hash=digest,
                               resolver=_resolver(args), now=moment, skew=args.skew, **usage)
    else:
        if not args.proof:
            raise AIPError(_IN, "a compact token is completed with a receipt: give --proof")
        out = create_receipt(key, token, read_token(args.proof), status=args.status,
                             result_hash=digest, now=moment, **usage)
    _write(args.out, out, args.force)
    return 0


def _cmd_attest(args: argparse.Namespace) -> int:
    out = attest_chained(read_token(args.token), load_key(args.key), resolver=_resolver(args),
                         now=_when(args.now, now()), kind=args.kind,
                         verified=not args.disputed, note=args.note or "", skew=args.skew)
    _write(args.out, out, args.force)
    return 0


def _audit(args: argparse.Namespace) -> AuditRecord:
    return verify_audit(
        read_token(args.token), resolver=_resolver(args), now=_when(args.now, now()),
        skew=args.skew, proof=_optional_text(args.proof), receipt=_optional_text(args.receipt),
        invoked_token=_optional_text(args.invoked_token),
        result_hash=_result_hash(args, required=False),
        require_completion=not args.allow_incomplete,
        trusted_attesters=args.trusted_attester or None)


def _cmd_verify(args: argparse.Namespace) -> int:
    record = _audit(args)
    if args.json:
        print(json.dumps({"valid": True, **record.to_json()}, indent=2, ensure_ascii=False))
        return 0
    done = record.completion
    status = done["status"] if done else "no completion"
    print(f"valid: {record.mode} audit record; {len(record.hops)} hop(s); "
          f"{record.invocation['operation']} {json.dumps(record.invocation['tool'])}; "
          f"result {status}; {len(record.attestations)} attestation(s)")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    record = _audit(args)
    if args.json:
        print(json.dumps(record.to_json(), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(render_timeline(record) + "\n")
    return 0


def _result_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--result", metavar="FILE", help="the result (JSON; raw body for http)")
    parser.add_argument("--result-kind", choices=_KINDS, default="mcp",
                        help="how --result is digested (default mcp: a CallToolResult)")
    parser.add_argument("--http-status", type=int, default=200, help="for --result-kind http")
    parser.add_argument("--content-type", default="", help="for --result-kind http")
    parser.add_argument("--result-hash", metavar="DIGEST", help="sha256:<hex> of the result")


def register(commands: Any, groups: dict[str, Any]) -> None:
    token_sub = groups.get("token")
    if token_sub is None:
        parser = commands.add_parser("token", help="tokens")
        token_sub = parser.add_subparsers(dest="token_command", metavar="ACTION",
                                          parser_class=type(parser))
        token_sub.required = True
        groups["token"] = token_sub

    complete = token_sub.add_parser("complete", help="executor: append the completion block "
                                    "(chained) or sign a receipt (compact, with --proof)")
    complete.add_argument("token", help="the token as received, a file, or - for stdin")
    complete.add_argument("--key", required=True, metavar="KEYFILE", help="the executor's key")
    complete.add_argument("--proof", metavar="PROOF", help="compact: the invocation proof")
    complete.add_argument("--status", required=True, choices=("completed", "failed", "partial"))
    complete.add_argument("--verification-status", default="verified",
                          choices=("verified", "unverified"))
    complete.add_argument("--tokens-used", type=int)
    complete.add_argument("--cost-usd", metavar="DECIMAL", help="e.g. 0.0042")
    complete.add_argument("--duration-ms", type=int)
    complete.add_argument("--ldp-provenance-id", metavar="ID")
    _result_options(complete)
    complete.add_argument("--out", "-o", metavar="FILE")
    complete.add_argument("--force", action="store_true")
    _trust_options(complete)
    complete.set_defaults(func=_cmd_complete)

    attest = token_sub.add_parser("attest", help="append an attestation block after the "
                                  "completion")
    attest.add_argument("token", help="the completed chain, a file, or - for stdin")
    attest.add_argument("--key", required=True, metavar="KEYFILE", help="the attester's key")
    attest.add_argument("--kind", choices=("countersignature", "third_party"),
                        default="countersignature")
    attest.add_argument("--disputed", action="store_true", help="attest verified=false")
    attest.add_argument("--note", help="free text (at most 1024 characters)")
    attest.add_argument("--out", "-o", metavar="FILE")
    attest.add_argument("--force", action="store_true")
    _trust_options(attest)
    attest.set_defaults(func=_cmd_attest)

    audit = commands.add_parser("audit", help="verify and show completion records")
    actions = audit.add_subparsers(dest="audit_command", metavar="ACTION",
                                   parser_class=type(audit))
    actions.required = True
    for name, func, text in (("verify", _cmd_verify, "verify one artifact into an audit record"),
                             ("show", _cmd_show, "verify one artifact and print its timeline")):
        parser = actions.add_parser(name, help=text)
        parser.add_argument("token", help="completed chain or compact token, a file, or -")
        parser.add_argument("--proof", help="compact: the invocation proof (or a file)")
        parser.add_argument("--receipt", help="compact: the completion receipt (or a file)")
        parser.add_argument("--invoked-token", metavar="TOKEN",
                            help="chained: the chain as the executor received it (checks "
                            "aip_token_hash)")
        parser.add_argument("--allow-incomplete", action="store_true",
                            help="accept an invocation without a completion record")
        parser.add_argument("--trusted-attester", action="append", metavar="IDENTITY",
                            help="accept third-party attestations only from these")
        parser.add_argument("--json", action="store_true", help="print the audit record as JSON")
        _result_options(parser)
        _trust_options(parser)
        parser.set_defaults(func=func)
