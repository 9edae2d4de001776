"""Per-server access and per-tool rules, end to end: the official SDK clients log in at the
real OpenID provider through the gate and use py_server on every front and backend type.

Users: alice@example.com is admitted by domain (and may hold `admin`, by email);
partner@other.org by email (`allowedEmails` lets her log in, `access.emails` in). The
group-admitted user is shown in test_policy_engine.py: no IdP path fills a principal's
groups yet (the groups work does), so no login here can carry one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from mcp.shared.exceptions import MCPError

from mcp_gate.config.model import (
    AccessRule,
    Selector,
    ServerConfig,
    ServerPolicy,
    ToolRule,
)
from mcp_gate.proxy.tool_filter import INVALID_PARAMS
from tests.fixtures.gate import RunningGate, remote
from tests.fixtures.mcp_clients import sse_client, streamable_client
from tests.fixtures.mcp_servers import RunningServer
from tests.fixtures.oauth_client import (
    Pkce,
    authorization_url,
    exchange_code,
    register,
    unverified_claims,
)
from tests.fixtures.oauth_flow import Browser, sdk_oauth
from tests.fixtures.oauth_gate import OAuthGateFactory
from tests.fixtures.oidc_provider import OidcTestProvider
from tests.fixtures.stdio_backends import py_stdio

ALICE = "alice@example.com"
PARTNER = "partner@other.org"
POLICY = ServerPolicy(
    access=AccessRule(who=Selector(emails=(PARTNER,), domains=("example.com",))),
    scopes={"admin": Selector(emails=(ALICE,))},
    tools=(
        ToolRule("delete_*", who=Selector(emails=(ALICE,))),
        ToolRule("merge_*", scope="admin"),
        ToolRule("crash", who=Selector()),  # names nobody: hidden from everyone
    ),
)
EVERYONE = {"echo", "add", "slow_count", "ask_llm", "big", "whoami", "pid", "hang", "grow_tools"}
SEES = {
    ALICE: EVERYONE | {"read_issue", "delete_repo", "merge_pr"},
    PARTNER: EVERYONE | {"read_issue"},
}
GateFor = Callable[[str], AbstractAsyncContextManager[tuple[RunningGate, Callable[[], str]]]]


@pytest.fixture
def gate_for(
    oauth_gate_factory: OAuthGateFactory,
    py_streamable_server: RunningServer,
    py_sse_server: RunningServer,
    tmp_path: Path,
) -> GateFor:
    """A gate whose server `gh` (of the given backend type) has POLICY; yields the gate and
    a reader of what the backend recorded running."""

    @asynccontextmanager
    async def start(transport: str) -> AsyncIterator[tuple[RunningGate, Callable[[], str]]]:
        record = tmp_path / "calls.log"
        record.touch()
        if transport == "stdio":
            server: ServerConfig = py_stdio(
                "gh", service_auths=(), env={"PY_SERVER_CALL_LOG": str(record)}, policy=POLICY
            )
            read = record.read_text
        else:
            backend = py_streamable_server if transport == "streamable-http" else py_sse_server
            server = remote("gh", transport, backend.url, policy=POLICY)
            read = backend.log_text
        async with oauth_gate_factory({"gh": server}, allowed_emails=(PARTNER,)) as gate:
            yield gate, read

    return start


def _client(front: str, url: str, auth: object) -> AbstractAsyncContextManager:
    open_client = streamable_client if front == "mcp" else sse_client
    return open_client(url, auth=auth)  # type: ignore[arg-type]


@pytest.mark.parametrize("front", ["mcp", "sse"])
@pytest.mark.parametrize("transport", ["streamable-http", "sse", "stdio"])
async def test_each_user_sees_exactly_the_tools_the_rules_allow(
    gate_for: GateFor, oidc_provider: OidcTestProvider, transport: str, front: str
) -> None:
    """docs/config.md: tools/list shows only what the caller may call, on every front and backend
    (pass-through and bridged); a step-up tool stays listed for whoever may hold its scope."""
    seen = {}
    async with gate_for(transport) as (gate, _):
        for email in (ALICE, PARTNER):
            await oidc_provider.set_next_user(email=email)
            url = gate.url(f"/gh/{front}")
            async with _client(front, url, sdk_oauth(url).provider) as client:
                seen[email] = {tool.name for tool in (await client.list_tools()).tools}
    assert seen == SEES


@pytest.mark.parametrize("front", ["mcp", "sse"])
@pytest.mark.parametrize("transport", ["streamable-http", "sse", "stdio"])
async def test_a_forbidden_call_is_refused_and_never_reaches_the_backend(
    gate_for: GateFor, oidc_provider: OidcTestProvider, transport: str, front: str
) -> None:
    """docs/config.md: a forbidden tools/call gets a JSON-RPC error naming the tool and why; the
    backend's own record shows only the allowed call that followed."""
    await oidc_provider.set_next_user(email=PARTNER)
    async with gate_for(transport) as (gate, backend_record):
        before = backend_record().count("tool called: delete_repo")
        url = gate.url(f"/gh/{front}")
        async with _client(front, url, sdk_oauth(url).provider) as client:
            with pytest.raises(MCPError) as refused:
                await client.call_tool("delete_repo", {"repo": "acme/app"})
            allowed = await client.call_tool("read_issue", {"number": 7})
        after = backend_record()
    assert refused.value.code == INVALID_PARAMS
    assert "delete_repo" in refused.value.message
    assert "only some people" in refused.value.message
    assert not allowed.is_error
    assert after.count("tool called: delete_repo") == before
    assert "tool called: read_issue" in after


async def test_step_up_grants_admin_to_an_admin_and_the_call_then_succeeds(
    gate_for: GateFor, oidc_provider: OidcTestProvider
) -> None:
    """MCP 2025-11-25 authorization §Scope Challenge Handling: 403 insufficient_scope, the
    SDK authorizes again with the union of scopes, the consent names the extra scope."""
    await oidc_provider.set_next_user(email=ALICE)
    async with gate_for("streamable-http") as (gate, backend_record):
        url = gate.url("/gh/mcp")
        oauth = sdk_oauth(url)
        async with streamable_client(url, auth=oauth.provider) as client:
            first_scope = oauth.storage.tokens.scope if oauth.storage.tokens else None
            result = await client.call_tool("merge_pr", {"number": 1})
        assert oauth.storage.tokens is not None
        claims = unverified_claims(oauth.storage.tokens.access_token)
    assert first_scope == "mcp"
    assert not result.is_error
    assert set(claims["scope"].split()) == {"mcp", "admin"}
    assert oauth.browser.pages_seen == ["consent", "consent"]  # the step-up is shown
    assert "tool called: merge_pr" in backend_record()


async def test_the_scope_challenge_names_every_scope_and_the_resource_metadata(
    gate_for: GateFor, oidc_provider: OidcTestProvider
) -> None:
    """MCP 2025-11-25 authorization §Scope Challenge Handling: 403, error=insufficient_scope,
    scope= all the scopes needed, resource_metadata=; the backend never sees the call."""
    await oidc_provider.set_next_user(email=ALICE)
    async with gate_for("streamable-http") as (gate, backend_record):
        before = backend_record().count("tool called: merge_pr")
        client = await register(gate.base_url, token_endpoint_auth_method="none")
        pkce = Pkce.new()
        callback = await Browser().walk(authorization_url(gate.base_url, client, pkce=pkce))
        token = (await exchange_code(gate.base_url, client, callback.query["code"], pkce)).json
        call = {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "merge_pr", "arguments": {"number": 1}},
        }
        headers = {
            "Authorization": f"Bearer {token['access_token']}",
            "Accept": "application/json, text/event-stream",
        }
        async with (
            aiohttp.ClientSession() as http,
            http.post(gate.url("/gh/mcp"), json=call, headers=headers) as response,
        ):
            status, challenge = response.status, response.headers["WWW-Authenticate"]
        after = backend_record().count("tool called: merge_pr")
    assert status == 403
    assert challenge.startswith('Bearer error="insufficient_scope", scope="mcp admin"')
    prm = f"{gate.base_url}/.well-known/oauth-protected-resource/gh/mcp"
    assert f'resource_metadata="{prm}"' in challenge
    assert after == before


async def test_a_user_who_may_not_hold_a_scope_does_not_get_it(
    gate_for: GateFor, oidc_provider: OidcTestProvider
) -> None:
    """RFC 6749 §3.3: the AS may grant less than asked; `admin` only to whom `scopes` names.
    For that user the step-up tool is hidden and refused, not a futile challenge."""
    await oidc_provider.set_next_user(email=PARTNER)
    async with gate_for("streamable-http") as (gate, _):
        client = await register(gate.base_url, token_endpoint_auth_method="none")
        pkce = Pkce.new()
        browser = Browser()
        url = authorization_url(gate.base_url, client, pkce=pkce, scope="mcp admin")
        callback = await browser.walk(url)
        answer = await exchange_code(gate.base_url, client, callback.query["code"], pkce)
        mcp_url = gate.url("/gh/mcp")
        async with streamable_client(mcp_url, auth=sdk_oauth(mcp_url).provider) as mcp:
            with pytest.raises(MCPError) as refused:
                await mcp.call_tool("merge_pr", {"number": 1})
    assert answer.status == 200
    assert answer.json["scope"] == "mcp"
    assert unverified_claims(answer.access_token)["scope"] == "mcp"
    assert "admin" in refused.value.message
