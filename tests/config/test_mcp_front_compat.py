"""mcp-front compatibility: its config.json loads unchanged, its missing features fail clearly."""

from __future__ import annotations

import pytest

from mcp_gate.config import load_config, parse_config
from mcp_gate.config.idp_schema import GOOGLE_DISCOVERY_URL
from mcp_gate.config.model import Secret, ToolFilter, UserTokenTemplate
from tests.fixtures.config_files import EXAMPLE_ENVIRON, EXAMPLES, problems_of

BASE_URL = "https://tools.acme.test"


def _mcp_front_auth(**changes: object) -> dict:
    """An mcp-front style `proxy.auth` block (flat Google keys), as its docs show it."""
    auth = {
        "kind": "oauth",
        "issuer": BASE_URL,
        "gcpProject": "acme-project",
        "allowedDomains": ["acme.test"],
        "allowedOrigins": ["https://claude.ai"],
        "tokenTtl": "24h",
        "storage": "memory",
        "googleClientId": "client-id",
        "googleClientSecret": "client-secret",
        "googleRedirectUri": f"{BASE_URL}/oauth/callback",
        "jwtSecret": "j" * 32,
        "encryptionKey": "e" * 32,
    }
    return {**auth, **changes}


def _document(auth: dict | None = None, **server: object) -> dict:
    document: dict = {
        "version": "v0.0.1-DEV_EDITION_EXPECT_CHANGES",
        "proxy": {"baseURL": BASE_URL, "addr": ":8080", "name": "mcp-front"},
        "mcpServers": {"tools": {"transportType": "stdio", "command": "tools-mcp", **server}},
    }
    if auth is not None:
        document["proxy"]["auth"] = auth
    return document


def test_mcp_front_config_json_loads_unchanged() -> None:
    """docs/config.md, mcp-front compatibility: an mcp-front config.json using only features we have
    loads as is."""
    config = load_config(EXAMPLES / "mcp-front.json", EXAMPLE_ENVIRON)
    assert config.proxy.base_url == BASE_URL
    assert (config.proxy.host, config.proxy.port) == ("0.0.0.0", 8080)
    assert config.proxy.sessions.max_per_user == 3
    auth = config.proxy.auth
    assert auth is not None
    assert auth.idp.provider == "google"
    assert auth.idp.client_id == EXAMPLE_ENVIRON["GOOGLE_CLIENT_ID"]
    assert auth.idp.client_secret == Secret(EXAMPLE_ENVIRON["GOOGLE_CLIENT_SECRET"])
    assert auth.idp.discovery_url == GOOGLE_DISCOVERY_URL
    assert auth.token_ttl_seconds == 12 * 3600
    assert auth.encryption_keys == (Secret("mcp-front-32-byte-raw-key-value!"),)
    warehouse = config.servers["warehouse"]
    assert warehouse.options.tool_filter == ToolFilter(mode="block", tools=("drop_table",))
    assert [service.type for service in warehouse.service_auths] == ["bearer", "basic"]
    assert config.servers["wiki"].timeout_seconds == 90.0


def test_token_setup_reads_as_manual_user_authentication() -> None:
    """mcp-front's older `tokenSetup` is a manual userAuthentication; tokenFormat is the regex."""
    config = load_config(EXAMPLES / "mcp-front.json", EXAMPLE_ENVIRON)
    tracker = config.servers["tracker"]
    assert tracker.user_authentication is not None
    assert tracker.user_authentication.type == "manual"
    assert tracker.user_authentication.display_name == "Tracker API key"
    assert tracker.user_authentication.validation == "^trk_[a-z0-9]{20}$"
    assert tracker.env["TRACKER_AUTH"] == UserTokenTemplate('{"Authorization": "Bearer {{token}}"}')


def test_user_authentication_token_format_wraps_the_templates() -> None:
    """mcp-front's `userAuthentication.tokenFormat` wraps the token inside each template."""
    config = load_config(EXAMPLES / "mcp-front.json", EXAMPLE_ENVIRON)
    wiki = config.servers["wiki"]
    assert wiki.headers == {"Authorization": UserTokenTemplate("Bearer {{token}}")}


def test_harmless_mcp_front_keys_are_accepted() -> None:
    """Policy: `version`, `gcpProject`, `options.panicIfInvalid`, `admin.enabled: false` load."""
    document = _document(_mcp_front_auth(), options={"panicIfInvalid": True})
    document["proxy"]["admin"] = {"enabled": False, "adminEmails": []}
    assert parse_config(document, {}).proxy.auth is not None


@pytest.mark.parametrize("storage_key", ["firestoreDatabase", "firestoreCollection"])
def test_firestore_keys_say_to_use_redis(storage_key: str) -> None:
    """docs/config.md, mcp-front compatibility: Firestore is not here; the error says to use
    storage: redis."""
    assert problems_of(_document(_mcp_front_auth(**{storage_key: "(default)"}))) == [
        f"proxy.auth.{storage_key}: mcp-gate has no Firestore storage; "
        "use storage: redis with redis.url"
    ]


def test_firestore_storage_says_to_use_redis() -> None:
    """docs/config.md, mcp-front compatibility: `storage: firestore` gets a clear error naming the
    alternative."""
    assert problems_of(_document(_mcp_front_auth(storage="firestore"))) == [
        "proxy.auth.storage: mcp-gate has no Firestore storage; use storage: redis with redis.url"
    ]


def test_inline_servers_are_refused_clearly() -> None:
    """mcp-front's inline servers do not exist here; both the type and the key say so."""
    document = _document(transportType="inline", inline={"tools": []})
    del document["mcpServers"]["tools"]["command"]
    why = "mcp-gate does not run inline servers; serve the tools from a stdio or HTTP MCP server"
    assert problems_of(document) == [
        f"mcpServers.tools.inline: {why}",
        f"mcpServers.tools.transportType: {why}",
    ]


def test_bearer_token_auth_kind_points_to_service_auths() -> None:
    """mcp-front's older `kind: bearerToken` is refused with the serviceAuths replacement."""
    document = _document({"kind": "bearerToken", "tokens": {"tools": ["t"]}})
    assert problems_of(document) == [
        "proxy.auth.tokens: mcp-front's kind: bearerToken is not supported; see proxy.auth.kind",
        "proxy.auth.kind: mcp-front's kind: bearerToken is not supported; remove proxy.auth and "
        "give each server serviceAuths: [{type: bearer, tokens: [...]}]",
    ]


def test_redirect_uri_other_than_ours_is_an_error() -> None:
    """Policy: we derive the callback from baseURL; a different googleRedirectUri would fail."""
    document = _document(_mcp_front_auth(googleRedirectUri=f"{BASE_URL}/auth/google"))
    assert problems_of(document) == [
        f"proxy.auth.googleRedirectUri: mcp-gate's callback is {BASE_URL}/oauth/callback "
        "(derived from baseURL): register that URI with Google, and remove this key or make "
        "it equal"
    ]


def test_issuer_other_than_base_url_is_an_error() -> None:
    """Policy: the issuer is baseURL's origin (docs/config.md `baseURL`); a different `issuer` is an
    error."""
    document = _document(_mcp_front_auth(issuer="https://elsewhere.acme.test"))
    assert problems_of(document) == [
        f"proxy.auth.issuer: mcp-gate derives the issuer from baseURL ({BASE_URL}); "
        "remove issuer or make it equal"
    ]


def test_google_keys_and_idp_block_together_are_an_error() -> None:
    """Policy: one way to name the IdP; both at once is ambiguous."""
    auth = _mcp_front_auth(idp={"provider": "google", "clientId": "c", "clientSecret": "s"})
    assert problems_of(_document(auth)) == [
        "proxy.auth.googleClientId: use either idp or mcp-front's google* keys, not both"
    ]


def test_google_client_id_without_secret_is_an_error() -> None:
    """The flat Google keys come as a pair."""
    auth = _mcp_front_auth()
    del auth["googleClientSecret"]
    assert problems_of(_document(auth)) == [
        "proxy.auth.googleClientSecret: required: the OAuth client of the gate at Google"
    ]


def test_options_auth_tokens_point_to_service_auths() -> None:
    """mcp-front's `options.authTokens` is refused with the serviceAuths replacement."""
    assert problems_of(_document(options={"authTokens": ["t"]})) == [
        "mcpServers.tools.options.authTokens: not supported; "
        "use serviceAuths: [{type: bearer, tokens: [...]}]"
    ]


def test_service_auth_user_token_is_refused() -> None:
    """mcp-front's `serviceAuths[].userToken` has no equivalent here."""
    service_auths = [{"type": "bearer", "tokens": ["t"], "userToken": "u"}]
    assert problems_of(_document(serviceAuths=service_auths)) == [
        "mcpServers.tools.serviceAuths[0].userToken: not supported: mcp-gate gives a service "
        "credential no user token; remove it"
    ]


def test_enabled_admin_ui_is_refused() -> None:
    """mcp-front's admin UI does not exist here."""
    document = _document(_mcp_front_auth())
    document["proxy"]["admin"] = {"enabled": True, "adminEmails": ["a@acme.test"]}
    assert problems_of(document) == [
        "proxy.admin.enabled: mcp-gate has no admin UI; remove proxy.admin"
    ]
