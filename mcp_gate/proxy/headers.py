"""Which headers cross the gate, in each direction (docs/specs.md, Transports). Pure.

Requests going upstream carry an allowlist of the client's headers (MCP headers, content
negotiation, tracing) plus the server's configured headers. Everything else — the client's
`Authorization` (the gate's own token: MCP authorization §Token Passthrough forbids sending
it on), the gate's cookies, `Host`, `Origin`, hop-by-hop headers — stays behind.
Responses coming back carry an allowlist too; an upstream `WWW-Authenticate` never does,
since it would point the client at the upstream's authorization server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

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


def _forwarded_request_header(name: str) -> bool:
    lower = name.lower()
    return lower in _FORWARDED_REQUEST_HEADERS or lower.startswith(_FORWARDED_REQUEST_PREFIXES)


def _forwarded_response_header(name: str) -> bool:
    return name.lower() in _FORWARDED_RESPONSE_HEADERS


class _NameRule:
    """A header-name test remembered per spelling: clients and backends send few distinct
    names, and the test runs for every header of every request. Bounded, since names are
    chosen by whoever sends them."""

    _ENTRIES = 1024

    def __init__(self, test: Callable[[str], bool]) -> None:
        self._test = test
        self.known: dict[str, bool] = {}

    def learn(self, name: str) -> bool:
        """The test's answer for a name not in `known` (callers look there first)."""
        answer = self._test(name)
        if len(self.known) < self._ENTRIES:
            self.known[name] = answer
        return answer

    def passing(self, items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        known = self.known
        passed = []
        for name, value in items:
            answer = known.get(name)
            if answer or (answer is None and self.learn(name)):
                passed.append((name, value))
        return passed


_goes_upstream = _NameRule(_forwarded_request_header)
_comes_back = _NameRule(_forwarded_response_header)


def build_upstream_headers(
    incoming: CIMultiDictProxy[str] | Mapping[str, str], configured: Mapping[str, str]
) -> list[tuple[str, str]]:
    """Headers for the upstream request: allowed client headers, then configured ones (a
    configured header replaces the client's of the same name)."""
    headers = _goes_upstream.passing(incoming.items())
    if configured:
        replaced = {name.lower() for name in configured}
        headers = [(name, value) for name, value in headers if name.lower() not in replaced]
        headers.extend(
            (name, value) for name, value in configured.items() if name.lower() != "accept-encoding"
        )
    # No compression upstream, so SSE is never gzip-buffered.
    headers.append(("Accept-Encoding", "identity"))
    return headers


def build_downstream_headers(upstream: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    """Headers for the client's response, from the upstream's response headers."""
    headers: CIMultiDict[str] = CIMultiDict(_comes_back.passing(upstream.items()))
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
