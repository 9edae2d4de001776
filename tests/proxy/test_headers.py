"""The forwarding rules of docs/specs.md (Transports), proven against a backend that echoes what it
got.

Requests: the upstream's own Host, none of the client's Authorization, Cookie, Origin or
hop-by-hop headers, the configured headers (winning over the client's), every MCP and
tracing header, `Accept-Encoding: identity`. Responses: statuses and bodies unchanged, no
upstream `WWW-Authenticate`, upstream 401/403 as 502, SSE event by event with
`X-Accel-Buffering: no`, and a client that leaves closes the upstream request.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mcp_gate.config.model import Secret, ServiceAuth
from tests.fixtures.gate import RunningGate, make_config, remote, running_gate
from tests.fixtures.mcp_clients import sse_client, streamable_client
from tests.fixtures.mcp_servers import RunningServer, run_echo_headers_server
from tests.fixtures.proxy_probes import RemoteTransport, backend_for, read_event

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=20)
PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
SERVICE_TOKEN = "service-token-for-header-tests"
SESSION_ID = "upstream-session-0123"


@pytest.fixture
async def gate(echo_headers_server: RunningServer) -> AsyncIterator[RunningGate]:
    """A gate with several views of the echo server, each configured for one rule."""
    echo = echo_headers_server.url
    servers = {
        "echo": remote("echo", "streamable-http", f"{echo}/mcp"),
        "configured": remote(
            "configured",
            "streamable-http",
            f"{echo}/mcp",
            headers={
                "User-Agent": "configured-agent",
                "Authorization": Secret("Bearer upstream-credential"),
            },
        ),
        "guarded": remote(
            "guarded",
            "streamable-http",
            f"{echo}/mcp",
            service_auths=(ServiceAuth("bearer", tokens=(Secret(SERVICE_TOKEN),)),),
        ),
        "sessions": remote(
            "sessions", "streamable-http", f"{echo}/mcp?header=Mcp-Session-Id:{SESSION_ID}"
        ),
        "challenging": remote(
            "challenging",
            "streamable-http",
            f"{echo}/mcp?header=WWW-Authenticate:Bearer%20realm%3D%22upstream%22",
        ),
        "legacy": remote("legacy", "sse", f"{echo}/sse?events=1&interval_ms=10"),
        **{
            f"status{status}": remote(
                f"status{status}", "streamable-http", f"{echo}/mcp?status={status}"
            )
            for status in (202, 400, 401, 403, 404, 405, 406, 415, 421, 500)
        },
    }
    async with running_gate(make_config(servers)) as running:
        yield running


async def _post(
    gate: RunningGate, name: str, headers: Mapping[str, str] | None = None
) -> tuple[aiohttp.ClientResponse, bytes]:
    all_headers = {**JSON_HEADERS, **(headers or {})}
    async with (
        aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
        http.post(gate.url(f"/{name}/mcp"), headers=all_headers, data=json.dumps(PING)) as response,
    ):
        return response, await response.read()


async def _echoed(
    gate: RunningGate, name: str, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    response, body = await _post(gate, name, headers)
    assert response.status == 200, body
    return json.loads(body)


# --- request headers -------------------------------------------------------------------------


async def test_upstream_sees_its_own_host_not_the_gates(
    gate: RunningGate, echo_headers_server: RunningServer
) -> None:
    """Host is the upstream's (Python servers answer 421 to a foreign Host)."""
    echoed = await _echoed(gate, "echo")
    assert echoed["headers"]["host"] == f"127.0.0.1:{echo_headers_server.port}"


async def test_client_authorization_cookie_and_origin_stay_at_the_gate(gate: RunningGate) -> None:
    """MCP security best practices §Token Passthrough: no client credentials upstream."""
    echoed = await _echoed(
        gate,
        "echo",
        {
            "Authorization": "Bearer client-gate-token",
            "Cookie": "__Host-mcp-gate=sealed-login-session",
            "Origin": gate.base_url,
        },
    )
    assert {"authorization", "cookie", "origin"}.isdisjoint(echoed["headers"])


async def test_a_service_token_is_checked_then_dropped(gate: RunningGate) -> None:
    """serviceAuths admit the request; the credential itself never goes upstream."""
    echoed = await _echoed(gate, "guarded", {"Authorization": f"Bearer {SERVICE_TOKEN}"})
    assert "authorization" not in echoed["headers"]
    assert SERVICE_TOKEN not in json.dumps(echoed)


async def test_configured_headers_are_added_and_win_over_the_clients(gate: RunningGate) -> None:
    """docs/config.md `headers`: the configured headers are added; a client cannot override them."""
    echoed = await _echoed(
        gate,
        "configured",
        {"User-Agent": "client-agent", "Authorization": "Bearer client-gate-token"},
    )
    names = [name.lower() for name, _ in echoed["raw_headers"]]
    assert echoed["headers"]["user-agent"] == "configured-agent"
    assert echoed["headers"]["authorization"] == "Bearer upstream-credential"
    assert names.count("user-agent") == 1
    assert names.count("authorization") == 1


async def test_mcp_and_tracing_headers_are_forwarded(gate: RunningGate) -> None:
    """MCP 2026-07-28 transports §Streamable HTTP: intermediaries MUST forward Mcp-Param-*
    headers."""
    sent = {
        "MCP-Protocol-Version": "2026-07-28",
        "Mcp-Method": "tools/call",
        "Mcp-Name": "echo",
        "Mcp-Param-Region": "eu-west-1",
        "Mcp-Param-Query": "=?base64?aMOpbGxv?=",
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "tracestate": "vendor=opaque",
        "baggage": "team=gate",
        "User-Agent": "probe-client/1.0",
    }
    echoed = await _echoed(gate, "echo", sent)
    assert {name.lower(): value for name, value in sent.items()}.items() <= echoed[
        "headers"
    ].items()
    assert echoed["headers"]["accept"] == JSON_HEADERS["Accept"]
    assert echoed["headers"]["content-type"] == "application/json"


async def test_hop_by_hop_and_unknown_headers_are_dropped(gate: RunningGate) -> None:
    """RFC 9110 §7.6.1: hop-by-hop headers belong to one connection, never forwarded."""
    echoed = await _echoed(
        gate,
        "echo",
        {
            "Connection": "keep-alive, X-Connection-Scoped",
            "X-Connection-Scoped": "1",
            "Keep-Alive": "timeout=5",
            "TE": "trailers",
            "Proxy-Authorization": "Basic cHJveHk6c2VjcmV0",
            "Forwarded": "for=203.0.113.9",
            "X-Internal": "not for the backend",
        },
    )
    for name in ("x-connection-scoped", "keep-alive", "te", "proxy-authorization", "x-internal"):
        assert name not in echoed["headers"]
    assert echoed["headers"].get("connection", "keep-alive") == "keep-alive"


async def test_accept_encoding_is_identity_upstream(gate: RunningGate) -> None:
    """No compression upstream, so SSE is never gzip-buffered."""
    echoed = await _echoed(gate, "echo", {"Accept-Encoding": "gzip, br"})
    assert echoed["headers"]["accept-encoding"] == "identity"


async def test_session_id_is_forwarded_once_the_backend_issued_it(gate: RunningGate) -> None:
    """MCP transports §Session Management: the backend's Mcp-Session-Id comes back, then goes up."""
    response, _ = await _post(gate, "sessions")
    assert response.headers["Mcp-Session-Id"] == SESSION_ID
    echoed = await _echoed(gate, "sessions", {"Mcp-Session-Id": SESSION_ID})
    assert echoed["headers"]["mcp-session-id"] == SESSION_ID


@pytest.mark.parametrize(("name", "path"), [("echo", "/echo/mcp"), ("legacy", "/legacy/sse")])
async def test_get_stream_forwards_last_event_id_and_strips_credentials(
    gate: RunningGate, echo_headers_server: RunningServer, name: str, path: str
) -> None:
    """MCP transports §Resumability: Last-Event-ID goes up; the stream resumes after it."""
    headers = {
        "Accept": "text/event-stream",
        "Last-Event-ID": "41",
        "Authorization": "Bearer client-gate-token",
        "Cookie": "__Host-mcp-gate=sealed",
    }
    async with (
        aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
        http.get(gate.url(path), headers=headers) as response,
    ):
        first = await read_event(response)
        tick = await read_event(response)
    seen = json.loads(first["data"])["headers"]
    assert first["event"] == "request"
    assert seen["last-event-id"] == "41"
    assert seen["host"] == f"127.0.0.1:{echo_headers_server.port}"
    assert {"authorization", "cookie"}.isdisjoint(seen)
    assert tick["id"] == "42"


@pytest.mark.parametrize(
    ("front", "transport"),
    [("mcp", "streamable-http"), ("mcp", "sse"), ("sse", "streamable-http"), ("sse", "sse")],
)
async def test_mcp_backend_sees_its_host_and_configured_headers_on_every_pair(
    front: str, transport: RemoteTransport, request: pytest.FixtureRequest
) -> None:
    """Pass-through and bridged alike: the backend's own Host, the configured headers, no
    client Authorization (py_server's whoami reports the headers of the request it serves)."""
    backend = backend_for(request, "py", transport)
    config = make_config(
        {
            "py": remote(
                "py",
                transport,
                backend.url,
                headers={"X-Team": "blue"},
                service_auths=(ServiceAuth("bearer", tokens=(Secret(SERVICE_TOKEN),)),),
            )
        }
    )
    client_headers = {"Authorization": f"Bearer {SERVICE_TOKEN}", "X-Team": "red"}
    async with running_gate(config) as running:
        if front == "mcp":
            connect = streamable_client(running.url("/py/mcp"), client_headers, mode="legacy")
        else:
            connect = sse_client(running.url("/py/sse"), client_headers)
        async with connect as client:
            result = await client.call_tool("whoami", {})
    seen = json.loads(result.content[0].text)  # type: ignore[union-attr]
    assert seen["host"] == f"127.0.0.1:{backend.port}"
    assert seen["x-team"] == "blue"
    assert "authorization" not in seen


async def test_upstream_cookies_are_never_replayed(echo_headers_server: RunningServer) -> None:
    """A backend's Set-Cookie for one user must not ride along on anyone's later requests."""
    origin = f"http://localhost:{echo_headers_server.port}"  # a host name: cookie jars store it
    servers = {
        "setter": remote("setter", "streamable-http", f"{origin}/mcp?header=Set-Cookie:sid=leak"),
        "reader": remote("reader", "streamable-http", f"{origin}/mcp"),
    }
    async with running_gate(make_config(servers)) as running:
        response, _ = await _post(running, "setter")
        echoed = await _echoed(running, "reader")
    assert "Set-Cookie" not in response.headers
    assert "cookie" not in echoed["headers"]


# --- responses ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [202, 400, 404, 405, 406, 415, 421, 500])
async def test_upstream_status_is_passed_through(gate: RunningGate, status: int) -> None:
    """MCP 2025-11-25 transports §Backwards Compatibility: clients pick eras and fallbacks by
    status; the gate never changes it."""
    response, body = await _post(gate, f"status{status}")
    assert response.status == status
    assert json.loads(body)["method"] == "POST"


@pytest.mark.parametrize("status", [401, 403])
async def test_upstream_auth_refusal_becomes_502_without_its_challenge(
    gate: RunningGate, status: int
) -> None:
    """An upstream 401/403 is the gate's credential problem, not the client's."""
    response, body = await _post(gate, f"status{status}")
    assert response.status == 502
    assert "WWW-Authenticate" not in response.headers
    assert response.content_type == "text/plain"
    assert b"status" + str(status).encode() in body


async def test_upstream_www_authenticate_is_not_passed_back(gate: RunningGate) -> None:
    """An upstream challenge would send the client to the upstream's AS."""
    response, _ = await _post(gate, "challenging")
    assert response.status == 200
    assert "WWW-Authenticate" not in response.headers


@pytest.mark.parametrize(
    ("method", "path", "accept"),
    [
        ("POST", "/echo/mcp", "application/json"),
        ("POST", "/status500/mcp", "application/json"),
        ("POST", "/status401/mcp", "application/json"),
        ("GET", "/echo/mcp", "text/event-stream"),
        ("GET", "/legacy/sse", "text/event-stream"),
        ("POST", "/nope/mcp", "application/json"),
    ],
    ids=["json", "backend-error", "gate-502", "sse", "legacy-sse", "gate-404"],
)
async def test_every_relayed_response_forbids_content_sniffing(
    gate: RunningGate, method: str, path: str, accept: str
) -> None:
    """Issue 17 §6 (WHATWG Fetch §X-Content-Type-Options): a backend's bytes keep its own
    Content-Type and are never sniffed into a page rendered on the gate's origin."""
    headers = {**JSON_HEADERS, "Accept": accept}
    data = json.dumps(PING) if method == "POST" else None
    async with (
        aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
        http.request(method, gate.url(path), headers=headers, data=data) as response,
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def _modern(method: str, version: str = "2026-07-28") -> tuple[dict[str, str], dict[str, Any]]:
    meta = {
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "probe", "version": "1"},
    }
    headers = {**JSON_HEADERS, "MCP-Protocol-Version": version, "Mcp-Method": method}
    return headers, {"jsonrpc": "2.0", "id": 1, "method": method, "params": {"_meta": meta}}


def _era_cases() -> list[tuple[str, dict[str, str], dict[str, Any] | None]]:
    unknown = _modern("nope/unknown")
    old = _modern("tools/list", "1999-01-01")
    mismatch_headers, mismatch_body = _modern("tools/list")
    not_acceptable_headers, not_acceptable_body = _modern("tools/list")
    return [
        ("POST", *unknown),  # 404 -32601: how clients recognise a modern server
        ("POST", *old),  # 400 -32022 UnsupportedProtocolVersion
        ("POST", {**mismatch_headers, "Mcp-Method": "tools/call"}, mismatch_body),  # 400 -32020
        ("POST", {**not_acceptable_headers, "Accept": "text/html"}, not_acceptable_body),  # 406
        ("POST", {**mismatch_headers, "Content-Type": "text/plain"}, mismatch_body),  # 400 text
        ("GET", {"Accept": "text/event-stream", "MCP-Protocol-Version": "2026-07-28"}, None),  # 405
    ]


@pytest.mark.parametrize(("method", "headers", "body"), _era_cases())
async def test_backend_error_replies_are_byte_identical_through_the_gate(
    py_stateless_streamable_server: RunningServer,
    method: str,
    headers: dict[str, str],
    body: dict[str, Any] | None,
) -> None:
    """MCP 2026-07-28 transports §Streamable HTTP: clients tell eras apart by these bodies; the gate
    changes no byte."""
    backend = py_stateless_streamable_server
    config = make_config({"py": remote("py", "streamable-http", backend.url)})
    data = json.dumps(body).encode() if body is not None else None
    replies = []
    async with running_gate(config) as running, aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http:
        for url in (backend.url, running.url("/py/mcp")):
            async with http.request(method, url, headers=headers, data=data) as response:
                replies.append(
                    (response.status, response.headers.get("Allow"), await response.read())
                )
    direct, gated = replies
    assert direct[0] >= 400
    assert gated == direct


async def test_sse_reaches_the_client_event_by_event(gate: RunningGate) -> None:
    """No buffering (MCP 2025-11-25 transports §Streamable HTTP); the first event arrives while the
    upstream still holds its stream open, with its next tick a minute away."""
    async with (
        aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
        http.get(gate.url("/echo/mcp"), headers={"Accept": "text/event-stream"}) as response,
    ):
        assert response.headers["X-Accel-Buffering"] == "no"
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.content_type == "text/event-stream"
        events = [await read_event(response) for _ in range(4)]
    assert [event["event"] for event in events] == ["request", "tick", "tick", "tick"]
    assert [event.get("id") for event in events] == [None, "1", "2", "3"]


# --- streaming and disconnects, on a private echo server (its stream counts are ours) ----------


@pytest.fixture
def own_echo(server_log_dir: Path) -> Iterator[RunningServer]:
    """An echo server of this test alone, so its stream counts are this test's."""
    with run_echo_headers_server(server_log_dir) as server:
        yield server


async def _closed_streams(http: aiohttp.ClientSession, echo: RunningServer, at_least: int) -> int:
    async with http.get(
        f"{echo.url}/__echo/streams", params={"closed_at_least": at_least}
    ) as response:
        return (await response.json())["closed"]


@pytest.mark.parametrize(("transport", "path"), [("streamable-http", "mcp"), ("sse", "sse")])
async def test_first_event_arrives_while_the_upstream_is_still_streaming(
    own_echo: RunningServer, transport: RemoteTransport, path: str
) -> None:
    """No buffering: one event is read while the upstream's only tick is a minute away."""
    url = f"{own_echo.url}/stream?events=1&interval_ms=60000&hold=1"
    async with (
        running_gate(make_config({"s": remote("s", transport, url)})) as running,
        aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
        http.get(running.url(f"/s/{path}"), headers={"Accept": "text/event-stream"}) as response,
    ):
        first = await read_event(response)
        assert first["event"] == "request"
        assert response.headers["X-Accel-Buffering"] == "no"


@pytest.mark.parametrize(("transport", "path"), [("streamable-http", "mcp"), ("sse", "sse")])
async def test_client_disconnect_closes_the_upstream_request(
    own_echo: RunningServer, transport: RemoteTransport, path: str
) -> None:
    """MCP 2026-07-28 streamable HTTP: closing the stream is cancellation; it reaches upstream."""
    url = f"{own_echo.url}/stream?events=1&interval_ms=10&hold=1"
    async with (
        running_gate(make_config({"s": remote("s", transport, url)})) as running,
        aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
    ):
        async with http.get(
            running.url(f"/s/{path}"), headers={"Accept": "text/event-stream"}
        ) as response:
            await read_event(response)
            assert (await read_event(response))["event"] == "tick"
            response.close()
        assert await _closed_streams(http, own_echo, at_least=1) == 1


async def test_a_body_of_several_mebibytes_reaches_the_backend_intact(gate: RunningGate) -> None:
    """Bodies pass through unchanged; sent to the backend in chunks."""
    text = "x" * (3 * 1024 * 1024)
    message = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"text": text}}
    async with (
        aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
        http.post(
            gate.url("/echo/mcp"),
            headers={**JSON_HEADERS, "Content-Type": "application/json"},
            data=io.BytesIO(json.dumps(message).encode()),
        ) as response,
    ):
        echoed = await response.json()
    assert response.status == 200
    assert json.loads(echoed["body"]) == message


async def test_an_upstream_redirect_is_a_bad_gateway(echo_headers_server: RunningServer) -> None:
    """policy: the gate follows no redirect and passes none on (its Location is the backend's)."""
    url = f"{echo_headers_server.url}/mcp?status=307&header=Location:/elsewhere"
    async with running_gate(
        make_config({"moved": remote("moved", "streamable-http", url)})
    ) as gate:
        response, body = await _post(gate, "moved")
    assert response.status == 502
    assert b"redirected" in body
    assert "Location" not in response.headers
