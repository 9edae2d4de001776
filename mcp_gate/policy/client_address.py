"""The client address of a request: the peer, or what trusted proxies say it was.

`X-Forwarded-For` (the de-facto form of RFC 7239 §5.2's `for=`) is a list each proxy
appends the address it received from to. Only entries added by proxies the gate trusts
(`proxy.trustedProxies`) are believed: the list is read from the right, past every
trusted hop, and the first address not trusted is the client. A peer that is not trusted
is the client itself, whatever it claims. Pure: takes the peer and the header values.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

from mcp_gate.config.model import IpNetwork

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(text: str | None) -> IpAddress | None:
    """An IP address from a peer name or a header entry (`[v6]` and `v4:port` too)."""
    if not text:
        return None
    if len(text) > _LONGEST_ADDRESS:
        return _parse.__wrapped__(text)  # no address; never worth a cache entry
    return _parse(text)


# `[` IPv6 with a zone `]:` port, generously.
_LONGEST_ADDRESS = 80


# policy: parsing addresses was a tenth of a request's work in the gate's own code, and
# few peers and proxies call; addresses are immutable, so the last few thousand are kept.
@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> IpAddress | None:
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]  # IPv4 with a port
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IpAddress, trusted: tuple[IpNetwork, ...]) -> bool:
    return any(address in network for network in trusted)


def client_address(
    peer: str | None, forwarded_for: Iterable[str], trusted: tuple[IpNetwork, ...]
) -> IpAddress | None:
    """The address the request came from; None when it cannot be known (no peer, or a
    trusted proxy passed on an entry that is not an address)."""
    address = parse_address(peer)
    if address is None or not trusted or not _trusted(address, trusted):
        return address
    hops = [entry for value in forwarded_for for entry in value.split(",") if entry.strip()]
    for entry in reversed(hops):
        address = parse_address(entry)
        if address is None:
            # policy: a garbled hop is no address at all, never the proxy's own, which
            # might sit inside a network a server admits.
            return None
        if not _trusted(address, trusted):
            return address
    return address


@functools.lru_cache(maxsize=4096)
def address_text(address: IpAddress) -> str:
    """`str(address)`, remembered: ipaddress formats an address in Python at every call."""
    return str(address)
