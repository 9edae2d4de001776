"""A configured server as the proxy sees it: where it is, how to reach it, how to bridge it.

`Backend` turns a `ServerConfig` into upstream URLs and headers for one principal (filling
`$userToken` templates) and opens message-level channels for bridged sessions. It holds
no per-request state; its one piece of live state is the filtered legacy SSE streams this
process relays for the server (`legacy_sse.FilteredStream`, by session query), where the
gate puts its answers to filtered tool calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiohttp

from mcp_gate.config.model import ServerConfig
from mcp_gate.proxy.channels import Channel, SseChannel, StreamableHttpChannel
from mcp_gate.proxy.credentials import render_mapping, render_value
from mcp_gate.proxy.stdio import StdioChannel

if TYPE_CHECKING:
    from mcp_gate.proxy.legacy_sse import FilteredStream


@dataclass(frozen=True)
class Backend:
    config: ServerConfig
    http: aiohttp.ClientSession
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
        return render_value(self.config.url, self.name, user_token)

    def headers(self, user_token: str | None = None) -> dict[str, str]:
        return render_mapping(self.config.headers, self.name, user_token)

    async def open_channel(self, user_token: str | None = None) -> Channel:
        """A message-level channel to a fresh backend session (for bridged fronts)."""
        timeout = self.config.timeout_seconds
        if self.transport == "sse":
            channel = SseChannel(
                self.http, self.name, self.url(user_token), self.headers(user_token), timeout
            )
            await channel.connect()
            return channel
        if self.transport == "streamable-http":
            return StreamableHttpChannel(
                self.http, self.name, self.url(user_token), self.headers(user_token), timeout
            )
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
