"""The factory (provider.py) and Google's specifics (google.py)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from mcp_gate.config.model import IdpConfig, Secret
from mcp_gate.errors import ConfigError
from mcp_gate.idp import OidcProvider, build_identity_provider
from mcp_gate.idp.google import GOOGLE_ISSUER, build_google_authorization_params
from tests.idp.scripted_idp import CLIENT_SECRET, ScriptedIdp


def test_google_provider_defaults_to_accounts_google_com(http: aiohttp.ClientSession) -> None:
    """docs/config.md `idp.discoveryUrl`: Google's issuer unless discoveryUrl says otherwise; no
    request at build."""
    config = IdpConfig(provider="google", client_id="id", client_secret=Secret(CLIENT_SECRET))

    provider = build_identity_provider(
        config, "https://mcp.example.com", http, allowed_domains=("example.com",)
    )

    assert (provider.kind, provider.issuer) == ("google", GOOGLE_ISSUER)
    assert provider.redirect_uri == "https://mcp.example.com/oauth/callback"
    assert CLIENT_SECRET not in repr(provider)


def test_google_hd_hint_names_the_one_allowed_domain() -> None:
    """Google: `hd=<domain>` tunes the account chooser for one Workspace."""
    assert build_google_authorization_params(("example.com",)) == {
        "prompt": "select_account",
        "access_type": "offline",
        "hd": "example.com",
    }


def test_google_hd_hint_is_a_wildcard_for_several_domains() -> None:
    """Google: `hd=*` asks for Workspace accounts in general when several are allowed."""
    assert build_google_authorization_params(("a.test", "b.test"))["hd"] == "*"


def test_google_sends_no_hd_hint_without_an_allowlist() -> None:
    """Any verified Google account may enter, so the chooser is not narrowed."""
    assert "hd" not in build_google_authorization_params(())


async def test_generic_oidc_request_has_no_google_parameters(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """`hd` and `prompt=select_account` are Google's; other providers get plain OIDC."""
    config = IdpConfig(
        provider="oidc",
        client_id="id",
        client_secret=Secret(CLIENT_SECRET),
        discovery_url=f"{scripted_idp.issuer}/.well-known/openid-configuration",
        scopes=("groups", "email"),
    )
    provider = build_identity_provider(
        config, "http://127.0.0.1:8080", http, allowed_domains=("example.com",)
    )

    url = await provider.build_authorization_url(state="s", nonce="n", code_challenge="c")

    query = parse_qs(urlsplit(url).query)
    assert isinstance(provider, OidcProvider)
    assert not {"hd", "prompt"} & query.keys()
    assert query["scope"] == ["openid email profile groups"]


def test_oidc_provider_without_discovery_url_is_a_config_error(
    http: aiohttp.ClientSession,
) -> None:
    """A generic provider can only be found through discoveryUrl."""
    config = IdpConfig(provider="oidc", client_id="id", client_secret=Secret(CLIENT_SECRET))

    with pytest.raises(ConfigError) as error:
        build_identity_provider(config, "https://mcp.example.com", http, allowed_domains=())

    assert error.value.problems == ["auth.idp.discoveryUrl: required for provider oidc"]


def test_missing_client_credentials_are_all_reported(http: aiohttp.ClientSession) -> None:
    """Config errors are collected with their key paths (STYLE habit 7)."""
    with pytest.raises(ConfigError) as error:
        build_identity_provider(
            IdpConfig(provider="google"), "https://mcp.example.com", http, allowed_domains=()
        )

    assert [problem.partition(":")[0] for problem in error.value.problems] == [
        "auth.idp.clientId",
        "auth.idp.clientSecret",
    ]
