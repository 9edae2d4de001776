"""The token request (RFC 6749 §4.1.3, RFC 7636 §4.5) and how its failures surface."""

from __future__ import annotations

import base64

import aiohttp
import pytest

from mcp_gate.config.model import Secret
from mcp_gate.idp import IdpError, LoginRefusedError
from mcp_gate.idp.oidc import OidcProvider
from tests.fixtures.ports import free_port
from tests.idp.scripted_idp import CLIENT_ID, CLIENT_SECRET, NONCE, REDIRECT_URI, ScriptedIdp


async def test_token_request_authenticates_with_basic_and_sends_the_verifier(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """RFC 6749 §2.3.1 (basic, preferred when offered) and §4.1.3; RFC 7636 §4.5."""
    scripted_idp.answer_with_id_token(scripted_idp.sign(scripted_idp.claims()))
    provider = scripted_idp.build_provider(http)

    await provider.exchange_code(code="the-code", code_verifier="the-verifier", nonce=NONCE)

    [(headers, form)] = scripted_idp.token_requests
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert headers["Authorization"] == f"Basic {expected}"
    assert form == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": REDIRECT_URI,
        "code_verifier": "the-verifier",
    }


async def test_token_request_uses_client_secret_post_when_basic_is_not_offered(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """OIDC Discovery 1.0 §3 token_endpoint_auth_methods_supported; RFC 6749 §2.3.1."""
    scripted_idp.auth_methods = ["client_secret_post"]
    scripted_idp.answer_with_id_token(scripted_idp.sign(scripted_idp.claims()))

    await scripted_idp.build_provider(http).exchange_code(code="c", code_verifier="v", nonce=NONCE)

    [(headers, form)] = scripted_idp.token_requests
    assert "Authorization" not in headers
    assert (form["client_id"], form["client_secret"]) == (CLIENT_ID, CLIENT_SECRET)


async def test_client_secret_with_reserved_characters_is_form_encoded_in_basic(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """RFC 6749 §2.3.1: id and secret are application/x-www-form-urlencoded before base64."""
    scripted_idp.answer_with_id_token(scripted_idp.sign(scripted_idp.claims()))
    provider = OidcProvider(
        kind="oidc",
        issuer=scripted_idp.issuer,
        discovery_url=f"{scripted_idp.issuer}/.well-known/openid-configuration",
        client_id=CLIENT_ID,
        client_secret=Secret("p@ss:word/+"),
        redirect_uri=REDIRECT_URI,
        allowed_domains=(),
        http=http,
    )

    await provider.exchange_code(code="c", code_verifier="v", nonce=NONCE)

    [(headers, _)] = scripted_idp.token_requests
    encoded = base64.b64decode(headers["Authorization"].removeprefix("Basic ")).decode()
    assert encoded == f"{CLIENT_ID}:p%40ss%3Aword%2F%2B"


async def test_rejected_code_is_a_refused_login(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """RFC 6749 §5.2 invalid_grant: the user starts again; it is no outage."""
    scripted_idp.token_status = 400
    scripted_idp.token_body = {"error": "invalid_grant"}

    with pytest.raises(LoginRefusedError) as refused:
        await scripted_idp.build_provider(http).exchange_code(
            code="c", code_verifier="v", nonce=NONCE
        )

    assert refused.value.reason == "code_rejected"


async def test_token_endpoint_failure_is_an_idp_error(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """A 5xx from the IdP is an IdpError with a safe message for the user."""
    scripted_idp.token_status = 503
    scripted_idp.token_body = {"error": "temporarily_unavailable"}

    with pytest.raises(IdpError) as failed:
        await scripted_idp.build_provider(http).exchange_code(
            code="c", code_verifier="v", nonce=NONCE
        )

    assert failed.value.reason == "token_request_failed"
    assert "503" in failed.value.detail
    assert "try again" in failed.value.message.lower()


async def test_token_response_without_id_token_is_an_idp_error(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """OIDC Core 1.0 §3.1.3.3: id_token is REQUIRED in the token response."""
    scripted_idp.token_body = {"access_token": "idp-access", "token_type": "Bearer"}

    with pytest.raises(IdpError) as failed:
        await scripted_idp.build_provider(http).exchange_code(
            code="c", code_verifier="v", nonce=NONCE
        )

    assert failed.value.reason == "token_request_failed"


async def test_unreachable_idp_is_an_idp_error(http: aiohttp.ClientSession) -> None:
    """Nothing listening at the discovery URL: IdpError, not a crash."""
    issuer = f"http://127.0.0.1:{free_port()}"
    provider = OidcProvider(
        kind="oidc",
        issuer=issuer,
        discovery_url=f"{issuer}/.well-known/openid-configuration",
        client_id=CLIENT_ID,
        client_secret=Secret(CLIENT_SECRET),
        redirect_uri=REDIRECT_URI,
        allowed_domains=(),
        http=http,
    )

    with pytest.raises(IdpError) as failed:
        await provider.build_authorization_url(state="s", nonce="n", code_challenge="c")

    assert failed.value.reason == "idp_unreachable"
