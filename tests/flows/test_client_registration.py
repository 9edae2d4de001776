"""Clients registering at the gate: DCR (RFC 7591) and Client ID Metadata Documents.

The rules themselves are unit-tested in tests/oauth/; here a registered client goes
through a whole login. CIMD documents come from a fake fetcher (`create_app(...,
cimd_fetcher=...)`), since tests cannot reach https hosts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace

import aiohttp
import pytest
from mcp.client.auth import OAuthClientProvider
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

from mcp_gate.oauth.cimd import DocumentFetchError, FetchedDocument, HttpsDocumentFetcher
from mcp_gate.rate_limits import REGISTRATIONS_PER_ADDRESS
from tests.fixtures.cimd_server import resolve_test_host
from tests.fixtures.gate import remote
from tests.fixtures.mcp_clients import streamable_client
from tests.fixtures.oauth_client import (
    Pkce,
    RegisteredClient,
    authorization_url,
    log_in,
    register,
    request,
)
from tests.fixtures.oauth_flow import CLIENT_REDIRECT_URI, Browser, MemoryTokenStorage

pytestmark = pytest.mark.usefixtures("oidc_provider")

CIMD_CLIENT_ID = "https://client.example/oauth/client-metadata.json"


def _servers(backend):
    return {"py": remote("py", "streamable-http", backend.url)}


class FixtureFetcher:
    """A `DocumentFetcher` serving documents from a dict; counts its fetches."""

    def __init__(self, documents: Mapping[str, object]) -> None:
        self.documents = dict(documents)
        self.fetched: list[str] = []

    async def fetch(self, url: str) -> FetchedDocument:
        self.fetched.append(url)
        if url not in self.documents:
            raise DocumentFetchError("HTTP 404")
        return FetchedDocument(json.dumps(self.documents[url]).encode(), "max-age=600")


def _document(**fields: object) -> dict[str, object]:
    return {
        "client_id": CIMD_CLIENT_ID,
        "client_name": "Claude Code",
        # As Claude Code publishes it: port-less loopback, used with ephemeral ports.
        "redirect_uris": ["http://127.0.0.1/callback", "http://localhost/callback"],
        "token_endpoint_auth_method": "none",
        **fields,
    }


async def test_registration_answers_201_with_the_full_client_metadata(
    oauth_gate_factory, py_streamable_server
):
    """RFC 7591 §3.2.1: echo every member, a concrete method."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        answer = await request(
            "POST",
            gate.url("/register"),
            json={
                "client_name": "claude.ai",
                "redirect_uris": ["https://claude.ai/api/mcp/auth_callback"],
                "token_endpoint_auth_method": "client_secret_post",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "resource": "ignored, RFC 7591 §3.1",
            },
        )
    body = answer.json
    assert answer.status == 201
    assert answer.headers["Cache-Control"] == "no-store"
    assert body["client_id"]
    assert body["client_secret"]
    assert body["client_secret_expires_at"] == 0
    assert isinstance(body["client_id_issued_at"], int)
    assert body["redirect_uris"] == ["https://claude.ai/api/mcp/auth_callback"]
    assert body["token_endpoint_auth_method"] == "client_secret_post"
    assert body["grant_types"] == ["authorization_code", "refresh_token"]
    assert body["response_types"] == ["code"]
    assert body["client_name"] == "claude.ai"


async def test_public_client_registers_without_a_secret_and_logs_in(
    oauth_gate_factory, py_streamable_server
):
    """RFC 7591 §2 `none`: a public client gets no secret and authenticates with PKCE alone."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url, token_endpoint_auth_method="none")
        tokens = await log_in(gate.base_url, client)
    assert "client_secret" not in client.registration
    assert tokens.status == 200


async def test_cursor_redirect_uris_register_as_a_set(oauth_gate_factory, py_streamable_server):
    """Cursor registers a private-use, an https and a loopback URI together: all are fine."""
    uris = (
        "cursor://anysphere.cursor-mcp/oauth/callback",
        "https://www.cursor.com/agents/mcp/oauth/callback",
        "http://127.0.0.1:33418/callback",
    )
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        client = await register(gate.base_url, redirect_uris=uris)
        browser = Browser()
        url = authorization_url(gate.base_url, client, pkce=Pkce.new(), redirect_uri=uris[0])
        callback = await browser.walk(url, stop_at="cursor://")
    assert client.registration["redirect_uris"] == list(uris)
    assert callback.query["code"]


async def test_registration_with_a_dangerous_redirect_uri_is_refused(
    oauth_gate_factory, py_streamable_server
):
    """RFC 7591 §3.2.2 `invalid_redirect_uri` (javascript: never)."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        answer = await request(
            "POST",
            gate.url("/register"),
            json={"redirect_uris": ["javascript:alert(1)", "http://127.0.0.1/cb"]},
        )
    assert answer.status == 400
    assert answer.error == "invalid_redirect_uri"


async def test_registration_that_is_not_json_is_invalid_client_metadata(
    oauth_gate_factory, py_streamable_server
):
    """RFC 7591 §3.2.2: a malformed request is a clear 400, never a 500."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        answer = await request("POST", gate.url("/register"), data={"redirect_uris": "x"})
    assert answer.status == 400
    assert answer.error == "invalid_client_metadata"


async def test_registrations_beyond_the_limit_get_429(oauth_gate_factory, py_streamable_server):
    """docs/THREAT_MODEL.md, registration flooding: rate-limit /register."""
    body = {"redirect_uris": [CLIENT_REDIRECT_URI], "token_endpoint_auth_method": "none"}
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        statuses = [
            (await request("POST", gate.url("/register"), json=body)).status
            for _ in range(REGISTRATIONS_PER_ADDRESS.requests)
        ]
        refused = await request("POST", gate.url("/register"), json=body)
    assert statuses == [201] * REGISTRATIONS_PER_ADDRESS.requests
    assert refused.status == 429
    assert refused.error == "temporarily_unavailable"
    assert 1 <= int(refused.headers["Retry-After"]) <= REGISTRATIONS_PER_ADDRESS.per_seconds


def _cimd_client() -> RegisteredClient:
    return RegisteredClient(
        client_id=CIMD_CLIENT_ID,
        client_secret=None,
        auth_method="none",
        redirect_uri=CLIENT_REDIRECT_URI,
    )


async def test_cimd_client_logs_in_with_its_document(oauth_gate_factory, py_streamable_server):
    """MCP client registration §CIMD: document fetched, its name shown, loopback on any port."""
    fetcher = FixtureFetcher({CIMD_CLIENT_ID: _document()})
    async with oauth_gate_factory(_servers(py_streamable_server), cimd_fetcher=fetcher) as gate:
        client = _cimd_client()
        consent = await request("GET", authorization_url(gate.base_url, client, pkce=Pkce.new()))
        consent_page = await request("GET", gate.url(consent.headers["Location"]))
        tokens = await log_in(gate.base_url, client)
        again = await log_in(gate.base_url, client)
    assert "Claude Code" in consent_page.text
    assert tokens.status == 200
    assert again.status == 200
    assert fetcher.fetched == [CIMD_CLIENT_ID]  # cached per its Cache-Control


@pytest.mark.parametrize(
    ("documents", "why"),
    [
        ({}, "could not be fetched"),
        (
            {CIMD_CLIENT_ID: _document(client_id="https://client.example/other.json")},
            "does not equal",
        ),
        (
            {CIMD_CLIENT_ID: _document(redirect_uris=["https://client.example/cb"])},
            "did not register",
        ),
    ],
    ids=["unreachable", "client-id-mismatch", "redirect-not-listed"],
)
async def test_cimd_client_with_a_bad_document_stops_at_a_page(
    oauth_gate_factory, py_streamable_server, documents, why
):
    """MCP client registration §CIMD: the AS MUST check client_id and redirect_uris."""
    fetcher = FixtureFetcher(documents)
    async with oauth_gate_factory(_servers(py_streamable_server), cimd_fetcher=fetcher) as gate:
        answer = await request(
            "GET", authorization_url(gate.base_url, _cimd_client(), pkce=Pkce.new())
        )
    assert answer.status == 400
    assert "Location" not in answer.headers
    assert answer.headers["Content-Type"].startswith("text/html")
    assert why in answer.text


async def test_sdk_client_uses_cimd_when_the_gate_advertises_it(
    oauth_gate_factory, py_streamable_server
):
    """MCP 2025-11-25 authorization §Client Registration Approaches: with
    `client_id_metadata_document_supported`, no DCR at all."""
    fetcher = FixtureFetcher({CIMD_CLIENT_ID: _document()})
    browser = Browser()
    callbacks = []

    async def redirect_handler(authorization_url: str) -> None:
        callbacks.append(await browser.walk(authorization_url))

    async def callback_handler() -> AuthorizationCodeResult:
        query = callbacks[-1].query
        return AuthorizationCodeResult(code=query["code"], state=query["state"], iss=query["iss"])

    storage = MemoryTokenStorage()
    async with oauth_gate_factory(_servers(py_streamable_server), cimd_fetcher=fetcher) as gate:
        url = gate.url("/py/mcp")
        provider = OAuthClientProvider(
            url,
            OAuthClientMetadata(redirect_uris=[CLIENT_REDIRECT_URI], client_name="ignored"),
            storage,
            redirect_handler=redirect_handler,
            callback_handler=callback_handler,
            client_metadata_url=CIMD_CLIENT_ID,
        )
        async with streamable_client(url, auth=provider) as mcp:
            result = await mcp.call_tool("echo", {"text": "cimd"})
    assert result.content[0].text == "cimd"
    assert storage.client_info is not None
    assert storage.client_info.client_id == CIMD_CLIENT_ID
    assert fetcher.fetched == [CIMD_CLIENT_ID]


async def test_cimd_client_logs_in_with_a_document_fetched_over_tls(
    oauth_gate_factory, py_streamable_server, cimd_server
):
    """MCP client registration §CIMD with the real https fetcher (test CA, test host name)."""
    connector = aiohttp.TCPConnector(ssl=cimd_server.client_ssl)
    async with aiohttp.ClientSession(connector=connector) as tls_http:
        fetcher = HttpsDocumentFetcher(
            tls_http, resolve=resolve_test_host, is_allowed_address=lambda address: True
        )
        async with oauth_gate_factory(_servers(py_streamable_server), cimd_fetcher=fetcher) as gate:
            client = replace(_cimd_client(), client_id=cimd_server.url("/client.json"))
            tokens = await log_in(gate.base_url, client)
    assert tokens.status == 200
    assert cimd_server.hosts_seen == [f"cimd.test:{cimd_server.port}"]
