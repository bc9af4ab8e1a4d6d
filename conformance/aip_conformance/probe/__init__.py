"""Live probes of HTTP, MCP and A2A endpoints (``aip-conformance probe http|mcp|a2a URL``).

The probes craft every token, proof and chain from primitives (cryptography, biscuit-python),
never from ``aip``; they reach the endpoint only over the network.
"""

from ._catalog import PROBE_CASES, PROBE_CHECKS, ProbeCase
from ._craft import Identity, fresh_identity, load_identity
from ._probe import ProbeConfig, load_arguments, run_probe

__all__ = [
    "PROBE_CASES",
    "PROBE_CHECKS",
    "Identity",
    "ProbeCase",
    "ProbeConfig",
    "fresh_identity",
    "load_arguments",
    "load_identity",
    "run_probe",
]
