"""Revalidation (docs/config.md `revalidateInterval`; OIDC Core 1.0 §12): at a refresh, at
most every `revalidateInterval`, the gate re-checks the user's account at the IdP by
refreshing the upstream refresh token it kept sealed from the login; a refused refresh or
a user no longer allowed ends the grant.

The IdP is the real oidc-provider; its test controls change or delete the account as an
administrator would (`set_account_claims`).
"""

from __future__ import annotations

import pytest

from mcp_gate.appkeys import STORE
from mcp_gate.oauth.revalidation import UPSTREAM_KIND
from tests.fixtures.gate import remote
from tests.fixtures.oauth_client import (
    log_in,
    mcp_initialize,
    refresh,
    register,
    unverified_claims,
)
from tests.fixtures.oidc_provider import OidcTestProvider

EVERY_REFRESH = 0.001  # seconds: every refresh is past the interval
ALICE = {"email": "alice@example.com", "email_verified": True}


def _gate(
    factory,
    oidc_provider: OidcTestProvider,
    backend,
    *,
    profile: str = "okta",
    interval: float = EVERY_REFRESH,
    **fields,
):
    """A gate whose IdP client has refresh tokens at the provider's `profile` shape."""
    return factory(
        {"py": remote("py", "streamable-http", backend.url)},
        discovery_url=oidc_provider.profile_discovery_url(profile),
        idp_refresh=True,
        revalidate_interval_seconds=interval,
        **fields,
    )


async def _logged_in(gate, oidc_provider: OidcTestProvider, claims: dict[str, object]):
    sub = await oidc_provider.set_next_claims(claims)
    client = await register(gate.base_url)
    return sub, client, await log_in(gate.base_url, client)


async def test_a_user_deleted_at_the_idp_loses_the_grant_at_the_next_refresh(
    oauth_gate_factory, oidc_provider: OidcTestProvider, py_streamable_server
):
    """The first refresh re-checks and passes; the account is deleted at the IdP; the next
    refresh is refused with invalid_grant and the grant's access token stops working."""
    async with _gate(oauth_gate_factory, oidc_provider, py_streamable_server) as gate:
        sub, client, tokens = await _logged_in(gate, oidc_provider, ALICE)
        grant_id = unverified_claims(tokens.access_token)["gid"]
        kept = await gate.app[STORE].get(UPSTREAM_KIND, grant_id)
        first = await refresh(gate.base_url, client, tokens.refresh_token)
        await oidc_provider.set_account_claims(sub, None)
        refused = await refresh(gate.base_url, client, first.refresh_token)
        call = await mcp_initialize(gate.url("/py/mcp"), first.access_token)
        left = await gate.app[STORE].get(UPSTREAM_KIND, grant_id)
    assert kept is not None
    assert b"refresh" not in kept  # sealed, not a readable token
    assert first.status == 200, first.text
    assert refused.status == 400
    assert refused.error == "invalid_grant"
    assert call.status == 401
    assert left is None  # the sealed upstream token went with the grant


async def test_a_user_no_longer_in_the_allowed_domains_loses_the_grant(
    oauth_gate_factory, oidc_provider: OidcTestProvider, py_streamable_server
):
    """The IdP now names the user by an address outside `allowedDomains`: refused."""
    async with _gate(oauth_gate_factory, oidc_provider, py_streamable_server) as gate:
        sub, client, tokens = await _logged_in(gate, oidc_provider, ALICE)
        await oidc_provider.set_account_claims(
            sub, {"email": "alice@elsewhere.test", "email_verified": True}
        )
        refused = await refresh(gate.base_url, client, tokens.refresh_token)
    assert refused.error == "invalid_grant"


async def test_within_the_interval_the_idp_is_not_asked(
    oauth_gate_factory, oidc_provider: OidcTestProvider, py_streamable_server
):
    """With the default hour, a refresh right after the login does not re-check: the
    account deleted at the IdP a moment ago still refreshes (until the interval passes)."""
    hour = 3600.0  # the default revalidateInterval
    async with _gate(
        oauth_gate_factory, oidc_provider, py_streamable_server, interval=hour
    ) as gate:
        sub, client, tokens = await _logged_in(gate, oidc_provider, ALICE)
        await oidc_provider.set_account_claims(sub, None)
        refreshed = await refresh(gate.base_url, client, tokens.refresh_token)
    assert refreshed.status == 200, refreshed.text


@pytest.mark.parametrize("profile", ["okta", "keycloak"])
async def test_groups_changed_at_the_idp_reach_the_next_access_token(
    oauth_gate_factory, oidc_provider: OidcTestProvider, py_streamable_server, profile: str
):
    """Groups are read at login and again at each revalidation."""
    async with _gate(
        oauth_gate_factory,
        oidc_provider,
        py_streamable_server,
        profile=profile,
        idp_fields={"groups_claim": "groups"},
    ) as gate:
        sub, client, tokens = await _logged_in(gate, oidc_provider, ALICE | {"groups": ["eng"]})
        await oidc_provider.set_account_claims(sub, ALICE | {"groups": ["eng", "admins"]})
        refreshed = await refresh(gate.base_url, client, tokens.refresh_token)
    assert unverified_claims(tokens.access_token)["groups"] == ["eng"]
    assert unverified_claims(refreshed.access_token)["groups"] == ["eng", "admins"]
