"""``aip token mint|delegate|invoke`` and the chained half of ``aip token verify|inspect``.

Mode dispatch hook (shared with ``_cli_compact``): ``token verify`` and ``token inspect`` are
created once, by whichever module registers first, with a positional ``token`` argument and
``func`` set to a dispatcher that walks ``groups["token_modes"]``, a list of
``(name, detect, verify, inspect)``; the first ``detect(token_text)`` that returns True
handles the command. A JWT whose header says ``typ: aip+jwt`` is compact; anything else is
chained (AIP-CHN-002). Options are added with :func:`add_option`, which skips an option the
other mode already added, so both modes share ``--audience``, ``--tool``, ``--arguments`` etc.
If ``token verify``/``inspect`` already exist without the hook (as ``_cli_compact`` makes
them), their ``func`` becomes the fallback for tokens that are not chained.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._chained import ChainRequest, VerifiedChain, chain_delegate, chain_invoke, chain_mint, verify_chain
from ._errors import AIPError
from ._json import loads_strict
from ._keys import load_key
from ._replay import MemoryReplayCache
from ._resolver import Resolver
from ._revocation import RevocationPolicy, verify_revocation_list
from ._time import DEFAULT_SKEW, format_time, now

__all__ = ["add_option", "is_chained", "register", "render_tree"]

Command = Callable[[argparse.Namespace], int]
_IN = "aip_input_invalid"


def add_option(parser: argparse.ArgumentParser, *names: str, **kwargs: Any) -> None:
    """Add an option unless another mode already added one of these names."""
    if any(name in parser._option_string_actions for name in names):
        return
    parser.add_argument(*names, **kwargs)


def is_chained(token: str) -> bool:
    """Not a compact JWT (``typ: aip+jwt``) means chained (AIP-CHN-002)."""
    head = token.split(".")[0]
    if token.count(".") == 2:
        try:
            header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
        except (ValueError, TypeError):
            return True
        return not (isinstance(header, dict) and header.get("typ") == "aip+jwt")
    return True


def read_token(value: str) -> str:
    """A token argument: ``-`` for stdin, a file path, or the token itself."""
    try:
        if value == "-":
            return sys.stdin.read().strip()
        path = Path(value)
        if len(value) < 4096 and path.is_file():
            return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise AIPError(_IN, f"cannot read token {value[:64]!r}: {exc}") from None
    return value.strip()


def _when(text: str | None, default: int) -> int:
    from .cli import parse_when

    return parse_when(text, default)


def _resolver(args: argparse.Namespace) -> Resolver:
    from .cli import make_resolver

    return make_resolver(args)


def _arguments(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise AIPError(_IN, f"cannot read arguments file {text[1:]!r}: {exc}") from None
    value = loads_strict(text, code=_IN, what="--args", max_bytes=1024 * 1024)
    if not isinstance(value, dict):
        raise AIPError(_IN, "--args is not a JSON object")
    return value


def _write(path: str | None, text: str, force: bool) -> None:
    from .cli import write_output

    write_output(path, text + "\n", force=force)


def _trust_options(parser: argparse.ArgumentParser) -> None:
    add_option(parser, "--trust-store", metavar="FILE", help="offline trust store (JSON)")
    add_option(parser, "--trust", action="append", metavar="ISSUER",
               help="also trust this issuer identity (repeatable)")
    add_option(parser, "--network", action="store_true",
               help="resolve aip:web identities over HTTPS when not in the trust store")
    add_option(parser, "--ca", metavar="PEM", help="CA bundle for HTTPS resolution")
    add_option(parser, "--skew", type=int, default=DEFAULT_SKEW, help="clock skew, 0..300 s")
    add_option(parser, "--now", metavar="TIME", help="verification time (default: the clock)")


# --- commands -------------------------------------------------------------------------------

def _cmd_mint(args: argparse.Namespace) -> int:
    key = load_key(args.key)
    moment = _when(args.now, now())
    token = chain_mint(key, holder=args.holder, scopes=args.scope,
                       expires=_when(args.expires, moment + 3600), max_depth=args.max_depth,
                       budget_ceiling=args.budget_ceiling, principal=args.principal)
    _write(args.out, token, args.force)
    return 0


def _cmd_delegate(args: argparse.Namespace) -> int:
    key = load_key(args.key)
    moment = _when(args.now, now())
    token = chain_delegate(read_token(args.token), key, delegate=args.to, context=args.context,
                           resolver=_resolver(args), now=moment, scopes=args.scope or None,
                           expires=_when(args.expires, 0) if args.expires else None,
                           budget_ceiling=args.budget_ceiling, skew=args.skew)
    _write(args.out, token, args.force)
    return 0


def _cmd_invoke(args: argparse.Namespace) -> int:
    key = load_key(args.key)
    moment = _when(args.now, now())
    token = chain_invoke(read_token(args.token), key, audience=args.audience,
                         operation=args.operation or "tools/call", tool=args.tool,
                         arguments=_arguments(args.arguments), resolver=_resolver(args),
                         now=moment, jti=args.jti, skew=args.skew)
    _write(args.out, token, args.force)
    return 0


def _verify(args: argparse.Namespace, token: str) -> VerifiedChain:
    moment = _when(args.now, now())
    resolver = _resolver(args)
    lists = []
    for path in getattr(args, "revocation_list", None) or []:
        try:
            text = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise AIPError(_IN, f"cannot read revocation list {path!r}: {exc}") from None
        lists.append(verify_revocation_list(text, resolver=resolver, now=moment, skew=args.skew))
    policy = RevocationPolicy(tuple(lists), required=bool(getattr(args, "require_revocation",
                                                                  False)))
    request = None
    if getattr(args, "tool", None):
        if not getattr(args, "audience", None):
            raise AIPError(_IN, "--tool needs --audience (this verifier's identifier)")
        request = ChainRequest(args.audience, getattr(args, "operation", None) or "tools/call",
                               args.tool, _arguments(getattr(args, "arguments", None)))
    return verify_chain(token, resolver=resolver, now=moment, skew=args.skew, request=request,
                        require_invocation=bool(getattr(args, "require_invocation", False)),
                        replay_cache=MemoryReplayCache(trusted_since=0), revocation=policy)


def _cmd_verify(args: argparse.Namespace, token: str) -> int:
    chain = _verify(args, token)
    print(json.dumps({"valid": True, **chain.to_json()}, indent=2, ensure_ascii=False))
    return 0


def _cmd_inspect(args: argparse.Namespace, token: str) -> int:
    print(render_tree(_verify(args, token)))
    return 0


def _q(text: str) -> str:
    # JSON quoting keeps control characters and bidi overrides from reaching the terminal.
    return json.dumps(text, ensure_ascii=True)


def _key(identity: str, kid: str) -> str:
    return "" if kid == identity else f" [key {kid}]"


def render_tree(chain: VerifiedChain) -> str:
    """The verified chain as a tree, one hop per level."""
    lines = [f"chained token ({chain.size} bytes, depth {chain.depth} of max {chain.max_depth})"
             + (", authorized" if chain.authorized else "")]
    indent = ""
    extra = []
    if chain.budget_ceiling is not None:
        extra.append(f"budget ceiling {chain.budget_ceiling}")
    if chain.principal:
        extra.append(f"principal {chain.principal}")
    lines.append(f"{indent}└─ block 0 authority: {chain.issuer}"
                 f"{_key(chain.issuer, chain.root_kid)}")
    indent += "   "
    lines.append(f"{indent}grants {' '.join(chain.scopes)} to {chain.holder}")
    lines.append(f"{indent}expires {format_time(chain.expires)}"
                 + (f"; {', '.join(extra)}" if extra else ""))
    for hop in chain.hops:
        lines.append(f"{indent}└─ block {hop.index} delegation: {hop.delegator}"
                     f"{_key(hop.delegator, hop.kid)} → {hop.delegate}")
        indent += "   "
        lines.append(f"{indent}context {_q(hop.context)}")
        detail = f"scopes {' '.join(hop.scopes)}; expires {format_time(hop.expires)}"
        if hop.budget_ceiling is not None:
            detail += f"; budget ceiling {hop.budget_ceiling}"
        lines.append(f"{indent}{detail}")
    call = chain.invocation
    if call is not None:
        lines.append(f"{indent}└─ block {call.index} invocation by {call.invoker}"
                     f"{_key(call.invoker, call.kid)}")
        indent += "   "
        lines.append(f"{indent}{call.operation} {_q(call.tool)} at {_q(call.audience)}")
        lines.append(f"{indent}args {call.args_hash}; jti {_q(call.jti)}; "
                     f"issued {format_time(call.iat)}")
    return "\n".join(lines)


# --- registration ---------------------------------------------------------------------------

def _dispatcher(action: str, groups: dict[str, Any], fallback: Command | None) -> Command:
    def run(args: argparse.Namespace) -> int:
        token = read_token(args.token)
        for _, detect, verify, inspect in groups.get("token_modes", []):
            if detect(token):
                handler = verify if action == "verify" else inspect
                result: int = handler(args, token)
                return result
        if fallback is not None:
            return fallback(args)
        raise AIPError("aip_token_malformed", "the token is neither compact nor chained")
    return run


def register(commands: Any, groups: dict[str, Any]) -> None:
    token_sub = groups.get("token")
    if token_sub is None:
        parser = commands.add_parser("token", help="mint, delegate, invoke, verify and "
                                     "inspect tokens")
        token_sub = parser.add_subparsers(dest="token_command", metavar="ACTION",
                                          parser_class=type(parser))
        token_sub.required = True
        groups["token"] = token_sub

    mint = token_sub.add_parser("mint", help="mint a chained token (block 0)")
    mint.add_argument("--key", required=True, metavar="KEYFILE", help="the issuer's key file")
    mint.add_argument("--holder", required=True, help="identity the grant is made to")
    mint.add_argument("--scope", required=True, action="append", help="scope (repeatable)")
    mint.add_argument("--max-depth", type=int, default=3)
    mint.add_argument("--expires", metavar="TIME", help="default: one hour from now")
    mint.add_argument("--budget-ceiling", type=int, metavar="CENTS")
    mint.add_argument("--principal")
    mint.add_argument("--now", metavar="TIME")
    mint.add_argument("--out", "-o", metavar="FILE")
    mint.add_argument("--force", action="store_true")
    mint.set_defaults(func=_cmd_mint)

    delegate = token_sub.add_parser("delegate", help="append a delegation block (holder side)")
    delegate.add_argument("token", help="token, token file, or - for stdin")
    delegate.add_argument("--key", required=True, metavar="KEYFILE", help="the holder's key")
    delegate.add_argument("--to", required=True, metavar="IDENTITY", help="the delegate")
    delegate.add_argument("--context", required=True, help="why (non-empty, <= 1024 chars)")
    delegate.add_argument("--scope", action="append", help="narrower scope (repeatable)")
    delegate.add_argument("--expires", metavar="TIME")
    delegate.add_argument("--budget-ceiling", type=int, metavar="CENTS")
    delegate.add_argument("--out", "-o", metavar="FILE")
    delegate.add_argument("--force", action="store_true")
    _trust_options(delegate)
    delegate.set_defaults(func=_cmd_delegate)

    invoke = token_sub.add_parser("invoke", help="append the invocation block (last delegate)")
    invoke.add_argument("token", help="token, token file, or - for stdin")
    invoke.add_argument("--key", required=True, metavar="KEYFILE")
    invoke.add_argument("--audience", required=True)
    invoke.add_argument("--tool", required=True)
    invoke.add_argument("--operation", default="tools/call")
    invoke.add_argument("--arguments", "--args", dest="arguments", metavar="JSON",
                        help="arguments object (or @file)")
    invoke.add_argument("--jti")
    invoke.add_argument("--out", "-o", metavar="FILE")
    invoke.add_argument("--force", action="store_true")
    _trust_options(invoke)
    invoke.set_defaults(func=_cmd_invoke)

    groups.setdefault("token_modes", [])
    for action, text in (("verify", "verify a token (and a request)"),
                         ("inspect", "verify a token and show it (chained: as a tree)")):
        parser = groups.get(f"token_{action}")
        if parser is None:
            existing = token_sub.choices.get(action)
            if existing is not None:  # defined without the hook: keep it as the fallback
                parser = existing
                fallback = parser.get_default("func")
            else:
                parser = token_sub.add_parser(action, help=text)
                parser.add_argument("token", help="token, token file, or - for stdin")
                fallback = None
            parser.set_defaults(func=_dispatcher(action, groups, fallback))
            groups[f"token_{action}"] = parser
        _trust_options(parser)
        add_option(parser, "--audience", help="this verifier's audience")
        add_option(parser, "--tool", help="the tool requested")
        add_option(parser, "--operation", help="the operation requested (default tools/call)")
        add_option(parser, "--arguments", "--args", metavar="JSON",
                   help="the request's arguments (or @file)")
        add_option(parser, "--require-invocation", action="store_true")
        add_option(parser, "--revocation-list", action="append", metavar="FILE")
        add_option(parser, "--require-revocation", action="store_true")
    groups["token_modes"].append(("chained", is_chained, _cmd_verify, _cmd_inspect))
