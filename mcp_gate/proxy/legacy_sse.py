"""Legacy HTTP+SSE front on a legacy SSE backend: a pass-through that rewrites one event.

MCP 2024-11-05 transports §HTTP with SSE: the stream's first event, `endpoint`, names the
URL the client must POST its messages to. The backend names its own URL; the gate rewrites
that event onto its public `/<name>/message` path, keeps the query string opaque (reference
§3.1), and records query → (owner, backend URL). Every other byte of the stream passes
through untouched and unbuffered. POSTs to `/<name>/message` go to the recorded backend
URL, for the recorded owner only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urljoin, urlsplit

from aiohttp import web

from mcp_gate.principal import Principal
from mcp_gate.proxy.backends import Backend
from mcp_gate.proxy.bindings import SessionBindings
from mcp_gate.proxy.headers import build_upstream_headers
from mcp_gate.proxy.responses import session_not_found
from mcp_gate.proxy.sse import SseParser, encode_event
from mcp_gate.proxy.upstream import open_upstream, relay_response


async def open_sse_stream(
    request: web.Request,
    backend: Backend,
    principal: Principal,
    bindings: SessionBindings,
    message_path: str,
    user_token: str | None,
) -> web.StreamResponse:
    upstream_url = backend.url(user_token)
    headers = build_upstream_headers(request.headers, backend.headers(user_token))
    upstream = await open_upstream(
        backend.http, backend.name, backend.config.timeout_seconds, "GET", upstream_url, headers
    )

    async def rewrite(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        parser = SseParser()
        async for chunk in chunks:
            for event in parser.feed(chunk):
                if event.event != "endpoint":
                    yield event.raw
                    continue
                backend_endpoint = urljoin(upstream_url, event.data.strip())
                query = urlsplit(backend_endpoint).query
                await bindings.bind(backend.name, query, principal, target=backend_endpoint)
                public = f"{message_path}?{query}" if query else message_path
                yield encode_event(public, event="endpoint", event_id=event.id)
                # The endpoint event comes first; from here on, bytes pass untouched.
                if parser.pending:
                    yield parser.pending
                async for rest in chunks:
                    yield rest
                return

    return await relay_response(
        request, upstream, backend.name, backend.config.timeout_seconds, rewrite_chunks=rewrite
    )


async def forward_message(
    request: web.Request,
    backend: Backend,
    principal: Principal,
    bindings: SessionBindings,
    body: bytes,
    user_token: str | None,
) -> web.StreamResponse:
    binding = await bindings.lookup(backend.name, request.query_string, principal)
    if binding is None:
        return session_not_found()
    headers = build_upstream_headers(request.headers, backend.headers(user_token))
    upstream = await open_upstream(
        backend.http,
        backend.name,
        backend.config.timeout_seconds,
        "POST",
        binding.target,
        headers,
        body,
    )
    return await relay_response(request, upstream, backend.name, backend.config.timeout_seconds)
