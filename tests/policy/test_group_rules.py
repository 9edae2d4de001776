"""Access and tool rules by group, end to end: the groups come from the IdP's ID token
(`idp.groupsClaim`; the real oidc-provider in Okta's claim shape), travel in the gate's
grant and token, and the server's `access.groups` and `tools[].groups` judge them
(docs/config.md, access, scopes, tools)."""

from __future__ import annotations

from mcp_gate.config.model import AccessRule, Selector, ServerPolicy, ToolRule
from tests.fixtures.mcp_clients import streamable_client
from tests.fixtures.oauth_flow import sdk_oauth
from tests.fixtures.oidc_provider import OidcTestProvider
from tests.fixtures.stdio_backends import py_stdio
from tests.fixtures.user_tokens import post_mcp, sign_in_mcp_user

ENG = "eng@example.com"
ADMINS = "admins@example.com"
POLICY = ServerPolicy(
    access=AccessRule(who=Selector(groups=(ENG,))),
    tools=(ToolRule("delete_*", who=Selector(groups=(ADMINS,))),),
)
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "group-test", "version": "1"},
    },
}


async def _sign_in(oidc_provider: OidcTestProvider, email: str, groups: list[str]) -> None:
    await oidc_provider.set_next_claims({"email": email, "email_verified": True, "groups": groups})


async def _tools_of(gate, oidc_provider: OidcTestProvider, email: str, groups: list[str]):
    await _sign_in(oidc_provider, email, groups)
    url = gate.url("/gh/mcp")
    async with streamable_client(url, auth=sdk_oauth(url).provider) as client:
        return {tool.name for tool in (await client.list_tools()).tools}


async def test_groups_from_the_idp_decide_who_enters_and_which_tools_they_see(
    oauth_gate_factory, oidc_provider: OidcTestProvider
):
    server = py_stdio("gh", service_auths=(), policy=POLICY)
    async with oauth_gate_factory(
        {"gh": server},
        discovery_url=oidc_provider.profile_discovery_url("okta"),
        idp_fields={"groups_claim": "groups"},
    ) as gate:
        admin = await _tools_of(gate, oidc_provider, "carol@example.com", [ENG, ADMINS])
        engineer = await _tools_of(gate, oidc_provider, "dave@example.com", [ENG])
        await _sign_in(oidc_provider, "erin@example.com", ["sales@example.com"])
        outsider_status, outsider_body = await post_mcp(
            gate, "gh", await sign_in_mcp_user(gate, "gh"), INITIALIZE
        )
    assert {"delete_repo", "read_issue", "echo"} <= admin
    assert "read_issue" in engineer
    assert "delete_repo" not in engineer
    assert outsider_status == 403
    assert "Forbidden" in str(outsider_body)
