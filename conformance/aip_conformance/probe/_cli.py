"""``aip-conformance probe http|mcp|a2a URL``: the command-line face of the live probes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .._errors import ConformanceError
from .._report import format_summary, write_reports
from ._craft import load_identity
from ._probe import ProbeConfig, load_arguments, run_probe

__all__ = ["add_parser", "cmd_probe"]


def add_parser(sub: Any) -> None:
    probe = sub.add_parser(
        "probe", help="probe a live HTTP, MCP or A2A endpoint with crafted good and bad credentials")
    probe.add_argument("profile", choices=["http", "mcp", "a2a"], help="which binding to probe")
    probe.add_argument("url", help="the endpoint: the MCP endpoint (…/mcp), the A2A JSON-RPC URL, "
                                   "or the protected HTTP URL")
    probe.add_argument("--issuer-key", type=Path, required=True, metavar="FILE",
                       help="private key file (aip keygen) of an issuer the endpoint trusts")
    probe.add_argument("--audience", metavar="ID",
                       help="the endpoint's AIP identifier (default: from its advertisement)")
    probe.add_argument("--tool", metavar="NAME",
                       help="MCP tool, A2A skill id, or HTTP route tool name to call")
    probe.add_argument("--arguments", metavar="JSON", help="MCP tool arguments (a JSON object)")
    probe.add_argument("--method", default="POST", help="HTTP method (http only, default POST)")
    probe.add_argument("--body", default="{}", help="HTTP request body (http only, default {})")
    probe.add_argument("--mode", action="append", choices=["compact", "chained"],
                       help="token modes to probe (repeatable; default: both)")
    probe.add_argument("--report", type=Path, default=Path("reports"), metavar="DIR",
                       help="folder for report.json and junit.xml (default: reports/)")
    probe.add_argument("--require-completion", action="store_true",
                       help="http only: fail a valid call whose response carries no "
                            "AIP-Completion record (default: check records only when sent)")
    probe.add_argument("--timeout", type=float, default=10.0, metavar="S",
                       help="seconds to wait for each response (default: 10)")


def cmd_probe(args: argparse.Namespace) -> int:
    if args.timeout <= 0:
        raise ConformanceError("--timeout must be positive")
    config = ProbeConfig(
        profile=args.profile, url=args.url, issuer=load_identity(args.issuer_key),
        audience=args.audience, tool=args.tool, arguments=load_arguments(args.arguments, None),
        method=args.method, body=args.body.encode("utf-8"),
        modes=tuple(args.mode or ("compact", "chained")), timeout=args.timeout,
        require_completion=args.require_completion)
    result = run_probe(config)
    print(format_summary(result))
    try:
        report, junit = write_reports(result, args.report)
    except OSError as exc:
        raise ConformanceError(f"cannot write reports into {args.report}: {exc}") from exc
    print(f"reports: {report} {junit}", file=sys.stdout)
    return 0 if result.ok else 1
