"""A configured server as the proxy sees it: where it is, how to reach it, how to bridge it.

`Backend` turns a `ServerConfig` into upstream URLs and headers for one principal (filling
`$userToken` templates), relays the backend's responses to pass-through clients within the
server's timeout and `proxy.maxMessageSize`, and opens message-level channels for bridged
sessions. It holds
no per-request state; its one piece of live state is the filtered legacy SSE streams this
process relays for the server (`legacy_sse.FilteredStream`, by session query), where the
gate puts its answers to filtered tool calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from mcp_gate.config.model import DEFAULT_MAX_MESSAGE_BYTES, ServerConfig
from mcp_gate.proxy.channels import Channel
from mcp_gate.proxy.credentials import render_mapping, render_url, render_value
from mcp_gate.proxy.http_channels import SseChannel, StreamableHttpChannel
from mcp_gate.proxy.stdio import StdioChannel
from mcp_gate.proxy.upstream import relay_response

if TYPE_CHECKING:
    from mcp_gate.proxy.legacy_sse import FilteredStream


@dataclass(frozen=True)
class Backend:
    config: ServerConfig
    http: aiohttp.ClientSession
    # `proxy.maxMessageSize`: the most the gate reads of one message from this backend.
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    legacy_streams: dict[str, FilteredStream] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def transport(self) -> str:
        return self.config.transport_type

    def url(self, user_token: str | None = None) -> str:
        assert self.config.url is not None, "remote servers always have a url"
        return render_url(self.config.url, self.name, user_token)

    def headers(self, user_token: str | None = None) -> dict[str, str]:
        return render_mapping(self.config.headers, self.name, user_token)

    async def relay(
        self,
        request: web.Request,
        upstream: aiohttp.ClientResponse,
        rewrite_chunks: Callable[[AsyncIterator[bytes]], AsyncIterator[bytes]] | None = None,
    ) -> web.StreamResponse:
        """Relay one response of this backend to the client (`upstream.relay_response`)."""
        return await relay_response(
            request,
            upstream,
            self.name,
            self.config.timeout_seconds,
            max_body_bytes=self.max_message_bytes,
            rewrite_chunks=rewrite_chunks,
        )

    async def open_channel(self, user_token: str | None = None) -> Channel:
        """A message-level channel to a fresh backend session (for bridged fronts)."""
        timeout = self.config.timeout_seconds
        if self.transport in ("sse", "streamable-http"):
            kind = SseChannel if self.transport == "sse" else StreamableHttpChannel
            channel = kind(
                self.http,
                self.name,
                self.url(user_token),
                self.headers(user_token),
                timeout,
                self.max_message_bytes,
            )
            await channel.connect()
            return channel
        child = StdioChannel(
            self.name,
            self.config.command,
            [render_value(arg, self.name, user_token) for arg in self.config.args],
            render_mapping(self.config.env, self.name, user_token),
            self.config.cwd,
            timeout,
        )
        await child.start()
        return child
