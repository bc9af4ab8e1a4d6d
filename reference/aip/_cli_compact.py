"""``aip token issue|verify|inspect`` and ``aip prove`` (spec/compact.md).

Failures are :class:`AIPError` and reach the user as ``error: <code>: <reason>`` through
``aip.cli.main``; nothing here lets another exception escape.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ._compact import RECOMMENDED_LIFETIME, CompactVerifier, inspect_token, issue_token
from ._errors import AIPError
from ._json import loads_strict
from ._keys import load_key
from ._proof import DEFAULT_PROOF_MAX_AGE, MAX_ARGUMENTS_BYTES, Invocation, create_proof
from ._replay import MemoryReplayCache
from ._time import now
from .cli import add_trust_options, emit, make_resolver, parse_when, read_text, write_output

__all__ = ["register"]

_IN = "aip_input_invalid"


def _token_arg(value: str, what: str) -> str:
    """A token given literally, as a file path, or ``-`` for stdin."""
    if value == "-":
        return sys.stdin.read().strip()
    if value.count(".") == 2 and not Path(value).exists():
        return value.strip()
    return read_text(value, what).strip()


def _arguments(text: str | None) -> str | None:
    """``--arguments``: JSON text, or ``@FILE``."""
    if text is None:
        return None
    if text.startswith("@"):
        return read_text(text[1:], "arguments file")
    return text


def _invocation(args: argparse.Namespace) -> Invocation | None:
    # ``--args`` is the chained CLI's spelling of the same option; accept either.
    arguments_json = _arguments(args.arguments if args.arguments is not None
                                else getattr(args, "args", None))
    operation = args.operation
    if operation is None:
        if args.tool is None and arguments_json is None:
            return None
        operation = "tools/call"  # a tool and its arguments mean an MCP tool call
    return Invocation(operation=operation, tool=args.tool, arguments_json=arguments_json)


def _cmd_issue(args: argparse.Namespace) -> int:
    key = load_key(args.key)
    token = issue_token(
        key, subject=args.sub, audience=args.aud[0] if len(args.aud) == 1 else args.aud,
        scopes=args.scope, now=parse_when(args.now, now()), lifetime=args.lifetime,
        max_depth=args.max_depth, budget_usd=args.budget, jti=args.jti)
    write_output(args.out, token + "\n", force=args.force)
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    token = _token_arg(args.token, "token")
    proof = _token_arg(args.proof, "proof") if args.proof else None
    resolver = make_resolver(args)
    # A one-shot check has no replay memory to lose: the record is complete "since ever".
    verifier = CompactVerifier(
        resolver, audience=args.audience, skew=args.skew, require_proof=not args.no_proof,
        proof_max_age=args.proof_max_age, replay_cache=MemoryReplayCache(trusted_since=0),
        draft01_compat=args.draft01)
    try:
        result = verifier.verify(token, proof=proof, invocation=_invocation(args),
                                 now=parse_when(args.now, now()), cost_usd=args.cost)
    finally:
        resolver.close()
    out: dict[str, Any] = {
        "valid": True, "iss": result.issuer, "sub": result.holder, "aud": list(result.audience),
        "scopes": list(result.scopes), "iat": result.issued_at, "exp": result.expires_at,
        "jti": result.jti, "max_depth": result.max_depth, "budget_usd": result.budget_usd,
        "draft01": result.draft01,
    }
    if result.proof is not None:
        out["proof"] = {"jti": result.proof.jti, "iat": result.proof.issued_at,
                        "op": result.proof.operation, "tool": result.proof.tool,
                        "args_hash": result.proof.args_hash}
    emit(out)
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    emit(inspect_token(_token_arg(args.token, "token"), now=parse_when(args.now, now())))
    return 0


def _cmd_prove(args: argparse.Namespace) -> int:
    key = load_key(args.key)
    token = _token_arg(args.token, "token")
    text = _arguments(args.arguments)
    arguments: Any = None
    if text is not None:
        arguments = loads_strict(text, code=_IN, what="--arguments", max_bytes=MAX_ARGUMENTS_BYTES)
        if not isinstance(arguments, dict):
            raise AIPError(_IN, "--arguments is not a JSON object")
    proof = create_proof(key, token, audience=args.audience,
                         invocation=Invocation(operation=args.operation, tool=args.tool,
                                               arguments=arguments),
                         now=parse_when(args.now, now()), jti=args.jti)
    write_output(args.out, proof + "\n", force=args.force)
    return 0


def _request_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--operation", default="tools/call" if required else None,
                        help="the operation called (default with --tool: tools/call)")
    parser.add_argument("--tool", help="the tool called")
    parser.add_argument("--arguments", metavar="JSON|@FILE", help="the call's arguments (a JSON object)")


def register(commands: Any, groups: dict[str, Any]) -> None:
    """Add ``token`` and ``prove`` to the ``aip`` command line."""
    token = commands.add_parser("token", help="compact tokens: issue, verify, inspect")
    actions = token.add_subparsers(dest="token_command", metavar="ACTION",
                                   parser_class=type(token))
    actions.required = True
    groups["token"] = actions

    issue = actions.add_parser("issue", help="issue a compact token signed with your key")
    issue.add_argument("--key", required=True, metavar="KEYFILE", help="the issuer's key file")
    issue.add_argument("--sub", required=True, metavar="ID", help="the holder's AIP identifier")
    issue.add_argument("--aud", required=True, action="append", metavar="AUDIENCE",
                       help="the server the token is for (repeatable)")
    issue.add_argument("--scope", required=True, action="append", metavar="SCOPE",
                       help="a granted scope, e.g. tool:search or tool:* (repeatable)")
    issue.add_argument("--lifetime", type=int, default=RECOMMENDED_LIFETIME, help="seconds (default 3600)")
    issue.add_argument("--max-depth", type=int, default=0)
    issue.add_argument("--budget", type=float, metavar="USD")
    issue.add_argument("--jti", help="token id (default: random)")
    issue.add_argument("--now", metavar="TIME", help="issue time (default: the clock)")
    issue.add_argument("--out", "-o", metavar="FILE")
    issue.add_argument("--force", action="store_true")
    issue.set_defaults(func=_cmd_issue)

    verify = actions.add_parser("verify", help="verify a token (and its invocation proof)")
    verify.add_argument("token", help="the token, a file holding it, or - for stdin")
    verify.add_argument("--audience", required=True, help="this verifier's audience identifier")
    verify.add_argument("--proof", metavar="PROOF|FILE", help="the invocation proof")
    verify.add_argument("--no-proof", action="store_true", help="bearer check: do not require a proof")
    verify.add_argument("--proof-max-age", type=int, default=DEFAULT_PROOF_MAX_AGE)
    verify.add_argument("--draft01", action="store_true", help="accept draft-01 tokens (no kid/aud/jti)")
    verify.add_argument("--cost", type=float, metavar="USD", help="the known cost of the call")
    _request_options(verify, required=False)
    add_trust_options(verify)
    verify.set_defaults(func=_cmd_verify)

    inspect = actions.add_parser("inspect", help="decode a token WITHOUT verifying it")
    inspect.add_argument("token", help="the token, a file holding it, or - for stdin")
    inspect.add_argument("--now", metavar="TIME")
    inspect.set_defaults(func=_cmd_inspect)

    prove = commands.add_parser("prove", help="make an invocation proof for a token")
    prove.add_argument("--key", required=True, metavar="KEYFILE", help="the holder's key file")
    prove.add_argument("--token", required=True, help="the token, a file holding it, or -")
    prove.add_argument("--audience", required=True, help="the server being called")
    _request_options(prove, required=True)
    prove.add_argument("--jti", help="proof id (default: random)")
    prove.add_argument("--now", metavar="TIME")
    prove.add_argument("--out", "-o", metavar="FILE")
    prove.add_argument("--force", action="store_true")
    prove.set_defaults(func=_cmd_prove)
