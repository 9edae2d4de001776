"""Whole-server access, machine clients under `access.clients`, and the mirrored-header
check, over real HTTP against a gate in front of py_server. The machine is the official
SDK's `ClientCredentialsOAuthProvider`; no one signs in (the IdP is unreachable)."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider

from mcp_gate.config.model import AccessRule, Selector, ServerPolicy, ToolRule
from tests.fixtures.gate import RunningGate, make_config, remote, running_gate
from tests.fixtures.mcp_clients import streamable_client
from tests.fixtures.mcp_servers import RunningServer
from tests.fixtures.oauth_client import unverified_claims
from tests.fixtures.oauth_flow import MemoryTokenStorage, oauth_config
from tests.fixtures.ports import free_port
from tests.flows.test_machine_clients import CI_BOT, SECRET

FOR_BOT = ServerPolicy(
    access=AccessRule(who=Selector(clients=("ci-bot",))),
    scopes={"deploy": Selector(clients=("ci-bot",))},
    tools=(ToolRule("merge_*", scope="deploy"),),
)
NOT_FOR_BOT = ServerPolicy(access=AccessRule(who=Selector(clients=("someone-else",))))
FROM_OFFICE = ServerPolicy(
    access=AccessRule(
        who=Selector(clients=("ci-bot",)), networks=(ipaddress.ip_network("203.0.113.0/24"),)
    )
)
Gate = Callable[[], AbstractAsyncContextManager[RunningGate]]


@pytest.fixture
def gate(py_streamable_server: RunningServer) -> Gate:
    @asynccontextmanager
    async def start() -> AsyncIterator[RunningGate]:
        nowhere = f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration"
        auth = oauth_config(nowhere, client_id="gate", client_secret="unused", clients=(CI_BOT,))
        url = py_streamable_server.url
        servers = {
            "a": remote("a", "streamable-http", url, policy=FOR_BOT),
            "b": remote("b", "streamable-http", url, policy=NOT_FOR_BOT),
            "c": remote("c", "streamable-http", url, policy=FROM_OFFICE),
        }
        config = make_config(servers, auth=auth)
        loopback = (ipaddress.ip_network("127.0.0.0/8"),)
        config = replace(config, proxy=replace(config.proxy, trusted_proxies=loopback))
        async with running_gate(config) as running:
            yield running

    return start


async def _token(gate: RunningGate, server: str, scope: str = "mcp") -> dict[str, Any]:
    form = {
        "grant_type": "client_credentials",
        "resource": gate.url(f"/{server}/mcp"),
        "scope": scope,
    }
    headers = {"Authorization": aiohttp.encode_basic_auth("ci-bot", SECRET)}
    async with (
        aiohttp.ClientSession() as http,
        http.post(gate.url("/token"), data=form, headers=headers) as response,
    ):
        assert response.status == 200, await response.text()
        return dict(await response.json())


async def _post(
    gate: RunningGate, server: str, token: str, body: object, **headers: str
) -> tuple[int, Any]:
    sent = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json, text/event-stream",
        **headers,
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(gate.url(f"/{server}/mcp"), json=body, headers=sent) as response,
    ):
        return response.status, await response.json(content_type=None)


async def test_a_machine_named_in_access_clients_calls_a_tool(gate: Gate) -> None:
    """docs/config.md: `access.clients` admits a client_credentials machine (RFC 6749 §4.4)."""
    async with gate() as running:
        provider = ClientCredentialsOAuthProvider(
            running.url("/a/mcp"), MemoryTokenStorage(), "ci-bot", SECRET, issuer=running.base_url
        )
        async with streamable_client(running.url("/a/mcp"), auth=provider) as client:
            result = await client.call_tool("read_issue", {"number": 2})
    assert not result.is_error


async def test_a_server_the_caller_may_not_use_is_403_on_every_route_and_its_metadata_is_public(
    gate: Gate,
) -> None:
    """docs/config.md: 403 with a clear body on every MCP route; PRM stays public (RFC 9728)."""
    async with gate() as running:
        token = (await _token(running, "b"))["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        statuses = []
        async with aiohttp.ClientSession() as http:
            for method, path in (
                ("POST", "/b/mcp"),
                ("GET", "/b/mcp"),
                ("DELETE", "/b/mcp"),
                ("GET", "/b/sse"),
                ("POST", "/b/message?sessionId=x"),
            ):
                async with http.request(
                    method, running.url(path), headers=headers, json={}
                ) as response:
                    statuses.append((response.status, await response.json(content_type=None)))
            async with http.get(running.url("/.well-known/oauth-protected-resource/b/mcp")) as prm:
                prm_status = prm.status
    assert [status for status, _ in statuses] == [403] * 5
    assert all("not among" in body["error"]["message"] for _, body in statuses)
    assert prm_status == 200


async def test_networks_read_the_client_address_through_trusted_proxies(gate: Gate) -> None:
    """policy: X-Forwarded-For counts only from `trustedProxies` (here loopback)."""
    async with gate() as running:
        token = (await _token(running, "c"))["access_token"]
        ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        outside, _ = await _post(running, "c", token, ping)
        inside, _ = await _post(running, "c", token, ping, **{"X-Forwarded-For": "203.0.113.7"})
    assert outside == 403
    assert inside != 403


async def test_a_machine_gets_an_extra_scope_only_where_its_rule_names_it(gate: Gate) -> None:
    """docs/config.md: client_credentials machines get scopes only if admitted too."""
    async with gate() as running:
        on_a = await _token(running, "a", "mcp deploy")
        on_b = await _token(running, "b", "mcp deploy")
    assert on_a["scope"] == "mcp deploy"
    assert unverified_claims(on_a["access_token"])["scope"] == "mcp deploy"
    assert on_b["scope"] == "mcp"


@pytest.mark.parametrize(
    ("headers", "what"),
    [
        ({"Mcp-Method": "tools/list"}, "Mcp-Method"),
        ({"Mcp-Method": "tools/call", "Mcp-Name": "echo"}, "Mcp-Name"),
        ({"Mcp-Method": "tools/call", "Mcp-Name": "=?base64?ZWNobw==?="}, "Mcp-Name"),
        ({"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call"}, "Mcp-Name"),
    ],
)
async def test_mirrored_headers_that_disagree_with_the_body_get_400_and_32020(
    gate: Gate, headers: dict[str, str], what: str
) -> None:
    """MCP 2026-07-28 transports: a header/body mismatch is 400 with JSON-RPC -32020; the
    gate judges the body, so it refuses a request whose headers tell another story."""
    call = {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "read_issue"}}
    async with gate() as running:
        token = (await _token(running, "a"))["access_token"]
        status, body = await _post(running, "a", token, call, **headers)
    assert status == 400
    assert body["error"]["code"] == -32020
    assert what in body["error"]["message"]
