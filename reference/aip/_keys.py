"""Private key files: an Ed25519 JWK (RFC 8037) with the identity it belongs to.

``aip keygen`` writes one; every signing command reads one. The file is JSON so that any
language can read it::

    {"kty": "OKP", "crv": "Ed25519", "d": "<b64url>", "x": "<b64url>",
     "kid": "key-1", "aip_id": "aip:key:ed25519:z6Mk..."}
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ._encoding import b64url_decode, b64url_encode
from ._errors import AIPError
from ._identifiers import key_identifier, parse_identifier
from ._json import loads_strict

__all__ = ["SigningKey", "dumps_key", "generate_key", "load_key", "public_bytes", "write_private_file"]

_MAX_KEY_FILE = 16 * 1024


def public_bytes(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A private key together with the identity and key id it signs as."""

    private_key: Ed25519PrivateKey
    identity: str
    kid: str

    @property
    def public_key(self) -> bytes:
        return public_bytes(self.private_key)

    def to_jwk(self) -> dict[str, str]:
        raw = self.private_key.private_bytes_raw()
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "d": b64url_encode(raw),
            "x": b64url_encode(self.public_key),
            "kid": self.kid,
            "aip_id": self.identity,
        }


def generate_key(identity: str | None = None, kid: str | None = None) -> SigningKey:
    """A fresh key. Without ``identity`` it is its own ``aip:key`` identity."""
    private_key = Ed25519PrivateKey.generate()
    ident = identity or key_identifier(public_bytes(private_key))
    parse_identifier(ident)
    return SigningKey(private_key, ident, kid or ("key-1" if identity else ident))


def load_key(path: str | os.PathLike[str]) -> SigningKey:
    """Read a key file, raising ``aip_input_invalid`` with a one-line reason on any defect."""
    code = "aip_input_invalid"
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise AIPError(code, f"cannot read key file {os.fspath(path)!r}: {exc.strerror}") from None
    jwk = loads_strict(data, code=code, what="key file", max_bytes=_MAX_KEY_FILE)
    if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise AIPError(code, "key file is not an Ed25519 JWK (kty OKP, crv Ed25519)")
    if not isinstance(jwk.get("d"), str):
        raise AIPError(code, "key file holds no private key ('d')")
    seed = b64url_decode(jwk["d"], code=code, what="key file 'd'")
    if len(seed) != 32:
        raise AIPError(code, "key file 'd' is not 32 bytes")
    private_key = Ed25519PrivateKey.from_private_bytes(seed)
    if "x" in jwk and b64url_decode(jwk["x"], code=code, what="key file 'x'") != public_bytes(
        private_key
    ):
        raise AIPError(code, "key file 'x' does not match its private key")
    identity = jwk.get("aip_id") or key_identifier(public_bytes(private_key))
    parse_identifier(identity)
    kid = jwk.get("kid") or identity
    if not isinstance(kid, str):
        raise AIPError(code, "key file 'kid' is not a string")
    return SigningKey(private_key, identity, kid)


def write_private_file(path: str | os.PathLike[str], text: str, *, overwrite: bool = False) -> None:
    """Write ``text`` atomically with mode 0600: the file is whole or absent, never half."""
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{os.fspath(path)} exists (use --force to replace it)")
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".aip-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def dumps_key(key: SigningKey) -> str:
    return json.dumps(key.to_jwk(), indent=2) + "\n"
