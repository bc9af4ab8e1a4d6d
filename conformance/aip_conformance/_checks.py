"""Registry of conformance checks that are not vector cases (e.g. live endpoint probes).

Traceability counts a requirement as covered when a vector case or one of these checks cites
it. Each entry maps a stable check id to the requirement ids it tests. Empty until the live
probes (HTTP, MCP, A2A) land; kept as data so `aip-conformance requirements` needs no imports
of probe code.
"""

from __future__ import annotations

from .probe._catalog import PROBE_CHECKS

__all__ = ["CHECKS"]

CHECKS: dict[str, list[str]] = {
    # Applied by the runner to every expected rejection (see _runner.score).
    "runner.error-message-one-line": ["AIP-ERR-003"],
    # The live probes (aip-conformance probe http|mcp|a2a): probe.<profile>.<case>, data only.
    **PROBE_CHECKS,
}
