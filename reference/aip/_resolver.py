"""From an identifier to the keys that speak for it.

Lookup order (AIP-RES-001): an ``aip:key`` identifier is its own key and is never looked up;
an ``aip:web`` identifier is taken from the offline trust store when the store pins it, and
otherwise, only when network resolution is enabled, fetched over HTTPS from the host the
identifier names. Anything else fails with ``aip_identity_unresolvable``.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ._documents import MAX_DOCUMENT_BYTES, IdentityDocument, verify_document
from ._errors import AIPError
from ._identifiers import KeyIdentifier, WebIdentifier, parse_identifier
from ._json import loads_strict
from ._time import DEFAULT_SKEW, check_skew

__all__ = [
    "MAX_CACHE_SECONDS",
    "ResolvedIdentity",
    "Resolver",
    "TrustStore",
]

MAX_CACHE_SECONDS = 300  # AIP-RES-006
MAX_REDIRECTS = 3
DEFAULT_TIMEOUT = 5.0
_UNRESOLVABLE = "aip_identity_unresolvable"


@dataclass(frozen=True, slots=True)
class ResolvedIdentity:
    """An identity and the keys that may sign for it."""

    identifier: str
    document: IdentityDocument | None  # None for aip:key
    public_key: bytes | None = None  # the aip:key key

    @property
    def max_depth(self) -> int | None:
        return self.document.max_depth if self.document else None

    def key(self, kid: str | None, moment: int, skew: int = DEFAULT_SKEW) -> Ed25519PublicKey:
        """The key named ``kid`` usable at ``moment``.

        For ``aip:key`` the only key id is the identifier itself (or none at all).
        """
        if self.document is None:
            assert self.public_key is not None
            if kid is not None and kid != self.identifier:
                raise AIPError("aip_key_unknown", f"aip:key identity has no key {kid[:64]!r}")
            return Ed25519PublicKey.from_public_bytes(self.public_key)
        if kid is None:
            raise AIPError("aip_key_unknown", f"{self.identifier} needs a key id (kid)")
        return self.document.select_key(kid, moment, skew)


class TrustStore:
    """Offline trust: pinned identity documents and the issuers a verifier accepts.

    File format (``schemas/trust-store.schema.json``)::

        {"aip_trust_store": "1.0",
         "documents": {"aip:web:example.com/a": {...identity document...}},
         "trusted_issuers": ["aip:web:example.com/a", "aip:key:ed25519:z6Mk..."]}
    """

    def __init__(
        self,
        documents: Mapping[str, Any] | None = None,
        trusted_issuers: list[str] | None = None,
    ) -> None:
        self.documents: dict[str, Any] = dict(documents or {})
        self.trusted_issuers: frozenset[str] = frozenset(trusted_issuers or ())
        for ident in self.documents:
            if not isinstance(parse_identifier(ident), WebIdentifier):
                raise AIPError("aip_document_invalid", f"trust store pins a document for {ident}")

    @classmethod
    def load(cls, path: str | Path) -> TrustStore:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise AIPError("aip_input_invalid",
                           f"cannot read trust store {str(path)!r}: {exc.strerror}") from None
        obj = loads_strict(data, code="aip_input_invalid", what="trust store",
                           max_bytes=4 * 1024 * 1024)
        if not isinstance(obj, dict) or obj.get("aip_trust_store") != "1.0":
            raise AIPError("aip_input_invalid", "trust store lacks \"aip_trust_store\": \"1.0\"")
        documents = obj.get("documents", {})
        issuers = obj.get("trusted_issuers", [])
        if not isinstance(documents, dict) or not isinstance(issuers, list) or not all(
            isinstance(i, str) for i in issuers
        ):
            raise AIPError("aip_input_invalid", "trust store members have the wrong types")
        return cls(documents, issuers)

    def to_json(self) -> str:
        return json.dumps({"aip_trust_store": "1.0", "documents": self.documents,
                           "trusted_issuers": sorted(self.trusted_issuers)}, indent=2) + "\n"


class Resolver:
    """Resolves identifiers to keys. Thread-safe; one instance per verifier.

    ``network`` enables HTTPS resolution of ``aip:web`` identities that the trust store does
    not pin. ``verify`` is passed to httpx (an ``ssl.SSLContext`` or a CA bundle path), so
    tests can trust a loopback CA without touching the system store.
    """

    def __init__(
        self,
        trust_store: TrustStore | None = None,
        *,
        network: bool = False,
        verify: ssl.SSLContext | str | bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        cache_seconds: int = MAX_CACHE_SECONDS,
        max_cache_entries: int = 1024,
        skew: int = DEFAULT_SKEW,
    ) -> None:
        if not 0 <= cache_seconds <= MAX_CACHE_SECONDS:
            raise ValueError(f"cache_seconds must be 0..{MAX_CACHE_SECONDS}")
        if verify is False:
            raise ValueError("TLS verification cannot be disabled for identity resolution")
        self.trust_store = trust_store or TrustStore()
        self.network = network
        self.skew = check_skew(skew)
        self._verify = verify
        self._timeout = timeout
        self._cache_seconds = cache_seconds
        self._max_entries = max_cache_entries
        self._cache: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._verified: dict[str, tuple[object, IdentityDocument]] = {}

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def resolve(self, identifier: str, *, now: int) -> ResolvedIdentity:
        parsed = parse_identifier(identifier)  # aip_identifier_invalid before any lookup
        if isinstance(parsed, KeyIdentifier):
            return ResolvedIdentity(identifier, None, parsed.public_key)
        pinned = self.trust_store.documents.get(identifier)
        if pinned is not None:
            memo = self._verified.get(identifier)
            if memo is not None and memo[0] is pinned and self._still_good(memo[1], now):
                return ResolvedIdentity(identifier, memo[1])
            raw: bytes | dict[str, Any] = pinned
        elif self.network:
            raw = self._fetch(parsed)
        else:
            raise AIPError(_UNRESOLVABLE, f"{identifier} is not in the trust store and network "
                                          "resolution is off")
        try:
            document = verify_document(raw, now=now, expected_id=identifier, skew=self.skew)
        except AIPError as exc:
            # Whatever is wrong with the document, the identity has no trustworthy keys
            # (AIP-RES-007); the document's own code stays in the reason for operators.
            raise AIPError(_UNRESOLVABLE, f"{identifier}: {exc.code}: {exc.reason}") from None
        if pinned is not None:
            # Pinned documents are verified once; later lookups only re-check the clock.
            self._verified[identifier] = (pinned, document)
        return ResolvedIdentity(identifier, document)

    def _still_good(self, document: IdentityDocument, now: int) -> bool:
        if now - self.skew > document.expires:
            return False
        signer = next(k for k in document.keys if k.kid == document.signed_by)
        return signer.active_at(now, self.skew)

    # --- HTTPS -----------------------------------------------------------------------------

    def _cached(self, url: str) -> bytes | None:
        with self._lock:
            hit = self._cache.get(url)
            if hit is None:
                return None
            if hit[0] <= time.monotonic():
                del self._cache[url]
                return None
            self._cache.move_to_end(url)
            return hit[1]

    def _store(self, url: str, body: bytes, ttl: float) -> None:
        if ttl <= 0:
            return
        with self._lock:
            self._cache[url] = (time.monotonic() + ttl, body)
            self._cache.move_to_end(url)
            while len(self._cache) > self._max_entries:
                self._cache.popitem(last=False)

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                verify=self._verify, timeout=self._timeout, follow_redirects=False,
                trust_env=False, headers={"Accept": "application/json"},
            )
        return self._client

    def _fetch(self, parsed: WebIdentifier) -> bytes:
        url = parsed.document_url
        cached = self._cached(url)
        if cached is not None:
            return cached
        deadline = time.monotonic() + self._timeout
        current = url
        try:
            for _ in range(MAX_REDIRECTS + 1):
                # Each hop gets only what is left of the one budget (AIP-RES-005), so redirects
                # and slow reads cannot stack their own timeouts.
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AIPError(_UNRESOLVABLE, f"{url}: retrieval exceeded the time limit")
                with self._http().stream("GET", current,
                                         timeout=httpx.Timeout(remaining)) as response:
                    if response.is_redirect:
                        current = self._same_origin_redirect(parsed, current, response)
                        continue
                    if response.status_code != 200:
                        raise AIPError(_UNRESOLVABLE,
                                       f"{url} answered HTTP {response.status_code}")
                    body = self._read_bounded(response, deadline)
                    self._store(url, body, self._ttl(response))
                    return body
        except httpx.HTTPError as exc:
            raise AIPError(_UNRESOLVABLE, f"{url}: {type(exc).__name__}: {exc}"[:200]) from None
        raise AIPError(_UNRESOLVABLE, f"{url}: more than {MAX_REDIRECTS} redirects")

    @staticmethod
    def _same_origin_redirect(parsed: WebIdentifier, current: str, response: httpx.Response) -> str:
        location = response.headers.get("location", "")
        target = httpx.URL(current).join(location)
        origin = urlsplit(parsed.origin)
        if target.scheme != "https" or target.host != origin.hostname or (
            target.port or 443) != (origin.port or 443):
            raise AIPError(_UNRESOLVABLE, f"redirect to another origin refused: {str(target)[:120]}")
        return str(target)

    def _read_bounded(self, response: httpx.Response, deadline: float) -> bytes:
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_DOCUMENT_BYTES:
            raise AIPError(_UNRESOLVABLE, f"document is {declared} bytes, limit {MAX_DOCUMENT_BYTES}")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_DOCUMENT_BYTES:
                raise AIPError(_UNRESOLVABLE, f"document exceeds {MAX_DOCUMENT_BYTES} bytes")
            if time.monotonic() > deadline:
                raise AIPError(_UNRESOLVABLE, "document download exceeded the time limit")
            chunks.append(chunk)
        return b"".join(chunks)

    def _ttl(self, response: httpx.Response) -> float:
        ttl = float(self._cache_seconds)
        for directive in response.headers.get("cache-control", "").split(","):
            name, _, value = directive.strip().partition("=")
            if name.lower() in ("no-store", "no-cache"):
                return 0.0
            if name.lower() == "max-age" and value.isdigit():
                ttl = min(ttl, float(value))
        return ttl
