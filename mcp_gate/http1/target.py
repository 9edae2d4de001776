"""Where a request goes: the origin a connection is pooled under, and the request target.

Pure. `parse_url` turns an absolute http(s) URL into its origin (RFC 6454 §4: scheme, host,
port), the origin-form request target (RFC 9112 §3.2.1: path and query), the `Host` field
value (RFC 9110 §7.2) and, for a URL with user information, the `Authorization` value it
stands for. It opens no connection and knows nothing of pools.
"""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from typing import Literal, NamedTuple, cast
from urllib.parse import SplitResult, quote, unquote, urlsplit

Scheme = Literal["http", "https"]
DEFAULT_PORTS: dict[str, int] = {"http": 80, "https": 443}
# RFC 3986 §2.2 reserved and §2.3 unreserved characters, and `%` so that escapes stay as
# they are: everything else (spaces, controls, non-ASCII) is percent-encoded, so no byte
# of a templated URL can end the request line early.
_TARGET_SAFE = "!#$%&'()*+,/:;=?@[]~"
_PARSED_URLS_CACHED = 1024


class Origin(NamedTuple):
    """One backend origin; connections are pooled per origin (a tuple: hashed in C when a
    request looks its pool up)."""

    scheme: Scheme
    host: str  # ASCII (IDNA) name or IP literal, IPv6 without brackets
    port: int

    @property
    def is_tls(self) -> bool:
        return self.scheme == "https"

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Target:
    origin: Origin
    path: str  # origin-form request target: absolute path and optional query
    host_header: str
    authorization: str | None  # `Basic …` from user information in the URL, if any


@functools.lru_cache(maxsize=_PARSED_URLS_CACHED)
def parse_url(url: str) -> Target:
    """The target of an absolute http(s) URL; ValueError for any other URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError("the URL's scheme is not http or https")
    if not parts.hostname:
        raise ValueError("the URL has no host")
    host = _ascii_host(parts.hostname)
    port = parts.port or DEFAULT_PORTS[scheme]  # a bad port raises ValueError
    bracketed = f"[{host}]" if ":" in host else host
    # RFC 9110 §7.2: the port is left out of Host when it is the scheme's default.
    host_header = bracketed if port == DEFAULT_PORTS[scheme] else f"{bracketed}:{port}"
    path = parts.path or "/"  # RFC 9112 §3.2.1: an empty path is sent as "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    origin = Origin(cast(Scheme, scheme), host, port)
    return Target(origin, quote(path, safe=_TARGET_SAFE), host_header, _basic(parts))


def _ascii_host(hostname: str) -> str:
    if hostname.isascii():
        return hostname
    return hostname.encode("idna").decode("ascii")  # RFC 5890 A-labels on the wire


def _basic(parts: SplitResult) -> str | None:
    # RFC 3986 §3.2.1 user information, sent as RFC 7617 Basic credentials (what the aiohttp
    # client did for such URLs, so a configured URL keeps working).
    if parts.username is None:
        return None
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")
