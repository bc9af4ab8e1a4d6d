"""AIP reference implementation.

The public API is exactly ``__all__``; everything else lives in private modules.
"""

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
from ._resolver import ResolvedIdentity, Resolver, TrustStore
from ._time import DEFAULT_SKEW, MAX_SKEW

__version__ = "1.0.0.dev0"
SPEC_VERSION = "1.0.0-draft"

__all__ = [
    "DEFAULT_SKEW",
    "ERROR_CODES",
    "MAX_SKEW",
    "SPEC_VERSION",
    "AIPError",
    "IdentityDocument",
    "KeyIdentifier",
    "PublicKeyEntry",
    "ResolvedIdentity",
    "Resolver",
    "SigningKey",
    "TrustStore",
    "WebIdentifier",
    "__version__",
    "build_document",
    "canonical_json",
    "generate_key",
    "key_identifier",
    "load_key",
    "parse_identifier",
    "sign_document",
    "verify_document",
]
