"""Which redirect URIs a client may register, and whether a presented one matches.

Owns the redirect URI rules of the authorization server: what a registration (DCR, CIMD)
may list and how `/authorize` compares the `redirect_uri` it is given with the registered
ones. Follows RFC 6749 §3.1.2, RFC 8252 §7.1 and §7.3, OAuth 2.1 §8.4.2, MCP 2026-07-28
security considerations §Open Redirection. Pure: no I/O, no storage, no logging.

- `https`: any host, exact match.
- `loopback`: `http` on `localhost`, `127.0.0.1` or `[::1]`; matches on any port, since
  native clients listen on an ephemeral one (RFC 8252 §7.3).
- `private_use`: a known MCP client's scheme, or a reverse-domain scheme (RFC 8252 §7.1),
  exact match.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal
from urllib.parse import SplitResult, urlsplit

from mcp_gate.oauth.errors import InvalidRedirectUri

RedirectUriKind = Literal["https", "loopback", "private_use"]

# policy: long enough for any real callback, short enough to keep records and logs small.
MAX_REDIRECT_URI_CHARS = 2000
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})  # RFC 8252 §7.3, §8.3
# policy: private-use schemes of MCP clients in the field (Cursor's `cursor://`, VS Code's).
# Any scheme with a dot is taken as reverse-domain (RFC 8252 §7.1) and needs no entry.
KNOWN_PRIVATE_USE_SCHEMES = frozenset(
    {"cursor", "vscode", "vscode-insiders", "vscodium", "windsurf", "zed", "claude"}
)
# Schemes that run code or read local data in a browser: a registration listing one is
# refused as a whole (RFC 7591 §3.2.2 invalid_redirect_uri). The rest of the unusable ones are
# dropped.
DANGEROUS_SCHEMES = frozenset({"javascript", "data", "file", "vbscript"})
_NEVER_SCHEMES = DANGEROUS_SCHEMES | {"about", "blob", "filesystem", "view-source"}

_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")  # RFC 3986 §3.1
_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")


def is_dangerous_redirect_uri(uri: str) -> bool:
    """True for `javascript:`, `data:`, `file:` and `vbscript:` URIs, however disguised.

    Browsers drop ASCII whitespace and controls before reading a scheme (WHATWG URL §4.4),
    so `" java\\tscript:"` counts too.
    """
    squeezed = "".join(ch for ch in uri if ch > " ").lower()
    return any(squeezed.startswith(scheme + ":") for scheme in DANGEROUS_SCHEMES)


def classify_redirect_uri(uri: str) -> RedirectUriKind:
    """The kind of a redirect URI a client may register, or raise `InvalidRedirectUri`."""
    if len(uri) > MAX_REDIRECT_URI_CHARS:
        raise InvalidRedirectUri(f"redirect URI longer than {MAX_REDIRECT_URI_CHARS} characters")
    if not _PRINTABLE_ASCII.fullmatch(uri):
        raise InvalidRedirectUri("redirect URI must be printable ASCII without spaces")
    if "#" in uri:
        raise InvalidRedirectUri("redirect URI must not contain a fragment")  # RFC 6749 §3.1.2
    scheme, colon, _ = uri.partition(":")
    scheme = scheme.lower()
    if not colon or not _SCHEME.fullmatch(scheme):
        raise InvalidRedirectUri("redirect URI must be absolute")  # RFC 6749 §3.1.2
    if scheme in _NEVER_SCHEMES:
        raise InvalidRedirectUri(f"redirect URI scheme {scheme!r} is not allowed")
    parts = _split(uri)
    if "@" in parts.netloc:
        raise InvalidRedirectUri("redirect URI must not contain user information")
    if scheme == "https":
        if not parts.hostname:
            raise InvalidRedirectUri("https redirect URI needs a host")
        return "https"
    if scheme == "http":
        # MCP 2026-07-28 security §Communication Security: localhost or https only.
        if parts.hostname not in LOOPBACK_HOSTS:
            raise InvalidRedirectUri(
                "http redirect URIs are allowed only on localhost, 127.0.0.1 or [::1]"
            )
        return "loopback"
    if scheme in KNOWN_PRIVATE_USE_SCHEMES or "." in scheme:  # RFC 8252 §7.1
        return "private_use"
    raise InvalidRedirectUri(f"redirect URI scheme {scheme!r} is not a known private-use scheme")


def redirect_uri_matches(registered: Sequence[str], presented: str) -> bool:
    """True when `presented` is one of the `registered` redirect URIs.

    Exact string comparison (OAuth 2.1 §4.1.1, RFC 9700 §4.1.3), except that a loopback
    `http` URI matches whatever its port (RFC 8252 §7.3, OAuth 2.1 §8.4.2): scheme, host,
    path and query still match, and `localhost` and `127.0.0.1` are different hosts.
    """
    try:
        kind = classify_redirect_uri(presented)
    except InvalidRedirectUri:
        return False
    if presented in registered:
        return True
    if kind != "loopback":
        return False
    wanted = _loopback_key(presented)
    return any(_loopback_key(uri) == wanted for uri in registered if _is_loopback(uri))


def _is_loopback(uri: str) -> bool:
    try:
        return classify_redirect_uri(uri) == "loopback"
    except InvalidRedirectUri:
        return False


def _loopback_key(uri: str) -> tuple[str | None, str, str]:
    parts = _split(uri)
    # RFC 3986 §6.2.3: an empty http path is the same as "/".
    return parts.hostname, parts.path or "/", parts.query


def _split(uri: str) -> SplitResult:
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise InvalidRedirectUri("redirect URI is malformed") from None
    return parts
