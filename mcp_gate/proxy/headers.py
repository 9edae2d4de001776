"""Which headers cross the gate, in each direction (docs/specs.md, Transports). Pure.

Requests going upstream carry an allowlist of the client's headers (MCP headers, content
negotiation, tracing) plus the server's configured headers. Everything else — the client's
`Authorization` (the gate's own token: MCP authorization §Token Passthrough forbids sending
it on), the gate's cookies, `Host`, `Origin`, hop-by-hop headers — stays behind.
Responses coming back carry an allowlist too; an upstream `WWW-Authenticate` never does,
since it would point the client at the upstream's authorization server.
"""

from __future__ import annotations

from collections.abc import Mapping

from multidict import CIMultiDict, CIMultiDictProxy

_FORWARDED_REQUEST_HEADERS = frozenset(
    h.lower()
    for h in (
        "Accept",
        "Content-Type",
        "MCP-Protocol-Version",
        "Mcp-Session-Id",
        "Last-Event-ID",
        "Mcp-Method",
        "Mcp-Name",
        "traceparent",
        "tracestate",
        "baggage",
        "User-Agent",
    )
)
# MCP 2026-07-28 streamable HTTP: intermediaries MUST forward Mcp-Param-* they don't know.
_FORWARDED_REQUEST_PREFIXES = ("mcp-param-",)

_FORWARDED_RESPONSE_HEADERS = frozenset(
    h.lower()
    for h in (
        "Content-Type",
        # The gate asks for `identity`; a backend that compresses anyway must say so.
        "Content-Encoding",
        "Mcp-Session-Id",
        "MCP-Protocol-Version",
        "Cache-Control",
        "Allow",
        "Retry-After",
        "Last-Event-ID",
    )
)

SESSION_HEADER = "Mcp-Session-Id"
PROTOCOL_VERSION_HEADER = "MCP-Protocol-Version"


def build_upstream_headers(
    incoming: CIMultiDictProxy[str] | Mapping[str, str], configured: Mapping[str, str]
) -> CIMultiDict[str]:
    """Headers for the upstream request: allowed client headers, then configured ones."""
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in incoming.items():
        lower = name.lower()
        if lower in _FORWARDED_REQUEST_HEADERS or lower.startswith(_FORWARDED_REQUEST_PREFIXES):
            headers.add(name, value)
    for name, value in configured.items():
        headers[name] = value
    # No compression upstream, so SSE is never gzip-buffered.
    headers["Accept-Encoding"] = "identity"
    return headers


def build_downstream_headers(upstream: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    """Headers for the client's response, from the upstream's response headers."""
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in upstream.items():
        if name.lower() in _FORWARDED_RESPONSE_HEADERS:
            headers.add(name, value)
    if is_event_stream(headers.get("Content-Type")):
        add_event_stream_headers(headers)
    return headers


def add_event_stream_headers(headers: CIMultiDict[str]) -> None:
    # nginx and AWS ALBs buffer SSE unless told not to (MCP 2026-07-28 transports asks
    # servers for X-Accel-Buffering: no).
    headers["Cache-Control"] = "no-cache"
    headers["X-Accel-Buffering"] = "no"


def is_event_stream(content_type: str | None) -> bool:
    if not content_type:
        return False
    return content_type.split(";")[0].strip().lower() == "text/event-stream"
