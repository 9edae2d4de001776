"""Which hosts are this machine, and which URLs may carry secrets in the clear.

One rule used wherever the gate accepts a URL that secrets travel to (the IdP, a service's
OAuth server) or that decides what may run (the dev login): https anywhere, plain http only
to a loopback host, where no network sees the traffic (RFC 6749 §2.3.1 requires TLS for
client secrets; local test providers are the exception). Pure.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback_host(host: str) -> bool:
    """True for `localhost` and loopback IP literals (127.0.0.0/8, ::1), bracketed or not."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_tls_or_loopback_url(url: str) -> bool:
    """https to any host, or plain http to a loopback host."""
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed IPv6 bracket
        return False
    if parts.scheme == "https":
        return bool(parts.hostname)
    return parts.scheme == "http" and is_loopback_host(parts.hostname or "")
