"""The `dev` provider end to end: a loopback-only demo where the user types an email.

docs/config.md `idp.provider: dev` (loopback-only demo login): the gate serves its own sign-in
form at `/oauth/dev-login`, and refuses to start when it would be reachable off loopback.
"""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape

import aiohttp
import pytest
from yarl import URL

from mcp_gate.app import create_app
from mcp_gate.config.model import AuthConfig, IdpConfig
from mcp_gate.demo import demo_config
from mcp_gate.errors import ConfigError
from tests.fixtures.gate import free_addr, make_config, remote, running_gate
from tests.fixtures.mcp_clients import streamable_client
from tests.fixtures.oauth_client import Pkce, authorization_url, exchange_code, register, request
from tests.fixtures.oauth_flow import Browser
from tests.fixtures.ports import free_port

_STATE = re.compile(r'<input type="hidden" name="state" value="([^"]*)">')
DEV_AUTH = AuthConfig(idp=IdpConfig(provider="dev"), allowed_domains=("example.com",))


def _servers(backend):
    return {"py": remote("py", "streamable-http", backend.url)}


async def _sign_in(
    gate, browser: Browser, client, pkce: Pkce, email: str
) -> tuple[int, URL | None, str]:
    """Consent, then type `email` into the dev form; where the browser ends up."""
    form_url = await browser.walk(
        authorization_url(gate.base_url, client, pkce=pkce), stop_at=gate.url("/oauth/dev-login")
    )
    async with aiohttp.ClientSession(cookie_jar=browser.jar) as http:
        async with http.get(form_url) as page:
            html = await page.text()
            assert page.headers["X-Frame-Options"] == "DENY"
        match = _STATE.search(html)
        assert match, html
        async with http.post(
            gate.url("/oauth/dev-login"),
            data={"email": email, "state": unescape(match.group(1))},
            allow_redirects=False,
        ) as submitted:
            if submitted.status != 303:
                return submitted.status, None, await submitted.text()
            callback = URL(submitted.headers["Location"])
    try:
        return 200, await browser.walk(str(callback), stop_at=client.redirect_uri), ""
    except AssertionError as stopped:
        return getattr(stopped, "status", 0), None, getattr(stopped, "body", str(stopped))


async def test_dev_login_signs_the_typed_user_in_and_a_tool_call_goes_through(
    py_streamable_server,
):
    """docs/config.md `idp.provider`: `provider: dev` runs the whole flow with the gate's own
    sign-in form."""
    config = make_config(_servers(py_streamable_server), auth=DEV_AUTH)
    async with running_gate(config) as gate:
        client = await register(gate.base_url)
        pkce = Pkce.new()
        status, callback, _ = await _sign_in(gate, Browser(), client, pkce, "dana@example.com")
        assert status == 200
        assert callback is not None
        tokens = await exchange_code(gate.base_url, client, callback.query["code"], pkce)
        headers = {"Authorization": f"Bearer {tokens.access_token}"}
        async with streamable_client(gate.url("/py/mcp"), headers) as mcp:
            result = await mcp.call_tool("echo", {"text": "dev"})
    assert callback.query["iss"] == gate.base_url
    assert result.content[0].text == "dev"


async def test_dev_login_still_applies_allowed_domains(py_streamable_server):
    """docs/config.md `allowedDomains`: allowedDomains binds every provider, the demo one too."""
    config = make_config(_servers(py_streamable_server), auth=DEV_AUTH)
    async with running_gate(config) as gate:
        client = await register(gate.base_url)
        status, callback, body = await _sign_in(
            gate, Browser(), client, Pkce.new(), "eve@elsewhere.test"
        )
    assert status == 403
    assert callback is None
    assert "elsewhere.test may not use this gate" in body


async def test_dev_login_form_with_something_not_an_email_says_so(py_streamable_server):
    """policy: the form answers a typo with itself and a message, not an error page."""
    config = make_config(_servers(py_streamable_server), auth=DEV_AUTH)
    async with running_gate(config) as gate:
        client = await register(gate.base_url)
        status, _, body = await _sign_in(gate, Browser(), client, Pkce.new(), "not an email")
    assert status == 400
    assert "Type an email address" in body


@pytest.mark.parametrize(
    "proxy_fields",
    [
        {"addr": "0.0.0.0:8080"},
        {"base_url": "https://gate.example.com"},
    ],
    ids=["listens-on-all-interfaces", "public-base-url"],
)
def test_dev_provider_refuses_to_start_off_loopback(proxy_fields):
    """docs/config.md `idp.provider`: `dev` lets anyone sign in as anyone, so it runs on loopback
    only."""
    config = make_config({}, auth=DEV_AUTH, **proxy_fields)
    with pytest.raises(ConfigError) as refused:
        create_app(config)
    assert "loopback" in str(refused.value)


async def test_dev_login_form_does_not_exist_with_a_real_provider(
    oauth_gate_factory, py_streamable_server
):
    """policy: the demo form is served only by a gate configured with `provider: dev`."""
    async with oauth_gate_factory(_servers(py_streamable_server)) as gate:
        answer = await request("GET", gate.url("/oauth/dev-login?state=x"))
        posted = await request(
            "POST", gate.url("/oauth/dev-login"), data={"email": "a@example.com", "state": "x"}
        )
    assert answer.status == 404
    assert posted.status == 404


async def test_the_embedded_demo_config_serves_the_time_server_after_a_dev_login():
    """README's first command (`mcp-gate serve` with no config): memory storage, the dev
    login and PyPI's mcp-server-time over stdio, reached by an OAuth client."""
    demo = demo_config()
    port = free_port()
    proxy = replace(
        demo.proxy,
        addr=f"127.0.0.1:{port}",
        base_url=f"http://127.0.0.1:{port}",
        metrics_addr=free_addr(other_than=(port,)),
    )
    async with running_gate(replace(demo, proxy=proxy)) as gate:
        client = await register(gate.base_url)
        pkce = Pkce.new()
        status, callback, _ = await _sign_in(gate, Browser(), client, pkce, "erin@example.org")
        assert status == 200
        assert callback is not None
        tokens = await exchange_code(gate.base_url, client, callback.query["code"], pkce)
        headers = {"Authorization": f"Bearer {tokens.access_token}"}
        async with streamable_client(gate.url("/time/mcp"), headers) as mcp:
            tools = {tool.name for tool in (await mcp.list_tools()).tools}
            result = await mcp.call_tool("get_current_time", {"timezone": "UTC"})
    assert demo.proxy.addr == "127.0.0.1:8080"
    assert demo.proxy.auth is not None
    assert demo.proxy.auth.storage == "memory"
    assert {"get_current_time", "convert_time"} <= tools
    assert '"timezone": "UTC"' in result.content[0].text
