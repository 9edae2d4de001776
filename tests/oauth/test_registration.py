"""Dynamic Client Registration: what is accepted, what is stored, what is answered."""

from __future__ import annotations

import json
import re

import pytest
from mcp.client.auth.oauth2 import check_registration_usable
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata
from structlog.testing import capture_logs

from mcp_gate.crypto.digest import token_digest
from mcp_gate.oauth.errors import InvalidClientMetadata, InvalidRedirectUri
from mcp_gate.oauth.registration import CLIENT_NAME_MAX_CHARS, register_client
from mcp_gate.store.records import to_json

NOW = 1_800_000_000.0
UNRESERVED = re.compile(r"[A-Za-z0-9_-]+")
CURSOR_BODY = {
    "client_name": "Cursor",
    "redirect_uris": [
        "cursor://anysphere.cursor-mcp/oauth/callback",
        "https://www.cursor.com/agents/mcp/oauth/callback",
        "http://127.0.0.1:52311/oauth/callback",
    ],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
}


def test_cursor_registration_is_accepted_with_all_its_redirect_uris() -> None:
    """Cursor's private-use, https and loopback URIs all register."""
    client, secret, body = register_client(CURSOR_BODY, now=NOW)
    assert client.redirect_uris == tuple(CURSOR_BODY["redirect_uris"])
    assert body["redirect_uris"] == CURSOR_BODY["redirect_uris"]
    assert secret is None
    assert client.token_endpoint_auth_method == "none"
    assert client.client_name == "Cursor"
    assert client.source == "dcr"


def test_javascript_redirect_uri_refuses_the_whole_registration() -> None:
    """Policy (RFC 7591 §3.2.2 invalid_redirect_uri): script schemes are never dropped quietly,
    always refused."""
    body = {"redirect_uris": ["https://ok.example/cb", "javascript:alert(document.cookie)"]}
    with pytest.raises(InvalidRedirectUri, match="javascript"):
        register_client(body, now=NOW)


def test_one_unusable_redirect_uri_is_dropped_and_logged_without_its_query() -> None:
    """Policy (Cursor sends several URIs at once): one odd URI never fails a registration; logs are
    safe."""
    body = {
        "redirect_uris": ["http://app.example/cb?sig=SECRETISH", "https://app.example/cb"],
        "token_endpoint_auth_method": "none",
    }
    with capture_logs() as logs:
        client, _, response = register_client(body, now=NOW)
    assert client.redirect_uris == ("https://app.example/cb",)
    assert response["redirect_uris"] == ["https://app.example/cb"]
    [event] = [e for e in logs if e["event"] == "client_redirect_uris_dropped"]
    assert event["client_id"] == client.client_id
    assert event["dropped"] == [
        "http://app.example: http redirect URIs are allowed only on localhost, 127.0.0.1 or [::1]"
    ]
    assert "SECRETISH" not in json.dumps(logs)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({}, "required"),
        ({"redirect_uris": None}, "required"),
        ({"redirect_uris": []}, "empty"),
        ({"redirect_uris": "https://a.example/cb"}, "array of strings"),
        ({"redirect_uris": [42]}, "array of strings"),
        ({"redirect_uris": ["http://a.example/cb"]}, "no usable redirect URI"),
        ({"redirect_uris": [f"https://a.example/{i}" for i in range(21)]}, "at most 20"),
    ],
)
def test_registration_without_a_usable_redirect_uri_is_refused(
    body: dict[str, object], reason: str
) -> None:
    """Spec (RFC 7591 §3.2.2 invalid_redirect_uri; MCP: clients register redirect URIs)."""
    with pytest.raises(InvalidRedirectUri, match=reason):
        register_client(body, now=NOW)


def test_response_echoes_every_registered_member() -> None:
    """Spec (RFC 7591 §3.2.1): a complete, concrete echo (ChatGPT refuses a partial one)."""
    request = {
        "redirect_uris": ["http://localhost:3000/callback"],
        "client_name": "Inspector",
        "scope": "mcp",
        "application_type": "web",
        "client_uri": "https://inspector.example/",
        "logo_uri": "https://inspector.example/logo.png",
    }
    client, secret, body = register_client(request, now=NOW)
    assert secret is not None
    assert body == {
        "client_id": client.client_id,
        "client_secret": secret,
        "client_secret_expires_at": 0,
        "client_id_issued_at": 1_800_000_000,
        "redirect_uris": ["http://localhost:3000/callback"],
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "application_type": "web",
        "client_name": "Inspector",
        "scope": "mcp",
        "client_uri": "https://inspector.example/",
        "logo_uri": "https://inspector.example/logo.png",
    }


def test_public_client_response_has_no_secret_members() -> None:
    """Spec (RFC 7591 §3.2.1): client_secret and its expiry only when a secret is issued."""
    _, secret, body = register_client(
        {"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "none"},
        now=NOW,
    )
    assert secret is None
    assert "client_secret" not in body
    assert "client_secret_expires_at" not in body
    assert body["token_endpoint_auth_method"] == "none"


@pytest.mark.parametrize("method", ["client_secret_post", "client_secret_basic", None])
def test_secret_is_stored_only_as_its_digest(method: str | None) -> None:
    """Spec (RFC 6819 §5.1.4.1.3): the stored record holds the digest, never the secret."""
    request: dict[str, object] = {"redirect_uris": ["https://a.example/cb"]}
    if method:
        request["token_endpoint_auth_method"] = method
    client, secret, _ = register_client(request, now=NOW)
    assert secret is not None
    assert client.token_endpoint_auth_method == (method or "client_secret_basic")
    assert client.client_secret_digest == token_digest(secret)
    assert secret not in to_json(client).decode()
    assert secret not in repr(client)


def test_client_ids_and_secrets_use_unreserved_characters_only() -> None:
    """RFC 6749 §2.3.1 (the Python SDK URL-encodes, the TypeScript SDK does not): ids and secrets
    survive Basic with or without URL-encoding."""
    for _ in range(50):
        client, secret, _ = register_client({"redirect_uris": ["https://a.example/cb"]}, now=NOW)
        assert UNRESERVED.fullmatch(client.client_id)
        assert secret is not None
        assert UNRESERVED.fullmatch(secret)


def test_unknown_members_are_ignored() -> None:
    """Spec (RFC 7591 §3.1, unknown members ignored): `resource` and others do not fail DCR."""
    client, _, body = register_client(
        {
            "redirect_uris": ["https://a.example/cb"],
            "resource": "https://gate.example/s/time/mcp",
            "software_id": "x",
            "jwks": {"keys": []},
            "frobnicate": True,
        },
        now=NOW,
    )
    assert client.redirect_uris == ("https://a.example/cb",)
    assert "resource" not in body
    assert "frobnicate" not in body


@pytest.mark.parametrize(
    ("member", "value", "reason"),
    [
        ("token_endpoint_auth_method", "private_key_jwt", "not supported"),
        ("token_endpoint_auth_method", "tls_client_auth", "not supported"),
        ("token_endpoint_auth_method", 7, "must be a string"),
        ("grant_types", ["client_credentials"], "must include 'authorization_code'"),
        ("grant_types", "authorization_code", "array of strings"),
        ("response_types", ["token"], "must include 'code'"),
        ("application_type", "desktop", "'native' or 'web'"),
        ("client_name", ["x"], "must be a string"),
        ("scope", "s" * 1001, "longer than"),
    ],
)
def test_invalid_metadata_is_refused_with_its_member_named(
    member: str, value: object, reason: str
) -> None:
    """Spec (RFC 7591 §3.2.2 invalid_client_metadata): the description says what is wrong."""
    with pytest.raises(InvalidClientMetadata, match=reason) as caught:
        register_client({"redirect_uris": ["https://a.example/cb"], member: value}, now=NOW)
    assert member in caught.value.description


def test_unsupported_grant_types_are_dropped_from_the_echo() -> None:
    """Spec (RFC 7591 §2: the server MAY replace values); refresh_token kept (ChatGPT needs it)."""
    client, _, body = register_client(
        {
            "redirect_uris": ["https://a.example/cb"],
            "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
            "response_types": ["code", "id_token"],
        },
        now=NOW,
    )
    assert client.grant_types == ("authorization_code", "refresh_token")
    assert body["grant_types"] == ["authorization_code", "refresh_token"]
    assert body["response_types"] == ["code"]


def test_null_members_count_as_absent() -> None:
    """Policy: clients serialize unset members as null; defaults apply."""
    client, secret, body = register_client(
        {
            "redirect_uris": ["https://a.example/cb"],
            "token_endpoint_auth_method": None,
            "grant_types": None,
            "client_name": None,
            "scope": None,
        },
        now=NOW,
    )
    assert secret is not None
    assert client.grant_types == ("authorization_code", "refresh_token")
    assert "client_name" not in body
    assert "scope" not in body


def test_client_name_is_cut_and_cleaned_for_the_consent_page() -> None:
    """Policy: no controls or bidi overrides, one line, at most CLIENT_NAME_MAX_CHARS."""
    client, _, _ = register_client(
        {"redirect_uris": ["https://a.example/cb"], "client_name": "Good\u202e\n\tApp"},
        now=NOW,
    )
    assert client.client_name == "Good App"
    client, _, _ = register_client(
        {"redirect_uris": ["https://a.example/cb"], "client_name": "x" * 500}, now=NOW
    )
    assert len(client.client_name) == CLIENT_NAME_MAX_CHARS


def test_display_urls_that_are_not_https_are_dropped() -> None:
    """Policy: the consent page shows only https client and logo URLs."""
    client, _, body = register_client(
        {
            "redirect_uris": ["https://a.example/cb"],
            "client_uri": "javascript:alert(1)",
            "logo_uri": "http://a.example/logo.png",
        },
        now=NOW,
    )
    assert client.client_uri == client.logo_uri == ""
    assert "client_uri" not in body
    assert "logo_uri" not in body


@pytest.mark.parametrize("method", [None, "none", "client_secret_post", "client_secret_basic"])
def test_python_sdk_accepts_the_registration_response(method: str | None) -> None:
    """Interop with the official Python SDK: the SDK's own request model in, its response model
    out."""
    metadata = OAuthClientMetadata(
        redirect_uris=["http://localhost:3030/callback"],  # type: ignore[list-item]
        client_name="sdk",
        token_endpoint_auth_method=method,  # type: ignore[arg-type]
    )
    request = metadata.model_dump(by_alias=True, mode="json", exclude_none=True)
    _, secret, body = register_client(request, now=NOW)
    info = OAuthClientInformationFull.model_validate_json(json.dumps(body))
    check_registration_usable(info)
    assert info.client_secret == secret
    assert info.token_endpoint_auth_method == (method or "client_secret_basic")
    assert info.application_type == "native"
