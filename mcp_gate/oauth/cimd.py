"""Client ID Metadata Documents: an https URL as `client_id`, resolved to a `Client`.

Owns recognising such client ids, fetching and validating their documents, and caching the
result (draft-ietf-oauth-client-id-metadata-document-00; MCP 2026-07-28 client
registration §Client ID Metadata Documents). CIMD clients are
public: they have no secret, and `private_key_jwt` is not supported here. Invalid
documents and failed fetches are never cached (draft §4.3), so a fixed document works on
the next request.

The fetch is the one outbound request an unauthenticated party can make the gate send, so
`HttpsDocumentFetcher` does what MCP security considerations §CIMD Security and security
best practices §SSRF ask, in order:

1. https only;
2. resolve the host once and refuse if any address is not public (private, loopback,
   link-local, shared, multicast, reserved, unspecified; IPv4-mapped, 6to4 and NAT64
   IPv6 addresses are judged by the IPv4 address inside);
3. connect to the vetted address itself, with the host name only for TLS (SNI and
   certificate check) and `Host`, so DNS cannot answer differently between the check and
   the connection (rebinding);
4. no redirects, at most `max_bytes` read, everything within `timeout_seconds`.
Tests swap the fetcher for one serving fixtures (`DocumentFetcher`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp
import structlog
import yarl

from mcp_gate.crypto.digest import token_digest
from mcp_gate.errors import GateError
from mcp_gate.oauth.errors import InvalidClient, InvalidClientMetadata, InvalidRedirectUri
from mcp_gate.oauth.models import Client
from mcp_gate.oauth.registration import parse_client_metadata
from mcp_gate.store.memory import MemoryStore
from mcp_gate.store.protocols import Store
from mcp_gate.store.records import from_json, to_json

log = structlog.get_logger()

CIMD_CACHE_KIND = "cimd_client"
# policy: URLs this long are not client ids anyone publishes.
MAX_CIMD_URL_CHARS = 2000
# policy: cache bounds. At least a minute, so a busy client cannot make us refetch on
# every request; at most a day, so a changed document is seen the next day; an hour when
# the server says nothing (RFC 9111 §4.2.2 leaves heuristics to the cache).
CACHE_MIN_SECONDS = 60
CACHE_MAX_SECONDS = 24 * 3600
CACHE_DEFAULT_SECONDS = 3600

_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")


def is_cimd_client_id(client_id: str) -> bool:
    """True when `client_id` has the shape of a Client ID Metadata Document URL.

    Draft §3: https, a path other than "/", no fragment, no user information, no "." or
    ".." path segments.
    """
    if len(client_id) > MAX_CIMD_URL_CHARS or not _PRINTABLE_ASCII.fullmatch(client_id):
        return False
    try:
        parts = urlsplit(client_id)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    segments = parts.path.split("/")
    return (
        parts.scheme == "https"
        and bool(parts.hostname)
        and "@" not in parts.netloc
        and "#" not in client_id
        and parts.path not in ("", "/")
        and "." not in segments
        and ".." not in segments
    )


@dataclass(frozen=True)
class FetchedDocument:
    body: bytes
    # The response's Cache-Control header, "" when absent.
    cache_control: str = ""


class DocumentFetchError(GateError):
    """The document could not be fetched. `reason` is safe to show to the client."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class DocumentFetcher(Protocol):
    async def fetch(self, url: str) -> FetchedDocument:
        """The document at `url` (status 200), or raise `DocumentFetchError`."""
        ...


def parse_cimd_document(client_id: str, body: bytes, *, now: float) -> Client:
    """The public client a fetched document describes, or raise `InvalidClient`."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
        raise InvalidClient("client metadata document is not valid JSON") from None
    if not isinstance(document, dict):
        raise InvalidClient("client metadata document must be a JSON object")
    if document.get("client_id") != client_id:  # draft §4.1: simple string comparison
        raise InvalidClient("client metadata document's client_id does not equal its URL")
    if "client_secret" in document or "client_secret_expires_at" in document:
        raise InvalidClient("client metadata document must not carry a client_secret")
    try:
        metadata = parse_client_metadata(document)
    except (InvalidRedirectUri, InvalidClientMetadata) as error:
        raise InvalidClient(f"client metadata document: {error.description}") from None
    method = metadata.token_endpoint_auth_method
    if method == "private_key_jwt":
        raise InvalidClient(
            "client metadata document asks for private_key_jwt, which this server does not "
            "support; publish token_endpoint_auth_method 'none'"
        )
    if method not in (None, "none"):  # draft §4.1: no shared secrets without registration
        raise InvalidClient("client metadata document's token_endpoint_auth_method must be none")
    if metadata.dropped_redirect_uris:
        log.info(
            "client_redirect_uris_dropped",
            client_id=client_id,
            dropped=list(metadata.dropped_redirect_uris),
        )
    return Client(
        client_id=client_id,
        redirect_uris=metadata.redirect_uris,
        token_endpoint_auth_method="none",  # noqa: S106 - a method name
        client_name=metadata.client_name,
        grant_types=metadata.grant_types,
        response_types=metadata.response_types,
        scope=metadata.scope,
        application_type=metadata.application_type,
        client_uri=metadata.client_uri,
        logo_uri=metadata.logo_uri,
        issued_at=int(now),
        source="cimd",
    )


def cache_seconds(cache_control: str) -> int | None:
    """How long to keep a document, from its Cache-Control header; None: do not keep it.

    RFC 9111 §5.2.2: `no-store` forbids keeping it; `no-cache` requires revalidation we
    do not do, so it is not kept either; `max-age` is bounded by our policy.
    """
    directives: dict[str, str] = {}
    for directive in cache_control.split(","):
        name, _, value = directive.partition("=")
        directives[name.strip().lower()] = value.strip().strip('"')
    if "no-store" in directives or "no-cache" in directives:
        return None
    max_age = directives.get("max-age")
    if max_age is None:
        return CACHE_DEFAULT_SECONDS
    seconds = int(max_age) if max_age.isdigit() else 0  # RFC 9111 §4.2.1: invalid is stale
    return min(max(seconds, CACHE_MIN_SECONDS), CACHE_MAX_SECONDS)


class CimdResolver:
    """Resolves URL client ids to clients, through a cache.

    The cache is `store` when given (replicas then share it), else a private in-memory
    store. `clock` is Unix time: the `issued_at` of resolved clients, and the in-memory
    cache's expiry.
    """

    def __init__(
        self,
        fetcher: DocumentFetcher,
        store: Store | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._fetcher = fetcher
        self._store: Store = store if store is not None else MemoryStore(clock=clock)
        self._clock = clock

    async def resolve(self, client_id: str) -> Client:
        """The client of a Client ID Metadata Document URL, or raise `InvalidClient`."""
        if not is_cimd_client_id(client_id):
            raise InvalidClient("client_id is not a valid client metadata document URL")
        key = token_digest(client_id)
        cached = from_json(Client, await self._store.get(CIMD_CACHE_KIND, key))
        if cached is not None:
            return cached
        try:
            fetched = await self._fetcher.fetch(client_id)
        except DocumentFetchError as error:
            log.warning("cimd_fetch_failed", client_id=client_id, reason=error.reason)
            raise InvalidClient(
                f"client metadata document could not be fetched: {error.reason}"
            ) from None
        try:
            client = parse_cimd_document(client_id, fetched.body, now=self._clock())
        except InvalidClient as error:
            log.warning("cimd_document_refused", client_id=client_id, reason=error.description)
            raise
        ttl_seconds = cache_seconds(fetched.cache_control)
        if ttl_seconds is not None:
            await self._store.put(CIMD_CACHE_KIND, key, to_json(client), ttl_seconds=ttl_seconds)
        return client


# The real fetcher.

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
HostResolver = Callable[[str, int], Awaitable[Sequence[IpAddress]]]

# policy: a metadata document is a few hundred bytes; 16 KiB, the same cap as a DCR
# registration (web/request_bodies.py), leaves room and bounds what a cached client holds.
CIMD_DOCUMENT_MAX_BYTES = 16 * 1024
# policy: the user waits on /authorize while we fetch; a slow host fails it rather than
# holding the request.
CIMD_FETCH_TIMEOUT_SECONDS = 5.0
_READ_CHUNK_BYTES = 8192

# Not globally reachable (IANA special-purpose registries, RFC 6890), listed here because
# `is_global` differs between Python patch releases.
_NON_PUBLIC_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/8",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 §2.1


def is_public_address(address: IpAddress) -> bool:
    """True when `address` is a public unicast address a document may be fetched from."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(embedded)
    if not address.is_global or address.is_multicast or address.is_reserved:
        return False
    return not any(address in network for network in _NON_PUBLIC_NETWORKS)


async def resolve_host(host: str, port: int) -> Sequence[IpAddress]:
    """Every address the system resolver gives for `host` (IP literals resolve to themselves)."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in infos]


class HttpsDocumentFetcher:
    """`DocumentFetcher` over a shared aiohttp session, with the SSRF guards above.

    `resolve` and `is_allowed_address` exist for tests, which serve documents from a
    loopback TLS server under a made-up host name; production keeps the defaults.
    """

    def __init__(
        self,
        http: aiohttp.ClientSession,
        *,
        resolve: HostResolver = resolve_host,
        is_allowed_address: Callable[[IpAddress], bool] = is_public_address,
        max_bytes: int = CIMD_DOCUMENT_MAX_BYTES,
        timeout_seconds: float = CIMD_FETCH_TIMEOUT_SECONDS,
    ) -> None:
        self._http = http
        self._resolve = resolve
        self._is_allowed_address = is_allowed_address
        self._max_bytes = max_bytes
        self._timeout_seconds = timeout_seconds

    async def fetch(self, url: str) -> FetchedDocument:
        try:
            parts = urlsplit(url)
            port = parts.port or 443
        except ValueError:
            raise DocumentFetchError("the URL is malformed") from None
        host = parts.hostname
        if parts.scheme != "https" or not host or "@" in parts.netloc:
            raise DocumentFetchError("only https URLs without user information are fetched")
        try:
            async with asyncio.timeout(self._timeout_seconds):
                address = await self._vetted_address(host, port)
                return await self._get(address, port, host, parts.path, parts.query)
        except TimeoutError:
            raise DocumentFetchError(f"no answer within {self._timeout_seconds:g} s") from None
        except aiohttp.ClientError as error:
            raise DocumentFetchError(f"connection failed ({type(error).__name__})") from None

    async def _vetted_address(self, host: str, port: int) -> IpAddress:
        try:
            addresses = await self._resolve(host, port)
        except OSError:
            raise DocumentFetchError("the host name does not resolve") from None
        if not addresses:
            raise DocumentFetchError("the host name does not resolve")
        # policy: one non-public address refuses the host, so an attacker cannot mix
        # addresses and hope that a later connection attempt picks the private one.
        if not all(self._is_allowed_address(address) for address in addresses):
            raise DocumentFetchError("the host resolves to a non-public address")
        return addresses[0]

    async def _get(
        self, address: IpAddress, port: int, host: str, path: str, query: str
    ) -> FetchedDocument:
        literal = f"[{address}]" if address.version == 6 else str(address)
        target = yarl.URL(
            f"https://{literal}:{port}{path}{'?' + query if query else ''}", encoded=True
        )
        headers = {
            "Host": host if port == 443 else f"{host}:{port}",
            "Accept": "application/json",
            "Accept-Encoding": "identity",
        }
        async with self._http.get(
            target, headers=headers, server_hostname=host, allow_redirects=False
        ) as response:
            if 300 <= response.status < 400:
                raise DocumentFetchError(f"redirects are not followed (HTTP {response.status})")
            if response.status != 200:
                raise DocumentFetchError(f"HTTP status {response.status}")
            if (response.content_length or 0) > self._max_bytes:
                raise DocumentFetchError(f"the document is larger than {self._max_bytes} bytes")
            body = bytearray()
            async for chunk in response.content.iter_chunked(_READ_CHUNK_BYTES):
                body += chunk
                if len(body) > self._max_bytes:
                    raise DocumentFetchError(f"the document is larger than {self._max_bytes} bytes")
            return FetchedDocument(bytes(body), response.headers.get("Cache-Control", ""))
