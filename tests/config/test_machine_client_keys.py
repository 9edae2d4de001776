"""`proxy.auth.clients[]` machines: `grantTypes: [client_credentials]`, a secret or keys."""

from __future__ import annotations

from mcp_gate.config import parse_config
from tests.fixtures.config_files import google_auth, minimal_document, problems_of

SECRET = "ci-bot-secret-0123456789abcdef0123456789abcdef"
PUBLIC_KEY = {
    "kty": "EC",
    "crv": "P-256",
    "kid": "key-1",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
}
CI_BOT = {"clientId": "ci-bot", "clientName": "CI bot", "grantTypes": ["client_credentials"]}


def _with_clients(*clients: object) -> dict:
    document = minimal_document()
    document["proxy"]["auth"] = {**google_auth(), "clients": list(clients)}
    return document


def test_machine_clients_load_with_a_secret_or_keys_and_no_redirect_uris():
    """RFC 6749 §4.4; RFC 7523 §2.2: secret, inline `jwks`, or `jwksUrl`; no redirect URI."""
    document = _with_clients(
        CI_BOT | {"clientSecret": SECRET},
        CI_BOT | {"clientId": "jwt-bot", "jwks": {"keys": [PUBLIC_KEY]}},
        CI_BOT | {"clientId": "url-bot", "jwksUrl": "https://keys.example.test/jwks.json"},
    )
    auth = parse_config(document, {}).proxy.auth
    assert auth is not None
    secret_bot, jwt_bot, url_bot = auth.clients
    assert secret_bot.grant_types == ("client_credentials",)
    assert secret_bot.redirect_uris == ()
    assert (secret_bot.has_keys, jwt_bot.has_keys, url_bot.has_keys) == (False, True, True)
    assert jwt_bot.jwks == {"keys": [PUBLIC_KEY]}


def test_machine_client_without_credentials_is_refused():
    """RFC 6749 §4.4: client_credentials MUST only be used by confidential clients."""
    assert problems_of(_with_clients(CI_BOT)) == [
        "proxy.auth.clients[0].grantTypes: client_credentials needs a confidential client: "
        "a clientSecret, or jwks / jwksUrl"
    ]


def test_machine_client_keys_are_checked():
    """policy: public keys only, one authentication method, keys over TLS."""
    private = PUBLIC_KEY | {"d": "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}
    problems = problems_of(
        _with_clients(
            CI_BOT | {"jwks": {"keys": [private]}},
            CI_BOT | {"clientId": "b", "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}},
            CI_BOT | {"clientId": "c", "clientSecret": SECRET, "jwksUrl": "https://k.test/j"},
            CI_BOT | {"clientId": "d", "jwksUrl": "http://keys.example.test/jwks.json"},
            CI_BOT
            | {"clientId": "e", "redirectUris": ["https://e.test/cb"], "clientSecret": SECRET},
        )
    )
    assert problems == [
        "proxy.auth.clients[0].jwks.keys[0]: holds a private key (d); give only the public key",
        "proxy.auth.clients[1].jwks.keys[0]: kty must be RSA or EC",
        "proxy.auth.clients[2].clientSecret: give either a clientSecret or keys (jwks, "
        "jwksUrl) for private_key_jwt, not both",
        "proxy.auth.clients[3].jwksUrl: must be an https URL (http only on loopback)",
        "proxy.auth.clients[4].redirectUris: not allowed: only with grantTypes authorization_code",
    ]


def test_grant_types_are_checked():
    """RFC 6749 §4.4.3: no refresh token without a user's grant to refresh."""
    problems = problems_of(
        _with_clients(
            CI_BOT | {"clientSecret": SECRET, "grantTypes": ["password"]},
            CI_BOT | {"clientId": "b", "clientSecret": SECRET,
                      "grantTypes": ["client_credentials", "refresh_token"]},
        )
    )  # fmt: skip
    assert problems == [
        "proxy.auth.clients[0].grantTypes[0]: must be one of authorization_code, "
        "refresh_token, client_credentials; got 'password'",
        "proxy.auth.clients[0].grantTypes: the list is empty",
        "proxy.auth.clients[1].grantTypes: refresh_token needs authorization_code",
    ]
