"""Relaying the SSE stream of a server that judges tools: event by event, tool lists filtered.

Both pass-through fronts use it (the streamable POST and GET streams, and a legacy stream
after its `endpoint` event). Every event is decoded within `proxy.maxMessageSize` and goes
through `tool_filter.filter_event` for the caller: an event the filter cannot read is dropped (and
logged); past the size cap the stream ends, with an error for each request the POST
carried. An event cut off by the end of the stream is not relayed: WHATWG HTML §9.2.6
discards it, and the filter could not read it whole.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import structlog

from mcp_gate.jsonrpc import INTERNAL_ERROR, RequestId, dumps, error_response
from mcp_gate.policy.engine import ToolAccess
from mcp_gate.proxy.sse import EventTooLargeError, SseParser, encode_event
from mcp_gate.proxy.tool_filter import filter_event
from mcp_gate.proxy.upstream import RewriteChunks

log = structlog.get_logger()


def filtered_events(
    server: str, access: ToolAccess, parser: SseParser, chunk: bytes
) -> Iterator[bytes]:
    """What to relay of the events `chunk` completes, tool lists filtered; an event the
    filter cannot read is dropped (and logged). EventTooLargeError past the parser's cap."""
    for event in parser.feed(chunk):
        out = filter_event(access, event)
        if out is None:
            log.warning("backend_message_invalid", server=server)
        else:
            yield out


def filter_stream(
    server: str, access: ToolAccess, max_event_bytes: int, request_ids: list[RequestId]
) -> RewriteChunks:
    """The rewrite of one filtered SSE response (for `Upstream.relay`)."""

    async def rewrite(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        parser = SseParser(max_event_bytes)
        try:
            async for chunk in chunks:
                for out in filtered_events(server, access, parser, chunk):
                    yield out
        except EventTooLargeError as exc:
            log.warning("backend_message_too_large", server=server, limit=exc.limit_bytes)
            for request_id in request_ids:
                error = error_response(request_id, INTERNAL_ERROR, f"backend {exc}")
                yield encode_event(dumps(error), event="message")

    return rewrite
