"""Provider discovery (OIDC Discovery 1.0 §4): the issuer check and the cache."""

from __future__ import annotations

import aiohttp
import pytest

from mcp_gate.errors import ConfigError
from mcp_gate.idp import IdpError
from mcp_gate.idp.discovery import build_issuer_from_discovery_url, parse_provider_metadata
from mcp_gate.idp.google import GOOGLE_DISCOVERY_URL, GOOGLE_ISSUER
from tests.idp.scripted_idp import NONCE, ScriptedIdp


def test_issuer_of_google_discovery_url_is_accounts_google_com() -> None:
    """OIDC Discovery 1.0 §4.1: the issuer is the URL before /.well-known/..."""
    assert build_issuer_from_discovery_url(GOOGLE_DISCOVERY_URL) == GOOGLE_ISSUER


def test_issuer_keeps_a_path_of_the_discovery_url() -> None:
    """OIDC Discovery 1.0 §4.1: an issuer with a path (Keycloak realms, Okta servers)."""
    url = "https://sso.example.com/realms/staff/.well-known/openid-configuration"
    assert build_issuer_from_discovery_url(url) == "https://sso.example.com/realms/staff"


@pytest.mark.parametrize(
    "url",
    [
        "https://sso.example.com/openid-configuration",
        "http://sso.example.com/.well-known/openid-configuration",
        "ftp://sso.example.com/.well-known/openid-configuration",
    ],
)
def test_unusable_discovery_url_is_a_config_error(url: str) -> None:
    """OIDC Discovery 1.0 §4; policy: https, or plain http to loopback only."""
    with pytest.raises(ConfigError) as error:
        build_issuer_from_discovery_url(url)
    assert all(problem.startswith("auth.idp.discoveryUrl:") for problem in error.value.problems)


async def test_discovery_document_for_another_issuer_is_refused(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """OIDC Discovery 1.0 §4.3: the document's issuer must equal the expected one exactly."""
    scripted_idp.discovery_overrides = {"issuer": "https://accounts.example.net"}

    with pytest.raises(IdpError) as failed:
        await scripted_idp.build_provider(http).build_authorization_url(
            state="s", nonce="n", code_challenge="c"
        )

    assert failed.value.reason == "discovery_invalid"


async def test_discovery_document_with_a_plain_http_endpoint_is_refused(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """Policy: the client secret never goes to a plain-http token endpoint off loopback."""
    scripted_idp.discovery_overrides = {"token_endpoint": "http://idp.example.net/token"}

    with pytest.raises(IdpError) as failed:
        await scripted_idp.build_provider(http).build_authorization_url(
            state="s", nonce="n", code_challenge="c"
        )

    assert failed.value.reason == "discovery_invalid"


async def test_discovery_is_fetched_once_for_many_logins(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """Policy: the metadata is cached for the life of the process."""
    provider = scripted_idp.build_provider(http)
    scripted_idp.answer_with_id_token(scripted_idp.sign(scripted_idp.claims()))
    for _ in range(3):
        await provider.build_authorization_url(state="s", nonce="n", code_challenge="c")
        await provider.exchange_code(code="c", code_verifier="v", nonce=NONCE)

    assert scripted_idp.hits["discovery"] == 1


async def test_failed_discovery_is_tried_again_at_the_next_login(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """Policy: a failure is not cached; the IdP coming back fixes logins by itself."""
    provider = scripted_idp.build_provider(http)
    scripted_idp.discovery_overrides = {"issuer": "https://wrong.example"}
    with pytest.raises(IdpError):
        await provider.build_authorization_url(state="s", nonce="n", code_challenge="c")

    scripted_idp.discovery_overrides = {}
    url = await provider.build_authorization_url(state="s", nonce="n", code_challenge="c")

    assert url.startswith(f"{scripted_idp.issuer}/auth?")


async def test_oversized_discovery_document_is_refused(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """Policy (upstream.py): IdP documents over 1 MiB are not read into memory whole."""
    scripted_idp.discovery_overrides = {"padding": "x" * (1024 * 1024)}

    with pytest.raises(IdpError) as failed:
        await scripted_idp.build_provider(http).build_authorization_url(
            state="s", nonce="n", code_challenge="c"
        )

    assert failed.value.reason == "discovery_invalid"


def test_document_issuer_with_a_terminating_slash_is_kept_as_written() -> None:
    """OIDC Discovery 1.0 §4.1, §4.3: `https://t.auth0.com/` made the same discovery URL."""
    document = {
        "issuer": "https://tenant.auth0.test/",
        "authorization_endpoint": "https://tenant.auth0.test/authorize",
        "token_endpoint": "https://tenant.auth0.test/oauth/token",
        "jwks_uri": "https://tenant.auth0.test/.well-known/jwks.json",
    }
    metadata = parse_provider_metadata(document, "https://tenant.auth0.test")
    assert metadata.issuer == "https://tenant.auth0.test/"
    with pytest.raises(IdpError):
        parse_provider_metadata(
            document | {"issuer": "https://tenant.auth0.test//"}, "https://tenant.auth0.test"
        )
