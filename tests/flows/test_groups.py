"""Groups from the IdP, end to end: `idp.groupsClaim`, where the real oidc-provider puts
the claim in the ID token in each IdP's shape (Okta's and Entra's `groups` list,
Keycloak's nested `realm_access.roles`, an Auth0 namespaced custom claim), and Google's
`idp.googleGroups` (the Directory API); the gate reads them at login, and the backend sees
the user's groups through its identity headers (`{{groups}}`).
"""

from __future__ import annotations

import pytest

from mcp_gate.config.model import GoogleGroupsConfig, IdentityConfig, Secret
from tests.fixtures.gate import remote
from tests.fixtures.google_directory import ADMIN
from tests.fixtures.oidc_provider import OidcTestProvider
from tests.fixtures.user_tokens import post_mcp, sign_in_mcp_user

CALL = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "echo"}}
USER = {"email": "alice@example.com", "email_verified": True}


def _servers(echo_headers_server):
    identity = IdentityConfig(headers={"X-Forwarded-Groups": "{{groups}}"})
    url = echo_headers_server.url + "/mcp"
    return {"crm": remote("crm", "streamable-http", url, identity=identity)}


async def _groups_seen_by_backend(gate) -> str | None:
    token = await sign_in_mcp_user(gate, "crm")
    _, echo = await post_mcp(gate, "crm", token, CALL)
    return echo["headers"].get("x-forwarded-groups")  # type: ignore[index]


@pytest.mark.parametrize(
    ("profile", "claim", "claims"),
    [
        ("okta", "groups", {"groups": ["eng@example.com", "admins@example.com"]}),
        ("keycloak", "realm_access.roles", {"realm_access": {"roles": ["eng@example.com"]}}),
        ("auth0", "https://gate.test/groups", {"https://gate.test/groups": ["eng@example.com"]}),
    ],
)
async def test_the_users_groups_reach_the_backend_in_identity_headers(
    oauth_gate_factory,
    oidc_provider: OidcTestProvider,
    echo_headers_server,
    profile: str,
    claim: str,
    claims: dict[str, object],
):
    """Whatever the IdP's shape, the groups `groupsClaim` names reach `{{groups}}`."""
    await oidc_provider.set_next_claims(USER | claims)
    async with oauth_gate_factory(
        _servers(echo_headers_server),
        discovery_url=oidc_provider.profile_discovery_url(profile),
        idp_fields={"groups_claim": claim},
    ) as gate:
        seen = await _groups_seen_by_backend(gate)
    first = next(iter(claims.values()))
    expected = first["roles"] if isinstance(first, dict) else first
    assert seen == ",".join(expected)


async def test_without_groups_claim_no_groups_are_read(
    oauth_gate_factory, oidc_provider: OidcTestProvider, echo_headers_server
):
    """No `groupsClaim`: a `groups` claim in the ID token is not taken as the user's groups."""
    await oidc_provider.set_next_claims(USER | {"groups": ["eng@example.com"]})
    async with oauth_gate_factory(
        _servers(echo_headers_server), discovery_url=oidc_provider.profile_discovery_url("okta")
    ) as gate:
        seen = await _groups_seen_by_backend(gate)
    assert not seen


async def test_google_users_groups_come_from_the_directory_api(
    oauth_gate_factory, oidc_provider: OidcTestProvider, echo_headers_server, google_directory
):
    """`idp.googleGroups`: after the Google login (the real OpenID provider, Google's
    shape), the gate reads the user's groups from groups.list through the service
    account (the Directory stand-in: there is no Google here); the backend sees them."""
    google_directory.memberships["alice@example.com"] = ["eng@example.com", "ops@example.com"]
    groups = GoogleGroupsConfig(
        admin_email=ADMIN,
        service_account_key=Secret(google_directory.service_account_key()),
        directory_url=google_directory.url,
    )
    async with oauth_gate_factory(
        _servers(echo_headers_server), provider="google", idp_fields={"google_groups": groups}
    ) as gate:
        seen = await _groups_seen_by_backend(gate)
    assert seen == "eng@example.com,ops@example.com"
    assert [r["userKey"] for r in google_directory.list_requests] == ["alice@example.com"]
