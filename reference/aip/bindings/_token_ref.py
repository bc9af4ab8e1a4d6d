"""Token by reference (spec/bindings.md, AIP-HTTP-030..037): fetching the token an
``X-AIP-Token-Ref`` header points at, for a server that opts in.

A server opts in by giving its :class:`~aip.bindings.BindingVerifier` a :class:`TokenRefFetcher`
(``token_refs=``); every binding then takes a request's credentials through
:func:`request_credentials`, so the HTTP middleware, the MCP guard and the A2A guard apply the
same rules. Without a fetcher a reference alone is answered with ``aip_token_missing``
(AIP-HTTP-031).

What a fetch does (AIP-HTTP-032..036):

* only an ``https`` URL whose origin (scheme, host, port) is on the allow-list, without user
  information; nothing else is looked up or connected to;
* the host is resolved once (``socket.getaddrinfo``, in a worker thread); unless the origin is
  listed in ``internal_origins``, every address must be a public unicast address (no loopback,
  link-local, private, shared, multicast, unspecified, reserved or documentation address, also
  when embedded in an IPv6 address);
* the connection goes to one of exactly those vetted addresses (the resolution is pinned, so a
  second DNS answer cannot move it), while TLS verifies the certificate for the host name (SNI
  is the host name);
* one ``GET``, no redirects, no proxies, no content codings; HTTP 200 only;
* at most ``max_bytes`` (16384) octets and ``timeout`` (5) seconds for the whole fetch, name
  resolution included; both can be configured lower, never higher;
* nothing is cached: a reference is fetched for every request that carries it alone.

Any failure is ``aip_token_missing`` with a one-line reason that never repeats the URL (a
reference may be a capability URL). The body, less one trailing line break, is the token; a body
that could not have been sent inline (anything but printable ASCII without spaces) is
``aip_token_malformed``.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import anyio
import anyio.to_thread
import httpcore
import httpx

from .._errors import AIPError

__all__ = [
    "MAX_TOKEN_REF_BYTES",
    "MAX_TOKEN_REF_SECONDS",
    "TokenRefFetcher",
]

MAX_TOKEN_REF_BYTES = 16384  # AIP-HTTP-032
MAX_TOKEN_REF_SECONDS = 5.0  # AIP-HTTP-032
MAX_REF_URL_LENGTH = 4096
_MISSING = "aip_token_missing"
_MALFORMED = "aip_token_malformed"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

_log = logging.getLogger("aip.bindings")

Origin = tuple[str, int]  # (host as sent on the wire: lowercase, IDNA, no brackets; port)
GetAddrInfo = Callable[..., Sequence[tuple[Any, ...]]]  # socket.getaddrinfo's shape
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class _Refused(Exception):
    """A fetch that must not happen or did not succeed: the reason becomes aip_token_missing."""


def _parse(url: str, what: str) -> tuple[httpx.URL, Origin]:
    if len(url) > MAX_REF_URL_LENGTH or not url.isascii() or any(
            c.isspace() or not c.isprintable() for c in url):
        raise _Refused(f"{what} is not a single ASCII URL of at most {MAX_REF_URL_LENGTH} characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise _Refused(f"{what} is not a URL") from None
    if parsed.scheme != "https":
        raise _Refused(f"{what} is not an https URL")
    if parsed.userinfo:
        raise _Refused(f"{what} carries user information")
    host = parsed.raw_host.decode("ascii").lower()
    if not host:
        raise _Refused(f"{what} has no host")
    return parsed, (host, parsed.port or 443)


def _origin_text(origin: Origin) -> str:
    host, port = origin
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"


def _config_origin(text: str) -> Origin:
    try:
        parsed, origin = _parse(text, "origin")
    except _Refused as exc:
        raise ValueError(f"{text!r}: {exc}") from None
    if parsed.raw_path not in (b"", b"/") or parsed.fragment:
        raise ValueError(f"{text!r}: an origin is https://host[:port], without a path")
    return origin


def is_public_address(address: IPAddress) -> bool:
    """Whether ``address`` is a public unicast address (AIP-HTTP-034). An IPv4-mapped or NAT64
    (``64:ff9b::/96``) address is judged by the IPv4 address it carries; a 6to4 or Teredo one
    must carry a public IPv4 address too."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public_address(address.ipv4_mapped)
        if address in _NAT64:
            return is_public_address(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        embedded: list[ipaddress.IPv4Address] = []
        if address.sixtofour is not None:
            embedded.append(address.sixtofour)
        if address.teredo is not None:
            embedded.extend(address.teredo)
        if not all(is_public_address(inner) for inner in embedded):
            return False
    return address.is_global and not (
        address.is_loopback or address.is_link_local or address.is_private
        or address.is_multicast or address.is_unspecified or address.is_reserved)


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to the addresses vetted for one host: whatever name httpcore asks for, a
    second lookup never happens (no DNS rebinding between the check and the connection)."""

    def __init__(self, host: str, addresses: Sequence[str]) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._host = host
        self._addresses = tuple(addresses)

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        if host.lower() != self._host:
            raise httpcore.ConnectError("connection to a host that was not vetted")
        failure: Exception = httpcore.ConnectError("no address to connect to")
        for address in self._addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout=timeout,
                                                     local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not used for token references")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def token_text(body: bytes) -> str:
    """The token a fetched body holds (AIP-HTTP-036): the body less one trailing line break,
    which must be printable ASCII without spaces, as a header would have carried it."""
    if body.endswith(b"\r\n"):
        body = body[:-2]
    elif body.endswith(b"\n"):
        body = body[:-1]
    if not body:
        raise AIPError(_MISSING, "token reference not used: the referenced body is empty")
    if any(octet < 0x21 or octet > 0x7E for octet in body):
        raise AIPError(_MALFORMED, "the referenced token is not printable ASCII without spaces")
    return body.decode("ascii")


class TokenRefFetcher:
    """Fetches the token of an ``X-AIP-Token-Ref`` header (AIP-HTTP-032..036).

    ``origins`` are the origins (``https://host[:port]``) references may point at; their host
    must resolve to public addresses only. ``internal_origins`` are origins that may also
    resolve to loopback, private or other non-public addresses (a token service inside the
    deployment); they are fetched from too. ``verify`` is the TLS trust (an ``ssl.SSLContext``
    or a CA bundle path; never off). ``timeout`` and ``max_bytes`` bound a whole fetch and can
    only be lowered. ``getaddrinfo`` is the name lookup (``socket.getaddrinfo`` by default; it
    is called once per fetch, in a worker thread; at most ``max_lookups`` at a time, and a fetch
    that would need one more is refused).
    """

    def __init__(
        self,
        origins: Iterable[str] = (),
        *,
        internal_origins: Iterable[str] = (),
        verify: ssl.SSLContext | str | bool = True,
        timeout: float = MAX_TOKEN_REF_SECONDS,
        max_bytes: int = MAX_TOKEN_REF_BYTES,
        getaddrinfo: GetAddrInfo = socket.getaddrinfo,
        max_lookups: int = 16,
    ) -> None:
        if not 0 < timeout <= MAX_TOKEN_REF_SECONDS:
            raise ValueError(f"timeout must be in (0, {MAX_TOKEN_REF_SECONDS}] seconds")
        if not 0 < max_bytes <= MAX_TOKEN_REF_BYTES:
            raise ValueError(f"max_bytes must be in 1..{MAX_TOKEN_REF_BYTES}")
        if verify is False:
            raise ValueError("TLS verification cannot be disabled for token references")
        self.internal_origins = frozenset(_config_origin(o) for o in internal_origins)
        self.origins = frozenset(_config_origin(o) for o in origins) | self.internal_origins
        if not self.origins:
            raise ValueError("a TokenRefFetcher needs at least one origin")
        if isinstance(verify, ssl.SSLContext):
            self._ssl = verify
        elif isinstance(verify, str):
            self._ssl = ssl.create_default_context(cafile=verify)
        else:
            self._ssl = httpcore.default_ssl_context()
        self.timeout = float(timeout)
        self.max_bytes = max_bytes
        self._getaddrinfo = getaddrinfo
        # Name lookups run in worker threads that a time-out abandons but cannot stop; this
        # bounds how many of them a slow DNS server can keep busy at once.
        self._lookups = threading.BoundedSemaphore(max_lookups)

    def allows(self, url: str) -> bool:
        """Whether ``url`` is a reference this fetcher would try (scheme and origin only)."""
        try:
            return _parse(url, "reference")[1] in self.origins
        except _Refused:
            return False

    async def fetch(self, url: str) -> str:
        """The token ``url`` refers to; raises :class:`AIPError` (``aip_token_missing`` for any
        failure of the fetch, ``aip_token_malformed`` for a body that is not a token)."""
        deadline = time.monotonic() + self.timeout
        try:
            with anyio.fail_after(self.timeout):
                body = await self._fetch(url, deadline)
        except _Refused as exc:
            raise AIPError(_MISSING, _one_line(f"token reference not fetched: {exc}")) from None
        except (TimeoutError, httpcore.TimeoutException):
            raise AIPError(_MISSING, "token reference not fetched: the fetch exceeded "
                                     f"{self.timeout:g} seconds") from None
        except Exception as exc:  # TLS, connection, protocol: never a traceback or its text
            _log.debug("token reference fetch failed: %r", exc)
            raise AIPError(_MISSING, "token reference not fetched: "
                                     f"{type(exc).__name__}") from None
        return token_text(body)

    async def _fetch(self, url: str, deadline: float) -> bytes:
        parsed, origin = _parse(url, "the reference")
        if origin not in self.origins:
            raise _Refused("its origin is not on the allow-list")
        host, port = origin
        infos = await anyio.to_thread.run_sync(self._lookup, host, port, abandon_on_cancel=True)
        addresses = self._vet(origin, infos)
        _log.debug("fetching a token reference from %s via %s", _origin_text(origin), addresses)
        connection = httpcore.AsyncHTTPConnection(
            origin=httpcore.Origin(b"https", host.encode("ascii"), port),
            ssl_context=self._ssl, network_backend=_PinnedBackend(host, addresses))
        try:
            return await self._get(connection, parsed, origin, deadline)
        finally:
            with anyio.CancelScope(shield=True):
                await connection.aclose()  # closes the socket; no TLS close handshake to wait on

    def _lookup(self, host: str, port: int) -> Sequence[tuple[Any, ...]]:
        if not self._lookups.acquire(blocking=False):
            raise _Refused("too many name lookups are in progress")
        try:
            return self._getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise _Refused("its host does not resolve") from None
        finally:
            self._lookups.release()

    def _vet(self, origin: Origin, infos: Sequence[tuple[Any, ...]]) -> list[str]:
        addresses: list[str] = []
        internal = origin in self.internal_origins
        for info in infos:
            text = str(info[4][0])
            try:
                address = ipaddress.ip_address(text.partition("%")[0])
            except ValueError:
                continue
            if not internal and not is_public_address(address):
                # One non-public answer refuses the fetch: no connection is attempted at all.
                raise _Refused("its host resolves to a non-public address and the origin is "
                               "not listed as internal")
            if text not in addresses:
                addresses.append(text)
        if not addresses:
            raise _Refused("its host does not resolve to an IP address")
        return addresses

    async def _get(self, connection: httpcore.AsyncHTTPConnection, parsed: httpx.URL,
                   origin: Origin, deadline: float) -> bytes:
        host, port = origin
        authority = f"[{host}]" if ":" in host else host
        if port != 443:
            authority += f":{port}"
        remaining = max(deadline - time.monotonic(), 0.001)
        request_url = httpcore.URL(scheme=b"https", host=host.encode("ascii"), port=port,
                                   target=parsed.raw_path or b"/")
        headers = [(b"Host", authority.encode("ascii")), (b"Accept", b"text/plain, */*"),
                   (b"Accept-Encoding", b"identity"), (b"Connection", b"close")]
        timeouts = {"connect": remaining, "read": remaining, "write": remaining,
                    "pool": remaining}
        async with connection.stream("GET", request_url, headers=headers,
                                     extensions={"timeout": timeouts}) as response:
            status = response.status
            if status in _REDIRECTS:
                raise _Refused(f"it answered a redirect (HTTP {status}), which is not followed")
            if status != 200:
                raise _Refused(f"it answered HTTP {status}")
            fields = {k.lower(): v for k, v in response.headers}
            coding = fields.get(b"content-encoding", b"identity").strip().lower()
            if coding not in (b"", b"identity"):
                raise _Refused("the body has a content coding")
            declared = fields.get(b"content-length", b"").strip()
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise _Refused(f"the body is over {self.max_bytes} octets")
            chunks: list[bytes] = []
            size = 0
            stream = response.aiter_stream()
            async for chunk in stream:
                size += len(chunk)
                if size > self.max_bytes:
                    raise _Refused(f"the body is over {self.max_bytes} octets")
                if time.monotonic() > deadline:
                    raise TimeoutError
                chunks.append(chunk)
            return b"".join(chunks)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]
