"""A configured server as the proxy sees it: where it is, how to reach it, how to bridge it.

`Backend` turns a `ServerConfig` into upstream URLs and headers for one principal (filling
`$userToken` templates; a server without templates renders them once, at start; adding the
server's `identity` headers, backend_identity/) and opens message-level channels for
bridged sessions (a stdio child gets the `identity` env at start). It is a view of the
config: it holds no live state (the fronts own their streams and sessions, fronts.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp

from mcp_gate.backend_identity.backend import BackendIdentity
from mcp_gate.config.model import DEFAULT_MAX_MESSAGE_BYTES, ServerConfig, UserTokenTemplate
from mcp_gate.policy.engine import PolicyEngine
from mcp_gate.principal import Principal
from mcp_gate.proxy.channels import Channel
from mcp_gate.proxy.credentials import render_mapping, render_url, render_value
from mcp_gate.proxy.http_channels import SseChannel, StreamableHttpChannel
from mcp_gate.proxy.stdio import StdioChannel


@dataclass(frozen=True)
class Backend:
    config: ServerConfig
    # The aiohttp client of bridged remote channels (the pass-through has its own, http1).
    http: aiohttp.ClientSession
    # `proxy.maxMessageSize`: the most the gate reads of one message from this backend.
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    # Who the backend is told the caller is (`identity`); None for most servers.
    identity: BackendIdentity | None = None
    # The server's access policy and tool filter, compiled once.
    policy: PolicyEngine = field(init=False, repr=False)
    _static_headers: dict[str, str] | None = field(init=False, default=None, repr=False)
    _static_url: str | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        engine = PolicyEngine(self.config.policy, self.config.options.tool_filter)
        object.__setattr__(self, "policy", engine)
        # Rendered once when nothing in them depends on the caller (the common case).
        if not any(isinstance(v, UserTokenTemplate) for v in self.config.headers.values()):
            object.__setattr__(self, "_static_headers", self.headers())
        url = self.config.url
        if url is not None and not isinstance(url, UserTokenTemplate):
            object.__setattr__(self, "_static_url", self.url())

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def transport(self) -> str:
        return self.config.transport_type

    @property
    def timeout_seconds(self) -> float:
        return self.config.timeout_seconds

    def url(self, user_token: str | None = None) -> str:
        if self._static_url is not None:
            return self._static_url
        assert self.config.url is not None, "remote servers always have a url"
        return render_url(self.config.url, self.name, user_token)

    def headers(self, user_token: str | None = None) -> dict[str, str]:
        """The configured headers (for every caller alike, but for `$userToken`)."""
        if self._static_headers is not None:
            return self._static_headers
        return render_mapping(self.config.headers, self.name, user_token)

    def request_headers(self, principal: Principal, user_token: str | None) -> dict[str, str]:
        """The headers the gate adds to a request made for `principal`."""
        if self.identity is None:
            return self.headers(user_token)
        return {**self.headers(user_token), **self.identity.headers_for(principal)}

    async def open_channel(self, principal: Principal, user_token: str | None = None) -> Channel:
        """A message-level channel to a fresh backend session of `principal` (bridges)."""
        timeout = self.config.timeout_seconds
        if self.transport in ("sse", "streamable-http"):
            kind = SseChannel if self.transport == "sse" else StreamableHttpChannel
            channel = kind(
                self.http,
                self.name,
                self.url(user_token),
                self.request_headers(principal, user_token),
                timeout,
                self.max_message_bytes,
            )
            await channel.connect()
            return channel
        child = StdioChannel(
            self.name,
            self.config.command,
            [render_value(arg, self.name, user_token) for arg in self.config.args],
            {
                **render_mapping(self.config.env, self.name, user_token),
                **(self.identity.env_for(principal) if self.identity is not None else {}),
            },
            self.config.cwd,
            timeout,
        )
        await child.start()
        return child
