"""The aggregate's own answers, built from its members' catalogs: `initialize` and the
merged listings. Pure: catalogs in, JSON-RPC results out.

- `initialize` (MCP 2025-11-25 lifecycle): the protocol version the client asked for when
  the gate speaks it, else the newest handshake version; the union of the members'
  capabilities, with `listChanged` on what the aggregate lists (it forwards every
  member's list change); the members' instructions, each under its member's name.
- Listings: every member's items under the namespace, in member order, in pages of
  `PAGE_SIZE` whose cursor is the offset (MCP 2025-11-25 utilities §Pagination: opaque
  to the client).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from mcp_gate.aggregate.discovery import LISTINGS, MemberCatalog
from mcp_gate.aggregate.names import Namespace
from mcp_gate.jsonrpc import HANDSHAKE_PROTOCOL_VERSIONS

# policy: items per page of a merged listing; members' own pages are read whole.
PAGE_SIZE = 200
VERSION = "1"
# Which list method merges which result key.
LIST_METHODS = {method: key for _, method, key in LISTINGS}
# Member capabilities the aggregate offers when any member has them.
_MERGED_CAPABILITIES = ("prompts", "resources", "logging", "completions")


def initialize_result(
    server: str, params: Mapping[str, Any], catalogs: Mapping[str, MemberCatalog]
) -> dict[str, Any]:
    capabilities: dict[str, Any] = {"tools": {"listChanged": True}}
    for catalog in catalogs.values():
        for key in _MERGED_CAPABILITIES:
            if key in catalog.capabilities:
                capabilities.setdefault(key, {})
        resources = catalog.capabilities.get("resources")
        if isinstance(resources, dict) and resources.get("subscribe"):
            capabilities["resources"]["subscribe"] = True
    for key in ("prompts", "resources"):
        if key in capabilities:
            capabilities[key]["listChanged"] = True
    requested = params.get("protocolVersion")
    known = requested in HANDSHAKE_PROTOCOL_VERSIONS
    result: dict[str, Any] = {
        "protocolVersion": requested if known else HANDSHAKE_PROTOCOL_VERSIONS[-1],
        "capabilities": capabilities,
        "serverInfo": {"name": server, "version": VERSION},
    }
    instructions = [
        f"{member}: {catalog.instructions}"
        for member, catalog in catalogs.items()
        if catalog.instructions
    ]
    if instructions:
        result["instructions"] = "\n\n".join(instructions)
    return result


def merged_page(
    names: Namespace, method: str, cursor: object, catalogs: Mapping[str, MemberCatalog]
) -> dict[str, Any] | None:
    """One page of a merged listing; None for a cursor the gate did not make."""
    offset = _offset(cursor)
    if offset is None:
        return None
    key = LIST_METHODS[method]
    merged = [
        names.published(member, key, item)
        for member, catalog in catalogs.items()
        for item in catalog.items.get(key, ())
    ]
    result: dict[str, Any] = {key: merged[offset : offset + PAGE_SIZE]}
    if offset + PAGE_SIZE < len(merged):
        result["nextCursor"] = _cursor(offset + PAGE_SIZE)
    return result


def _offset(cursor: object) -> int | None:
    if cursor is None:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(str(cursor)))["offset"]
    except (ValueError, KeyError, TypeError):
        return None
    return offset if isinstance(offset, int) and offset >= 0 else None


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()
