"""What each member offers one principal, and the cache of it, per principal.

A member's catalog is what its listings returned (tools, prompts, resources, resource
templates; each kind only when its `initialize` capabilities announce it), every page of
each (MCP 2025-11-25 utilities §Pagination: follow `nextCursor`). The cache is keyed by
principal and member, never by member alone: what a member lists depends on who asks
(their user token, an access policy), so one user's listing is never shown to another;
and by the capabilities the client declared, on which a member's offer may depend too.
An entry lives `discovery.cacheTtl`; a member's `list_changed` or end drops it.
Failures are not cached: a member that was down is asked again at the next listing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mcp_gate.aggregate.member_link import MemberLink
from mcp_gate.principal import Principal

# MCP list methods: capability, method, result key.
LISTINGS = (
    ("tools", "tools/list", "tools"),
    ("prompts", "prompts/list", "prompts"),
    ("resources", "resources/list", "resources"),
    ("resources", "resources/templates/list", "resourceTemplates"),
)
# policy: a member that pages on and on is read this far, not forever.
MAX_PAGES = 100


@dataclass(frozen=True)
class MemberCatalog:
    capabilities: dict[str, Any]
    # By result key (`tools`, `prompts`, `resources`, `resourceTemplates`), as the member
    # names them.
    items: dict[str, tuple[dict[str, Any], ...]] = field(default_factory=dict)
    instructions: str = ""


async def read_catalog(link: MemberLink) -> MemberCatalog:
    """Every listing the member announces, each page of it."""
    items: dict[str, tuple[dict[str, Any], ...]] = {}
    for capability, method, key in LISTINGS:
        if capability not in link.capabilities:
            continue
        found: list[dict[str, Any]] = []
        cursor: object = None
        for _ in range(MAX_PAGES):
            result = await link.request(method, {"cursor": cursor} if cursor else {})
            page = result.get(key)
            found.extend(item for item in page or () if isinstance(item, dict))
            cursor = result.get("nextCursor")
            if not isinstance(cursor, str) or not cursor:
                break
        items[key] = tuple(found)
    instructions = link.initialize_result.get("instructions")
    return MemberCatalog(
        link.capabilities, items, instructions if isinstance(instructions, str) else ""
    )


def view_key(principal: Principal, client_capabilities: Mapping[str, Any]) -> str:
    """Who sees a listing: the principal, as a client with these capabilities."""
    declared = json.dumps(client_capabilities, sort_keys=True, separators=(",", ":"))
    return f"{principal.id}|{hashlib.sha256(declared.encode()).hexdigest()[:16]}"


class DiscoveryCache:
    """Catalogs by (view, member), each for `ttl_seconds`; a view is `view_key`'s."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_seconds = ttl_seconds
        self._clock = clock
        self._entries: dict[tuple[str, str], tuple[float, MemberCatalog]] = {}

    def get(self, view: str, member: str) -> MemberCatalog | None:
        entry = self._entries.get((view, member))
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[(view, member)]
            return None
        return entry[1]

    def put(self, view: str, member: str, catalog: MemberCatalog) -> None:
        now = self._clock()
        # Expired entries go as new ones come, so the cache holds only live principals.
        for key in [k for k, (expiry, _) in self._entries.items() if expiry <= now]:
            del self._entries[key]
        self._entries[(view, member)] = (now + self._ttl_seconds, catalog)

    def drop(self, view: str, member: str) -> None:
        self._entries.pop((view, member), None)
