"""Transport bindings of AIP (spec/bindings.md): plain HTTP, MCP and A2A.

The SDK-specific modules are imported on demand (``aip.bindings.http``, ``aip.bindings.mcp``,
``aip.bindings.a2a``) and need the ``bindings`` extra; this package itself needs none of them.
"""

from ._core import (
    AUTH_SCHEME,
    BindingVerifier,
    CallSigner,
    ChainedSigner,
    CompactSigner,
    CompletionReport,
    Credentials,
    VerifiedCall,
    current_call,
    report_completion,
    verify_completion,
)
from ._token_ref import TokenRefFetcher

__all__ = [
    "AUTH_SCHEME",
    "BindingVerifier",
    "CallSigner",
    "ChainedSigner",
    "CompactSigner",
    "CompletionReport",
    "Credentials",
    "TokenRefFetcher",
    "VerifiedCall",
    "current_call",
    "report_completion",
    "verify_completion",
]
