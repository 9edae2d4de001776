"""`provider: github`: the official SDK client logs in through GitHub, and who is refused.

GitHub is played by `tests/fixtures/github_server.py`, a local HTTP server that stands in
for GitHub (Enterprise Server layout: the API under /api/v3) with its documented endpoints
and answer shapes; nothing real can play GitHub here. The gate under test is the real one,
and the walk from the SDK's authorization URL to its redirect URI is a browser's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import mcp_types as types
import pytest

from mcp_gate.config.model import AuthConfig, IdpConfig, Secret
from tests.fixtures.gate import RunningGate, make_config, remote, running_gate
from tests.fixtures.github_server import CLIENT_ID, CLIENT_SECRET, GitHubStandIn
from tests.fixtures.mcp_clients import streamable_client
from tests.fixtures.oauth_client import Pkce, authorization_url, log_in, refresh, register
from tests.fixtures.oauth_flow import Browser, FlowStopped, sdk_oauth
from tests.fixtures.ports import free_port

GitHubGate = Callable[..., AbstractAsyncContextManager[RunningGate]]


@pytest.fixture
def github_gate(github_server: GitHubStandIn, py_streamable_server) -> GitHubGate:
    """A gate logging users in with the GitHub stand-in, in front of the Python server."""

    @asynccontextmanager
    async def start(
        *,
        allowed_domains: tuple[str, ...] = (),
        revalidate_interval_seconds: float = 3600.0,
        **idp_fields: object,
    ) -> AsyncIterator[RunningGate]:
        port = free_port()
        github_server.redirect_uris.append(f"http://127.0.0.1:{port}/oauth/callback")
        idp = IdpConfig(
            provider="github",
            client_id=CLIENT_ID,
            client_secret=Secret(CLIENT_SECRET),
            github_url=github_server.url,
            github_api_url=github_server.api_url,
            **idp_fields,  # type: ignore[arg-type]
        )
        auth = AuthConfig(
            idp=idp,
            allowed_domains=allowed_domains,
            revalidate_interval_seconds=revalidate_interval_seconds,
        )
        servers = {"py": remote("py", "streamable-http", py_streamable_server.url)}
        async with running_gate(make_config(servers, port=port, auth=auth)) as gate:
            yield gate

    return start


async def _refused(gate: RunningGate) -> FlowStopped:
    client = await register(gate.base_url)
    with pytest.raises(FlowStopped) as stopped:
        await Browser().walk(authorization_url(gate.base_url, client, pkce=Pkce.new()))
    return stopped.value


async def test_org_member_logs_in_with_the_sdk_client_and_calls_a_tool(
    github_gate: GitHubGate, github_server: GitHubStandIn
):
    """docs/identity-providers.md, GitHub: GitHub login (OAuth with PKCE) end to end; a member of
    allowedOrgs enters."""
    github_server.set_user("octocat", orgs=["other", "acme"])
    async with github_gate(allowed_orgs=("acme",)) as gate:
        url = gate.url("/py/mcp")
        oauth = sdk_oauth(url)
        async with streamable_client(url, auth=oauth.provider) as client:
            result = await client.call_tool("echo", {"text": "from octocat"})
    assert isinstance(result.content[0], types.TextContent)
    assert result.content[0].text == "from octocat"
    assert oauth.callbacks[-1].query["iss"] == gate.base_url


async def test_authorization_request_to_github_carries_pkce_and_the_gates_own_state(
    github_gate: GitHubGate, github_server: GitHubStandIn
):
    """RFC 7636 §4.3, RFC 6749 §10.12: S256 and a state of the gate's; nothing of the client's."""
    github_server.set_user("octocat", orgs=["acme"])
    async with github_gate(allowed_orgs=("acme",)) as gate:
        client = await register(gate.base_url)
        await log_in(gate.base_url, client)
    (params,) = github_server.authorize_params
    assert params["code_challenge_method"] == "S256"
    assert params["state"]
    assert params["state"] != "state-of-the-client"
    assert "resource" not in params
    assert set(params["scope"].split()) >= {"read:user", "user:email", "read:org"}


async def test_non_member_gets_a_page_naming_the_allowed_orgs(
    github_gate: GitHubGate, github_server: GitHubStandIn
):
    """docs/identity-providers.md, GitHub: allowedOrgs is checked at login; a refusal is a clear
    page, nothing issued."""
    github_server.set_user("mallory", orgs=["elsewhere"])
    async with github_gate(allowed_orgs=("acme",)) as gate:
        stopped = await _refused(gate)
    assert stopped.status == 403
    assert stopped.url.path == "/oauth/callback"
    assert "Your GitHub account mallory is not a member of acme" in stopped.body


async def test_member_with_an_unverified_primary_email_gets_a_page(
    github_gate: GitHubGate, github_server: GitHubStandIn
):
    """docs/identity-providers.md, GitHub: only the verified primary address counts, org membership
    or not."""
    github_server.set_user("octocat", email="octo@example.com", email_verified=False, orgs=["acme"])
    async with github_gate(allowed_orgs=("acme",)) as gate:
        stopped = await _refused(gate)
    assert stopped.status == 403
    assert "octo@example.com, is not verified" in stopped.body


async def test_team_member_enters_by_allowed_teams_across_pages(
    github_gate: GitHubGate, github_server: GitHubStandIn
):
    """docs/identity-providers.md, GitHub: allowedTeams as org/team-slug; the primary address on the
    second page."""
    github_server.set_user("octocat", teams=["acme/web", "ACME/platform"], other_emails=120)
    async with github_gate(allowed_teams=("acme/platform",)) as gate:
        client = await register(gate.base_url)
        await log_in(gate.base_url, client)
    assert github_server.requests.count("/api/v3/user/emails") == 2


async def test_member_outside_allowed_domains_is_refused(
    github_gate: GitHubGate, github_server: GitHubStandIn
):
    """docs/identity-providers.md, GitHub: allowedDomains, when set, bounds the verified primary
    address too."""
    github_server.set_user("octocat", email="octocat@gmail.test", orgs=["acme"])
    async with github_gate(allowed_orgs=("acme",), allowed_domains=("example.com",)) as gate:
        stopped = await _refused(gate)
    assert stopped.status == 403
    assert "Accounts of gmail.test may not use this gate" in stopped.body


async def test_a_user_taken_out_of_the_org_loses_the_grant_at_the_next_refresh(
    github_gate: GitHubGate, github_server: GitHubStandIn
):
    """Revalidation with GitHub: the account token kept from the login reads the account
    again at a refresh; out of `allowedOrgs` now, the grant ends (invalid_grant); a
    revoked token (401 from the API) ends it too."""
    user = github_server.set_user("octocat", orgs=["acme"])
    async with github_gate(allowed_orgs=("acme",), revalidate_interval_seconds=0.001) as gate:
        client = await register(gate.base_url)
        tokens = await log_in(gate.base_url, client)
        still_member = await refresh(gate.base_url, client, tokens.refresh_token)
        user.orgs.clear()
        refused = await refresh(gate.base_url, client, still_member.refresh_token)
        github_server.set_user("octocat", orgs=["acme"])
        other_client = await register(gate.base_url)
        other = await log_in(gate.base_url, other_client)
        github_server.tokens.clear()  # the user revoked the gate's OAuth app at GitHub
        revoked = await refresh(gate.base_url, other_client, other.refresh_token)
    assert still_member.status == 200, still_member.text
    assert refused.error == "invalid_grant"
    assert revoked.error == "invalid_grant"
