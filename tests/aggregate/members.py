"""The aggregate the tests of tests/aggregate/ stand on, and what they ask of it.

`four_members(...)` is one of each member kind docs/config.md names: PyPI's mcp-server-time
as a stdio child (`time`), npm server-everything over remote streamable HTTP
(`everything`), the Python SDK server over legacy HTTP+SSE (`py`), and a server that
needs each user's own token (`notion`, the Python SDK server over streamable HTTP with
the user's token in its Authorization header). `aggregate(...)` is the `type: aggregate`
entry over them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import mcp_types as types
from mcp import Client
from mcp.client.session import ClientRequestContext

from mcp_gate.config.model import AggregateConfig, DiscoveryConfig, ServerConfig
from tests.fixtures.gate import remote
from tests.fixtures.mcp_clients import streamable_client
from tests.fixtures.mcp_servers import RunningServer
from tests.fixtures.oauth_flow import SdkOAuth, sdk_oauth
from tests.fixtures.stdio_backends import time_stdio
from tests.fixtures.user_tokens import notion_server

NOTION_TOKEN = "ntn_AggregateUser0000"


def aggregate(
    *members: str,
    name: str = "all",
    timeout_seconds: float = 10.0,
    max_conns_per_user: int = 0,
    **fields: object,
) -> ServerConfig:
    discovery = DiscoveryConfig(
        timeout_seconds=timeout_seconds, max_conns_per_user=max_conns_per_user
    )
    return ServerConfig(
        name=name,
        transport_type="streamable-http",
        aggregate=AggregateConfig(members=members, discovery=discovery),
        **fields,  # type: ignore[arg-type]
    )


def four_members(
    everything: RunningServer, py_sse: RunningServer, py_streamable: RunningServer
) -> dict[str, ServerConfig]:
    servers = [
        time_stdio("time", service_auths=()),
        remote("everything", "streamable-http", everything.url),
        remote("py", "sse", py_sse.url),
        notion_server(py_streamable.url, name="notion"),
    ]
    members = {server.name: server for server in servers}
    return {**members, "all": aggregate(*members)}


@asynccontextmanager
async def signed_in_client(url: str, oauth: SdkOAuth | None = None) -> AsyncIterator[Client]:
    """The SDK client on `url`, logged in through the gate's OAuth flow (the IdP signs in
    whoever the test set with `set_next_user`)."""
    oauth = oauth or sdk_oauth(url)
    async with streamable_client(url, auth=oauth.provider) as client:
        yield client


def names(items: object) -> list[str]:
    return [item.name for item in items]  # type: ignore[attr-defined]


def text_of(result: types.CallToolResult | types.GetPromptResult) -> str:
    if isinstance(result, types.GetPromptResult):
        blocks = [message.content for message in result.messages]
    else:
        blocks = list(result.content)
    return "".join(b.text for b in blocks if isinstance(b, types.TextContent))


async def accept_elicitation(
    context: ClientRequestContext, params: types.ElicitRequestParams
) -> types.ElicitResult:
    """A client that elicits: it accepts, with the fields server-everything asks for."""
    return types.ElicitResult(action="accept", content={"name": "Alice Example", "check": True})
