"""Malformed requests to the authorization server's routes: a clear 4xx, never a 500.

docs/deploy.md: bad input anywhere gets a clear 4xx, never a 500 and never a stack
trace. Each case below is something a confused client, a scanner or an attacker sends.
"""

from __future__ import annotations

import base64
import io
import json

import aiohttp
import pytest

from mcp_gate.store.memory import MemoryStore
from tests.fixtures.gate import remote
from tests.fixtures.oauth_client import register

pytestmark = pytest.mark.usefixtures("oidc_provider")

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _basic(raw: bytes) -> dict[str, str]:
    return {**_FORM, "Authorization": "Basic " + base64.b64encode(raw).decode()}


# (method, path with query, headers, body); "{client}" becomes a registered client's id.
CASES: dict[str, tuple[str, str, dict[str, str], bytes | None]] = {
    "authorize-empty": ("GET", "/authorize", {}, None),
    "authorize-bad-ipv6-redirect": (
        "GET",
        "/authorize?client_id={client}&redirect_uri=http://[::1&response_type=code",
        {},
        None,
    ),
    "authorize-huge-client-id": ("GET", "/authorize?client_id=" + "x" * 3000, {}, None),
    "authorize-cimd-shaped-nonsense": ("GET", "/authorize?client_id=https://%5B/x", {}, None),
    "authorize-unicode": ("GET", "/authorize?client_id=%F0%9F%92%A9&state=%FF%FE", {}, None),
    "consent-without-request": ("GET", "/consent", {}, None),
    "consent-post-empty": ("POST", "/consent", _FORM, b""),
    "consent-post-json": ("POST", "/consent", {"Content-Type": "application/json"}, b"[1,2]"),
    "consent-post-garbage-csrf": ("POST", "/consent", _FORM, b"request=x&csrf=%00%FF&decision=1"),
    "consent-post-not-utf8": ("POST", "/consent", _FORM, b"\xde\xf5\xb8*"),
    "callback-empty": ("GET", "/oauth/callback", {}, None),
    "callback-error-only": ("GET", "/oauth/callback?error=access_denied", {}, None),
    "callback-garbage-state": ("GET", "/oauth/callback?state=%00%FF&code=x", {}, None),
    "token-empty": ("POST", "/token", _FORM, b""),
    "token-no-content-type": ("POST", "/token", {}, b"grant_type=x"),
    "token-json": ("POST", "/token", {"Content-Type": "application/json"}, b"{}"),
    "token-basic-not-base64": (
        "POST",
        "/token",
        {**_FORM, "Authorization": "Basic !!!"},
        b"grant_type=refresh_token&refresh_token=x",
    ),
    "token-basic-not-utf8": ("POST", "/token", _basic(b"\xff\xfe:\x00"), b"grant_type=x"),
    "token-basic-no-colon": ("POST", "/token", _basic(b"just-an-id"), b"grant_type=x"),
    "token-bearer-scheme": (
        "POST",
        "/token",
        {**_FORM, "Authorization": "Bearer abc"},
        b"grant_type=x",
    ),
    "token-unknown-client": ("POST", "/token", _FORM, b"client_id=nobody&grant_type=x"),
    "token-unicode-code": (
        "POST",
        "/token",
        _FORM,
        "client_id={client}&grant_type=authorization_code&code=\u2603&code_verifier=\u2603".encode(),
    ),
    "token-huge-refresh-token": (
        "POST",
        "/token",
        _FORM,
        b"client_id={client}&grant_type=refresh_token&refresh_token=" + b"r" * 100_000,
    ),
    "token-repeated-parameter": (
        "POST",
        "/token",
        _FORM,
        b"client_id={client}&client_id={client}&grant_type=refresh_token&refresh_token=x",
    ),
    "token-not-utf8": ("POST", "/token", _FORM, b"\xde\xf5\xb8*"),
    "token-too-large": ("POST", "/token", _FORM, b"grant_type=" + b"x" * 20_000),
    "revoke-not-utf8": ("POST", "/revoke", _FORM, b"\xde\xf5\xb8*"),
    "revoke-empty": ("POST", "/revoke", _FORM, b""),
    "revoke-no-token": ("POST", "/revoke", _FORM, b"client_id={client}"),
    "register-empty": ("POST", "/register", {"Content-Type": "application/json"}, b""),
    "register-array": ("POST", "/register", {"Content-Type": "application/json"}, b"[]"),
    "register-not-utf8": ("POST", "/register", {"Content-Type": "application/json"}, b"\xff"),
    "register-huge-integer": (
        "POST",
        "/register",
        {"Content-Type": "application/json"},
        b'{"redirect_uris": ["http://127.0.0.1/cb"], "default_max_age": 1' + b"0" * 5000 + b"}",
    ),
    "register-2mb-client-name": (
        "POST",
        "/register",
        {"Content-Type": "application/json"},
        b'{"redirect_uris": ["http://127.0.0.1/cb"], "client_name": "'
        + b"n" * (2 * 1024 * 1024)
        + b'"}',
    ),
    "register-wrong-types": (
        "POST",
        "/register",
        {"Content-Type": "application/json"},
        b'{"redirect_uris": "http://127.0.0.1/cb", "grant_types": {"a": 1}}',
    ),
    "register-deep-json": (
        "POST",
        "/register",
        {"Content-Type": "application/json"},
        b"[" * 100_000 + b"]" * 100_000,
    ),
    "register-too-large": (
        "POST",
        "/register",
        {"Content-Type": "application/json"},
        b'{"x": "' + b"a" * (5 * 1024 * 1024) + b'"}',
    ),
    "prm-percent-garbage": ("GET", "/.well-known/oauth-protected-resource/%ZZ/%00", {}, None),
    "prm-unicode": ("GET", "/.well-known/oauth-protected-resource/%F0%9F%92%A9/mcp", {}, None),
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_malformed_request_gets_a_4xx_never_a_500(
    oauth_gate_factory, py_streamable_server, case
):
    """docs/deploy.md: bad input gets a clear 4xx, never a 500 and never a stack trace."""
    method, path, headers, body = CASES[case]
    servers = {"py": remote("py", "streamable-http", py_streamable_server.url)}
    async with oauth_gate_factory(servers) as gate:
        client = await register(gate.base_url)
        path = path.replace("{client}", client.client_id)
        if body is not None:
            body = body.replace(b"{client}", client.client_id.encode())
        data = io.BytesIO(body) if body is not None else None
        async with (
            aiohttp.ClientSession() as http,
            http.request(
                method, gate.url(path), headers=headers, data=data, allow_redirects=False
            ) as response,
        ):
            status, text = response.status, await response.text()
    assert 400 <= status < 500, f"{case}: {status} {text[:300]}"
    assert "Traceback" not in text


async def _post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, str, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, headers=headers, data=io.BytesIO(body)) as r,
    ):
        return r.status, r.content_type, await r.text()


@pytest.mark.parametrize("path", ["/token", "/revoke"])
async def test_oauth_form_that_is_not_utf8_is_a_400_invalid_request(
    oauth_gate_factory, py_streamable_server, path
):
    """RFC 6749 §5.2: an unreadable token or revocation request is `invalid_request`."""
    servers = {"py": remote("py", "streamable-http", py_streamable_server.url)}
    async with oauth_gate_factory(servers) as gate:
        status, content_type, text = await _post(gate.url(path), _FORM, b"\xde\xf5\xb8*")
    assert (status, content_type) == (400, "application/json")
    assert json.loads(text)["error"] == "invalid_request"


async def test_consent_form_that_is_not_utf8_is_a_400(oauth_gate_factory, py_streamable_server):
    """policy: an unreadable consent form is a 400 that says so, never a 500."""
    servers = {"py": remote("py", "streamable-http", py_streamable_server.url)}
    async with oauth_gate_factory(servers) as gate:
        status, _, text = await _post(gate.url("/consent"), _FORM, b"\xde\xf5\xb8*")
    assert status == 400
    assert "not url-encoded UTF-8" in text


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (
            b'{"redirect_uris": ["http://127.0.0.1/cb"], "client_name": "' + b"n" * 2**21 + b'"}',
            413,
        ),
        (
            b'{"redirect_uris": ["http://127.0.0.1/cb"], "default_max_age": 1' + b"0" * 5000 + b"}",
            400,
        ),
    ],
    ids=["2-mib-client-name", "5000-digit-integer"],
)
async def test_registration_too_large_or_unreadable_is_refused_and_nothing_is_stored(
    oauth_gate_factory, py_streamable_server, body, status
):
    """RFC 7591 §3.2.2: `invalid_client_metadata`; policy: a registration is at most 16 KiB."""
    servers = {"py": remote("py", "streamable-http", py_streamable_server.url)}
    store = MemoryStore()
    json_type = {"Content-Type": "application/json"}
    async with oauth_gate_factory(servers, store=store) as gate:
        before = len(store)
        answer_status, _, text = await _post(gate.url("/register"), json_type, body)
        # The rate-limit counter of /register is the one entry a refused registration adds.
        added = len(store) - before
    assert answer_status == status
    assert json.loads(text)["error"] == "invalid_client_metadata"
    assert added == 1
