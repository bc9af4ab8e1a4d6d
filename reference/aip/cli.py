"""The ``aip`` command line.

Every failure prints ``error: <code>: <reason>`` on stderr and exits 1 (2 for usage errors);
no traceback ever reaches the user. Files are written atomically. Subcommands of other modes
live in ``_cli_*.py`` modules that expose ``register(subparsers, groups)``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from ._documents import build_document, verify_document
from ._errors import AIPError
from ._identifiers import KeyIdentifier, WebIdentifier, parse_identifier
from ._keys import SigningKey, dumps_key, generate_key, load_key, write_private_file
from ._resolver import Resolver, TrustStore
from ._time import DEFAULT_SKEW, format_time, now, parse_time

__all__ = ["main"]

Command = Callable[[argparse.Namespace], int]
# Modules that add subcommands; missing ones are simply not offered.
_EXTENSIONS = ("_cli_compact", "_cli_chained", "_cli_audit")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"error: aip_input_invalid: {message}", file=sys.stderr)
        raise SystemExit(2)


def emit(obj: Any) -> None:
    """Print a JSON result on stdout."""
    print(json.dumps(obj, indent=2, ensure_ascii=False))


def read_text(path: str, what: str) -> str:
    """Read a text argument: a file path, or ``-`` for stdin."""
    try:
        if path == "-":
            return sys.stdin.read()
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise AIPError("aip_input_invalid", f"cannot read {what} {path!r}: {reason}") from None


def read_bytes(path: str, what: str) -> bytes:
    try:
        return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise AIPError("aip_input_invalid", f"cannot read {what} {path!r}: {exc.strerror}") from None


def write_output(path: str | None, text: str, *, force: bool = False, private: bool = False) -> None:
    """Write ``text`` to ``path`` atomically, or to stdout when no path is given."""
    if path is None or path == "-":
        sys.stdout.write(text)
        return
    try:
        write_private_file(path, text, overwrite=force)
        if not private:
            Path(path).chmod(0o644)
    except FileExistsError as exc:
        raise AIPError("aip_input_invalid", str(exc)) from None
    except OSError as exc:
        raise AIPError("aip_input_invalid", f"cannot write {path!r}: {exc.strerror}") from None


def parse_when(text: str | None, default: int) -> int:
    """A time argument: epoch seconds, RFC 3339 UTC, or ``+<seconds>`` from now."""
    if text is None:
        return default
    if text.startswith("+") and text[1:].isdigit():
        return now() + int(text[1:])
    if text.isdigit():
        return int(text)
    return parse_time(text, code="aip_input_invalid", what=f"time {text!r}")


def make_resolver(args: argparse.Namespace) -> Resolver:
    """The resolver the common ``--trust-store`` / ``--trust`` / ``--network`` / ``--ca``
    options describe (``--trust`` adds issuers to those of the trust store)."""
    store = TrustStore.load(args.trust_store) if getattr(args, "trust_store", None) else TrustStore()
    extra = list(getattr(args, "trust", None) or [])
    if extra:
        store = TrustStore(store.documents, [*store.trusted_issuers, *extra])
    verify: Any = getattr(args, "ca", None) or True
    return Resolver(store, network=bool(getattr(args, "network", False)), verify=verify,
                    skew=getattr(args, "skew", DEFAULT_SKEW))


def add_trust_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trust-store", metavar="FILE", help="offline trust store (JSON)")
    parser.add_argument("--trust", action="append", metavar="ISSUER",
                        help="also trust this issuer identity (repeatable)")
    parser.add_argument("--network", action="store_true",
                        help="resolve aip:web identities over HTTPS when not in the trust store")
    parser.add_argument("--ca", metavar="PEM", help="CA bundle for HTTPS resolution")
    parser.add_argument("--skew", type=int, default=DEFAULT_SKEW, help="clock skew, 0..300 s")
    parser.add_argument("--now", metavar="TIME", help="verification time (default: the clock)")


# --- keygen ------------------------------------------------------------------------------

def _cmd_keygen(args: argparse.Namespace) -> int:
    identity = args.identity
    if identity is not None and not isinstance(parse_identifier(identity), WebIdentifier):
        raise AIPError("aip_identifier_invalid", "--identity names an aip:web identity; "
                       "an aip:key identity is derived from the key itself")
    key = generate_key(identity, args.kid)
    write_output(args.out, dumps_key(key), force=args.force, private=True)
    print(key.identity, file=sys.stderr if args.out in (None, "-") else sys.stdout)
    return 0


# --- identity ----------------------------------------------------------------------------

def _cmd_identity_create(args: argparse.Namespace) -> int:
    keys: list[SigningKey] = [load_key(p) for p in args.key]
    parsed = parse_identifier(args.id)
    if not isinstance(parsed, WebIdentifier):
        raise AIPError("aip_identifier_invalid", "identity documents are for aip:web identities")
    current = now()
    entries = [(k.kid, k.public_key, parse_when(args.valid_from, current), None) for k in keys]
    kids = [k.kid for k in keys]
    if len(set(kids)) != len(kids):
        raise AIPError("aip_input_invalid", "two keys share a key id; give each key its own kid")
    expires = parse_when(args.expires, current + 30 * 86400)
    document = build_document(args.id, entries, expires=expires,
                              signer=(keys[0].kid, keys[0].private_key), name=args.name,
                              max_depth=args.max_depth)
    write_output(args.out, json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                 force=args.force)
    return 0


def _cmd_identity_verify(args: argparse.Namespace) -> int:
    data = read_bytes(args.document, "identity document")
    moment = parse_when(args.now, now())
    document = verify_document(data, now=moment, expected_id=args.id, skew=args.skew)
    result: dict[str, Any] = {
        "valid": True, "id": document.id, "signed_by": document.signed_by,
        "expires": format_time(document.expires), "max_depth": document.max_depth,
        "keys": [{"id": k.kid, "type": k.type, "usable_now": k.public_key is not None
                  and k.active_at(moment, args.skew)} for k in document.keys],
    }
    emit(result)
    return 0


def _cmd_identity_resolve(args: argparse.Namespace) -> int:
    resolver = make_resolver(args)
    moment = parse_when(args.now, now())
    try:
        resolved = resolver.resolve(args.identifier, now=moment)
    finally:
        resolver.close()
    parsed = parse_identifier(args.identifier)
    out: dict[str, Any] = {"id": resolved.identifier, "method": parsed.method}
    if isinstance(parsed, KeyIdentifier):
        out["keys"] = [{"id": parsed.identifier, "type": "Ed25519", "usable_now": True}]
    elif resolved.document is not None:
        out["document_url"] = parsed.document_url
        out["signed_by"] = resolved.document.signed_by
        out["expires"] = format_time(resolved.document.expires)
        out["keys"] = [{"id": k.kid, "type": k.type, "usable_now": k.public_key is not None
                        and k.active_at(moment, args.skew)} for k in resolved.document.keys]
    emit(out)
    return 0


def _cmd_identity_parse(args: argparse.Namespace) -> int:
    parsed = parse_identifier(args.identifier)
    if isinstance(parsed, KeyIdentifier):
        emit({"id": parsed.identifier, "method": "key", "algorithm": "ed25519",
              "public_key_hex": parsed.public_key.hex()})
    else:
        emit({"id": parsed.identifier, "method": "web", "host": parsed.host, "port": parsed.port,
              "path": list(parsed.path), "document_url": parsed.document_url})
    return 0


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Any]]:
    parser = _Parser(prog="aip", description="AIP (Agent Identity Protocol) reference tools")
    parser.add_argument("--version", action="version", version=f"aip {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    keygen = commands.add_parser("keygen", help="make an Ed25519 key file (JWK)")
    keygen.add_argument("--out", "-o", metavar="FILE", help="key file to write (default: stdout)")
    keygen.add_argument("--identity", metavar="AIP_WEB_ID",
                        help="the aip:web identity this key will sign for (default: its own aip:key)")
    keygen.add_argument("--kid", help="key id within the identity document (default: key-1)")
    keygen.add_argument("--force", action="store_true", help="replace an existing file")
    keygen.set_defaults(func=_cmd_keygen)

    identity = commands.add_parser("identity", help="identifiers and identity documents")
    ids = identity.add_subparsers(dest="identity_command", metavar="ACTION", parser_class=_Parser)
    ids.required = True
    create = ids.add_parser("create", help="make and sign an identity document")
    create.add_argument("--id", required=True, help="the aip:web identifier")
    create.add_argument("--key", required=True, action="append", metavar="KEYFILE",
                        help="key file; repeat for several keys; the first signs")
    create.add_argument("--name")
    create.add_argument("--max-depth", type=int)
    create.add_argument("--valid-from", metavar="TIME")
    create.add_argument("--expires", metavar="TIME", help="default: 30 days from now")
    create.add_argument("--out", "-o", metavar="FILE")
    create.add_argument("--force", action="store_true")
    create.set_defaults(func=_cmd_identity_create)
    verify = ids.add_parser("verify", help="verify an identity document file")
    verify.add_argument("document", help="document file, or - for stdin")
    verify.add_argument("--id", help="the identifier the document must be for")
    verify.add_argument("--skew", type=int, default=DEFAULT_SKEW)
    verify.add_argument("--now", metavar="TIME")
    verify.set_defaults(func=_cmd_identity_verify)
    resolve = ids.add_parser("resolve", help="resolve an identifier to its keys")
    resolve.add_argument("identifier")
    add_trust_options(resolve)
    resolve.set_defaults(func=_cmd_identity_resolve)
    parse = ids.add_parser("parse", help="check an identifier and show its parts")
    parse.add_argument("identifier")
    parse.set_defaults(func=_cmd_identity_parse)

    groups: dict[str, Any] = {"commands": commands}
    for name in _EXTENSIONS:
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{name}":
                raise
            continue
        module.register(commands, groups)
    return parser, groups


def main(argv: Sequence[str] | None = None) -> int:
    parser, _ = build_parser()
    args = parser.parse_args(argv)
    func: Command = args.func
    try:
        return func(args)
    except AIPError as exc:
        print(f"error: {exc.code}: {exc.reason}", file=sys.stderr)
        return 1
    except ValueError as exc:  # option values out of range (e.g. --skew 999)
        print(f"error: aip_input_invalid: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
