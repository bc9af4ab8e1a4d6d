"""AIP reference implementation.

The public API is exactly ``__all__``; everything else lives in private modules.
"""

from ._audit import AuditRecord, VerifiedReceipt, verify_audit, verify_receipt
from ._chained import (
    ChainHop,
    ChainInvocation,
    ChainLimits,
    ChainRequest,
    VerifiedChain,
    chain_delegate,
    chain_invoke,
    chain_mint,
    verify_chain,
)
from ._compact import CompactVerifier, VerifiedToken, encode_token, inspect_token, issue_token
from ._completion import attest_chained, complete_chained, create_receipt
from ._completion_wire import (
    ChainAttestation,
    ChainCompletion,
    result_digest_a2a,
    result_digest_http,
    result_digest_json,
    result_digest_mcp,
)
from ._documents import (
    IdentityDocument,
    PublicKeyEntry,
    build_document,
    sign_document,
    verify_document,
)
from ._encoding import canonical_json
from ._errors import ERROR_CODES, AIPError
from ._identifiers import KeyIdentifier, WebIdentifier, key_identifier, parse_identifier
from ._keys import SigningKey, generate_key, load_key
from ._proof import (
    Invocation,
    VerifiedProof,
    args_hash,
    create_proof,
    token_hash,
    verify_proof,
)
from ._replay import MemoryReplayCache, ReplayCache
from ._resolver import ResolvedIdentity, Resolver, TrustStore
from ._revocation import (
    RevocationList,
    RevocationPolicy,
    sign_revocation_list,
    verify_revocation_list,
)
from ._time import DEFAULT_SKEW, MAX_SKEW
from ._timeline import render_timeline

__version__ = "1.0.0.dev0"
SPEC_VERSION = "1.0.0-draft"

__all__ = [
    "DEFAULT_SKEW",
    "ERROR_CODES",
    "MAX_SKEW",
    "SPEC_VERSION",
    "AIPError",
    "AuditRecord",
    "ChainAttestation",
    "ChainCompletion",
    "ChainHop",
    "ChainInvocation",
    "ChainLimits",
    "ChainRequest",
    "CompactVerifier",
    "IdentityDocument",
    "Invocation",
    "KeyIdentifier",
    "MemoryReplayCache",
    "PublicKeyEntry",
    "ReplayCache",
    "ResolvedIdentity",
    "Resolver",
    "RevocationList",
    "RevocationPolicy",
    "SigningKey",
    "TrustStore",
    "VerifiedChain",
    "VerifiedProof",
    "VerifiedReceipt",
    "VerifiedToken",
    "WebIdentifier",
    "__version__",
    "args_hash",
    "attest_chained",
    "build_document",
    "canonical_json",
    "chain_delegate",
    "chain_invoke",
    "chain_mint",
    "complete_chained",
    "create_proof",
    "create_receipt",
    "encode_token",
    "generate_key",
    "inspect_token",
    "issue_token",
    "key_identifier",
    "load_key",
    "parse_identifier",
    "render_timeline",
    "result_digest_a2a",
    "result_digest_http",
    "result_digest_json",
    "result_digest_mcp",
    "sign_document",
    "sign_revocation_list",
    "token_hash",
    "verify_audit",
    "verify_chain",
    "verify_document",
    "verify_proof",
    "verify_receipt",
    "verify_revocation_list",
]
