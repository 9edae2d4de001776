"""Gate access tokens for the benchmark, from the real OAuth flow, once per gate and server.

The official SDK client (`mcp.client.auth.OAuthClientProvider`) meets the gate's 401,
reads its protected-resource and authorization-server metadata, registers itself (DCR),
and sends the browser through consent and the OpenID provider's login
(`tests.fixtures.oauth_flow`, the walk the flow tests use); the code becomes a token bound
to that one server's resource (RFC 8707). The benchmark then reuses the token for every
request: the per-request cost it measures is the token check, not the login.
"""

from __future__ import annotations

import asyncio

import httpx2

from bench.echo_mcp import request
from tests.fixtures.oauth_flow import sdk_oauth

# The flow makes about ten loopback round trips; this bounds a wedged provider.
FLOW_TIMEOUT_SECONDS = 60.0


async def _flow(server_url: str) -> str:
    oauth = sdk_oauth(server_url, client_name="mcp-gate bench")
    async with httpx2.AsyncClient(auth=oauth.provider, timeout=FLOW_TIMEOUT_SECONDS) as http:
        # A ping opens no MCP session (and starts no stdio child); its answer does not
        # matter, only that the gate let it through once the flow was done.
        response = await http.post(
            server_url,
            json=request(1, "ping"),
            headers={"Accept": "application/json, text/event-stream"},
        )
    if response.status_code == 401 or oauth.storage.tokens is None:
        raise RuntimeError(f"the OAuth flow for {server_url} gave no token")
    return oauth.storage.tokens.access_token


def obtain_token(server_url: str) -> str:
    """An access token for the gate's server at `server_url` (`…/<name>/mcp`)."""
    return asyncio.run(_flow(server_url))
