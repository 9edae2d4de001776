"""Entra ID, Okta, Keycloak and Auth0 as `provider: oidc`, end to end through the gate.

The real oidc-provider (tests/servers/oidc) serves each IdP's issuer form and claim shape
(docs/identity-providers.md): Entra's tenant issuer and its ID token without
`email_verified`, Okta's custom authorization server path, Keycloak's realm path, Auth0's
issuer that ends with a slash. A login that works ends with a gate access token naming the
address the gate read; a refused one ends on the gate's page, with nothing issued.
"""

from __future__ import annotations

import pytest

from tests.fixtures.gate import remote
from tests.fixtures.oauth_client import log_in, register, unverified_claims
from tests.fixtures.oauth_flow import Browser, FlowStopped
from tests.fixtures.oidc_provider import ENTRA_TENANT, OidcTestProvider


def _servers(py_streamable_server):
    return {"py": remote("py", "streamable-http", py_streamable_server.url)}


async def _login_email(gate) -> str:
    """Log in through the gate; the address the access token it issued names."""
    client = await register(gate.base_url)
    answer = await log_in(gate.base_url, client)
    return str(unverified_claims(answer.access_token)["email"])


async def _refusal(gate) -> FlowStopped:
    client = await register(gate.base_url)
    with pytest.raises(FlowStopped) as stopped:
        await log_in(gate.base_url, client, browser=Browser())
    return stopped.value


def _entra_claims(**overrides: object) -> dict[str, object]:
    """An Entra ID v2.0 ID token's claims: `upn` (an optional claim), no `email_verified`."""
    claims: dict[str, object] = {
        "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",  # pairwise, per application
        "oid": "00000000-0000-0000-66f3-3332eca7ea81",
        "tid": ENTRA_TENANT,
        "name": "Alice Example",
        "preferred_username": "alice@example.com",
        "upn": "alice@example.com",
        # Entra's `email` may be any address typed into the profile, and is not verified.
        "email": "alice@gmail.test",
    }
    return claims | overrides


async def test_entra_login_by_upn_claim_is_accepted(
    oauth_gate_factory, oidc_provider: OidcTestProvider, py_streamable_server
):
    """policy (idp.emailClaim): with `upn`, Entra's tenant-verified UPN is the address."""
    await oidc_provider.set_next_claims(_entra_claims())
    async with oauth_gate_factory(
        _servers(py_streamable_server),
        discovery_url=oidc_provider.profile_discovery_url("entra"),
        idp_fields={"email_claim": "upn"},
    ) as gate:
        assert await _login_email(gate) == "alice@example.com"


async def test_entra_guest_upn_outside_the_allowed_domains_is_refused(
    oauth_gate_factory, oidc_provider: OidcTestProvider, py_streamable_server
):
    """docs/identity-providers.md, Entra ID (policy): a guest's UPN lies in the tenant's
    onmicrosoft.com domain."""
    guest = "bob_gmail.test#EXT#@contoso.onmicrosoft.com"
    await oidc_provider.set_next_claims(
        _entra_claims(upn=guest, preferred_username="bob@gmail.test")
    )
    async with oauth_gate_factory(
        _servers(py_streamable_server),
        discovery_url=oidc_provider.profile_discovery_url("entra"),
        idp_fields={"email_claim": "upn"},
    ) as gate:
        stopped = await _refusal(gate)
    assert stopped.status == 403
    assert "Accounts of contoso.onmicrosoft.com may not use this gate" in stopped.body


async def test_entra_login_by_its_unverified_email_claim_is_refused(
    oauth_gate_factory, oidc_provider: OidcTestProvider, py_streamable_server
):
    """OIDC Core 1.0 §5.1: `email` counts only with `email_verified: true`, which Entra omits."""
    await oidc_provider.set_next_claims(_entra_claims(email="alice@example.com"))
    async with oauth_gate_factory(
        _servers(py_streamable_server), discovery_url=oidc_provider.profile_discovery_url("entra")
    ) as gate:
        stopped = await _refusal(gate)
    assert stopped.status == 403
    assert "has not verified the email address alice@example.com" in stopped.body


# What each IdP puts in an ID token for the scopes `openid email profile` (plus the group
# claim its docs page configures).
VERIFIED_SHAPES = {
    "okta": {"preferred_username": "alice@example.com", "groups": ["Everyone", "eng"]},
    "keycloak": {
        "preferred_username": "alice",
        "groups": ["/eng", "/eng/platform"],
        "realm_access": {"roles": ["offline_access", "default-roles-gate"]},
    },
    "auth0": {"nickname": "alice", "https://gate.test/groups": ["eng"]},
}


@pytest.mark.parametrize("profile", sorted(VERIFIED_SHAPES))
async def test_provider_issuer_forms_log_in_with_a_verified_email(
    profile: str, oauth_gate_factory, oidc_provider: OidcTestProvider, py_streamable_server
):
    """OIDC Discovery 1.0 §4: Okta's and Keycloak's issuer paths, Auth0's trailing slash."""
    claims = {"email": "alice@example.com", "email_verified": True, "name": "Alice"}
    await oidc_provider.set_next_claims(claims | VERIFIED_SHAPES[profile])
    async with oauth_gate_factory(
        _servers(py_streamable_server), discovery_url=oidc_provider.profile_discovery_url(profile)
    ) as gate:
        assert await _login_email(gate) == "alice@example.com"


@pytest.mark.parametrize("profile", sorted(VERIFIED_SHAPES))
async def test_provider_login_with_an_unverified_email_is_refused(
    profile: str, oauth_gate_factory, oidc_provider: OidcTestProvider, py_streamable_server
):
    """OIDC Core 1.0 §5.1: `email_verified: false` is refused at every provider."""
    claims = {"email": "alice@example.com", "email_verified": False}
    await oidc_provider.set_next_claims(claims | VERIFIED_SHAPES[profile])
    async with oauth_gate_factory(
        _servers(py_streamable_server), discovery_url=oidc_provider.profile_discovery_url(profile)
    ) as gate:
        stopped = await _refusal(gate)
    assert stopped.status == 403
    assert "has not verified the email address" in stopped.body
