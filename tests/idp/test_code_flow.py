"""The whole login against a real OpenID Provider (npm oidc-provider, shaped like Google)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from structlog.testing import capture_logs

from mcp_gate.config.model import IdpConfig, ProviderKind, Secret
from mcp_gate.idp import (
    Identity,
    IdentityProvider,
    IdpError,
    LoginRefusedError,
    LoginRequest,
    build_identity_provider,
)
from tests.fixtures.oidc_provider import OidcTestProvider

BASE_URL = "http://127.0.0.1:18080"
REDIRECT_URI = f"{BASE_URL}/oauth/callback"
CLIENT_SECRET = "flow-client-secret-0123456789"


async def build_idp(
    oidc_provider: OidcTestProvider,
    http: aiohttp.ClientSession,
    *,
    kind: ProviderKind = "google",
    allowed_domains: tuple[str, ...] = ("example.com",),
    client_secret: str = CLIENT_SECRET,
) -> IdentityProvider:
    client_id = f"flow-{kind}"
    await oidc_provider.register_client(client_id, CLIENT_SECRET, [REDIRECT_URI])
    config = IdpConfig(
        provider=kind,
        client_id=client_id,
        client_secret=Secret(client_secret),
        discovery_url=oidc_provider.discovery_url,
    )
    return build_identity_provider(config, BASE_URL, http, allowed_domains=allowed_domains)


async def sign_in(oidc_provider: OidcTestProvider, idp: IdentityProvider) -> Identity:
    """Authorization URL → provider's redirects → callback → code exchange."""
    login = LoginRequest()
    url = await idp.build_authorization_url(
        state=login.state, nonce=login.nonce, code_challenge=login.code_challenge
    )
    callback = await oidc_provider.follow_login(url, redirect_uri=idp.redirect_uri)
    assert callback.query["state"] == login.state
    return await idp.exchange_code(
        code=callback.query["code"], code_verifier=login.code_verifier, nonce=login.nonce
    )


async def test_google_login_through_the_code_flow_yields_the_identity(
    oidc_provider: OidcTestProvider, http: aiohttp.ClientSession
) -> None:
    """OIDC Core 1.0 §3.1: code flow with PKCE, state, nonce → a verified, allowed Identity."""
    sub = await oidc_provider.set_next_user(email="bob@corp.test", hd="corp.test", name="Bob")
    idp = await build_idp(oidc_provider, http, allowed_domains=("corp.test",))

    identity = await sign_in(oidc_provider, idp)

    assert identity == Identity(
        subject=sub,
        email="bob@corp.test",
        email_verified=True,
        hosted_domain="corp.test",
        name="Bob",
        issuer=oidc_provider.issuer,
    )


async def test_generic_oidc_login_is_allowed_by_email_domain(
    oidc_provider: OidcTestProvider, http: aiohttp.ClientSession
) -> None:
    """docs/identity-providers.md: for non-Google providers the verified email's domain decides, any
    case."""
    await oidc_provider.set_next_user(email="carol@Example.ORG", name="Carol")
    idp = await build_idp(oidc_provider, http, kind="oidc", allowed_domains=("example.org",))

    identity = await sign_in(oidc_provider, idp)

    assert (identity.email, identity.hosted_domain) == ("carol@Example.ORG", None)


async def test_google_authorization_url_carries_pkce_state_nonce_and_hints(
    oidc_provider: OidcTestProvider, http: aiohttp.ClientSession
) -> None:
    """OIDC Core 1.0 §3.1.2.1, RFC 7636 §4.3; Google's hd/prompt; no MCP `resource` (§2.9/46)."""
    idp = await build_idp(oidc_provider, http, allowed_domains=("corp.test",))
    login = LoginRequest()

    url = await idp.build_authorization_url(
        state=login.state, nonce=login.nonce, code_challenge=login.code_challenge
    )

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{oidc_provider.issuer}/auth"
    assert {name: values[0] for name, values in parse_qs(parts.query).items()} == {
        "response_type": "code",
        "client_id": "flow-google",
        "redirect_uri": REDIRECT_URI,
        "scope": "openid email profile",
        "state": login.state,
        "nonce": login.nonce,
        "code_challenge": login.code_challenge,
        "code_challenge_method": "S256",
        "prompt": "select_account",
        "access_type": "offline",
        "hd": "corp.test",
    }


async def test_login_after_key_rotation_verifies_with_the_refetched_jwks(
    oidc_provider: OidcTestProvider, http: aiohttp.ClientSession
) -> None:
    """OIDC Core 1.0 §10.1.1: a token signed with a new `kid` makes us refetch the JWKS."""
    idp = await build_idp(oidc_provider, http)
    first = await sign_in(oidc_provider, idp)

    await oidc_provider.rotate_keys()
    with capture_logs() as logs:
        second = await sign_in(oidc_provider, idp)

    assert first == second
    assert [entry["event"] for entry in logs] == ["idp_jwks_refetched"]


async def test_login_with_unverified_email_is_refused(
    oidc_provider: OidcTestProvider, http: aiohttp.ClientSession
) -> None:
    """docs/identity-providers.md: `email_verified` must be true."""
    await oidc_provider.set_next_user(
        email="alice@example.com", email_verified=False, hd="example.com"
    )
    idp = await build_idp(oidc_provider, http)

    with pytest.raises(LoginRefusedError) as refused:
        await sign_in(oidc_provider, idp)

    assert refused.value.reason == "email_unverified"
    assert "alice@example.com" in refused.value.message


async def test_generic_oidc_login_from_a_foreign_domain_is_refused(
    oidc_provider: OidcTestProvider, http: aiohttp.ClientSession
) -> None:
    """docs/config.md `allowedDomains`: a verified email outside `allowedDomains` is refused."""
    await oidc_provider.set_next_user(email="mallory@elsewhere.test")
    idp = await build_idp(oidc_provider, http, kind="oidc", allowed_domains=("example.com",))

    with pytest.raises(LoginRefusedError) as refused:
        await sign_in(oidc_provider, idp)

    assert refused.value.reason == "domain_not_allowed"


async def test_google_login_from_another_workspace_is_refused(
    oidc_provider: OidcTestProvider, http: aiohttp.ClientSession
) -> None:
    """docs/identity-providers.md, Google: the signed `hd` claim decides, even when the email looks
    allowed."""
    await oidc_provider.set_next_user(email="alice@example.com", hd="other-workspace.test")
    idp = await build_idp(oidc_provider, http, allowed_domains=("example.com",))

    with pytest.raises(LoginRefusedError) as refused:
        await sign_in(oidc_provider, idp)

    assert refused.value.reason == "hd_mismatch"


async def test_personal_google_account_without_hd_is_refused(
    oidc_provider: OidcTestProvider, http: aiohttp.ClientSession
) -> None:
    """Policy (allowlist.py): with an allowlist, a Google account without `hd` is refused."""
    await oidc_provider.set_next_user(email="someone@example.com")
    idp = await build_idp(oidc_provider, http, allowed_domains=("example.com",))

    with pytest.raises(LoginRefusedError) as refused:
        await sign_in(oidc_provider, idp)

    assert refused.value.reason == "hd_missing"


async def test_code_redeemed_twice_is_refused(
    oidc_provider: OidcTestProvider, http: aiohttp.ClientSession
) -> None:
    """RFC 6749 §4.1.2: a code is single-use; the second exchange is refused, not an outage."""
    idp = await build_idp(oidc_provider, http)
    login = LoginRequest()
    url = await idp.build_authorization_url(
        state=login.state, nonce=login.nonce, code_challenge=login.code_challenge
    )
    code = (await oidc_provider.follow_login(url, redirect_uri=idp.redirect_uri)).query["code"]
    await idp.exchange_code(code=code, code_verifier=login.code_verifier, nonce=login.nonce)

    with pytest.raises(LoginRefusedError) as refused:
        await idp.exchange_code(code=code, code_verifier=login.code_verifier, nonce=login.nonce)

    assert refused.value.reason == "code_rejected"


async def test_code_exchanged_with_another_verifier_is_refused(
    oidc_provider: OidcTestProvider, http: aiohttp.ClientSession
) -> None:
    """RFC 7636 §4.6: the provider checks our verifier; a mismatch refuses the login."""
    idp = await build_idp(oidc_provider, http)
    login = LoginRequest()
    url = await idp.build_authorization_url(
        state=login.state, nonce=login.nonce, code_challenge=login.code_challenge
    )
    code = (await oidc_provider.follow_login(url, redirect_uri=idp.redirect_uri)).query["code"]

    with pytest.raises(LoginRefusedError) as refused:
        await idp.exchange_code(
            code=code, code_verifier=LoginRequest().code_verifier, nonce=login.nonce
        )

    assert refused.value.reason == "code_rejected"


async def test_id_token_for_another_login_nonce_is_refused(
    oidc_provider: OidcTestProvider, http: aiohttp.ClientSession
) -> None:
    """OIDC Core 1.0 §3.1.3.7 item 11: the ID token's nonce must be this login's."""
    idp = await build_idp(oidc_provider, http)
    login = LoginRequest()
    url = await idp.build_authorization_url(
        state=login.state, nonce=login.nonce, code_challenge=login.code_challenge
    )
    code = (await oidc_provider.follow_login(url, redirect_uri=idp.redirect_uri)).query["code"]

    with pytest.raises(LoginRefusedError) as refused:
        await idp.exchange_code(code=code, code_verifier=login.code_verifier, nonce="another-nonce")

    assert refused.value.reason == "nonce_mismatch"


async def test_wrong_client_secret_fails_as_an_idp_error_without_the_secret(
    oidc_provider: OidcTestProvider, http: aiohttp.ClientSession
) -> None:
    """RFC 6749 §5.2 invalid_client is an operator problem: IdpError, secret not echoed."""
    idp = await build_idp(oidc_provider, http, client_secret="not-the-registered-secret")

    with pytest.raises(IdpError) as failed:
        await sign_in(oidc_provider, idp)

    assert failed.value.reason == "token_request_failed"
    assert "invalid_client" in failed.value.detail
    assert "not-the-registered-secret" not in str(failed.value)
