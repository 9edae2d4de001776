"""An MCP session belongs to the principal that opened it (docs/THREAT_MODEL.md).

MCP 2025-11-25 security best practices §Session Hijacking: bind session ids to the user.
Two serviceAuths entries of one server are two principals. A session opened by one and presented
by the other is, for the other, a session that does not exist: 404. This holds for
backend-minted ids (pass-through: streamable backend's `Mcp-Session-Id`, legacy backend's
endpoint query) and gate-minted ones (bridged sessions), on both fronts.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from mcp_gate.appkeys import SESSIONS
from mcp_gate.config.model import GateConfig, Secret, ServiceAuth
from mcp_gate.principal import Principal
from tests.fixtures.gate import RunningGate, make_config, remote, running_gate
from tests.fixtures.mcp_servers import RunningServer
from tests.fixtures.proxy_probes import RemoteTransport, backend_for, read_event

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=20)
CLOSE_WAIT_SECONDS = 10.0  # the gate notices a closed client stream at once on loopback
TOKEN_A = "principal-a-token-5d1f"
TOKEN_B = "principal-b-token-9e2c"
HANDSHAKE = "2025-11-25"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": HANDSHAKE,
        "capabilities": {},
        "clientInfo": {"name": "probe", "version": "1"},
    },
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
LIST_TOOLS = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
STREAMABLE_BACKEND = pytest.mark.parametrize(
    "transport", ["streamable-http", "sse"], ids=["pass-through", "bridged"]
)
LEGACY_BACKEND = pytest.mark.parametrize(
    "transport", ["sse", "streamable-http"], ids=["pass-through", "bridged"]
)


def _config(backend: RunningServer, transport: RemoteTransport) -> GateConfig:
    # Two serviceAuths entries: each entry is one principal (`Principal.service`).
    auths = (
        ServiceAuth("bearer", tokens=(Secret(TOKEN_A),)),
        ServiceAuth("bearer", tokens=(Secret(TOKEN_B),)),
    )
    return make_config(
        {name: remote(name, transport, backend.url, service_auths=auths) for name in ("one", "two")}
    )


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session:
        yield session


@dataclass(frozen=True)
class Caller:
    """One principal's view of a streamable MCP endpoint on the gate."""

    http: aiohttp.ClientSession
    url: str
    token: str

    def headers(self, session_id: str | None = None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": HANDSHAKE,
        }
        if session_id is not None:
            headers["Mcp-Session-Id"] = session_id
        return headers

    async def open_session(self) -> str:
        async with self.http.post(self.url, json=INITIALIZE, headers=self.headers()) as response:
            assert response.status == 200, await response.read()
            await response.read()
            session_id = response.headers["Mcp-Session-Id"]
        assert await self.call("POST", session_id, INITIALIZED) == 202
        return session_id

    async def call(self, method: str, session_id: str, message: object = LIST_TOOLS) -> int:
        data = json.dumps(message) if method == "POST" else None
        headers = self.headers(session_id)
        async with self.http.request(method, self.url, data=data, headers=headers) as response:
            if method != "GET" or response.status != 200:
                await response.read()
            return response.status


@STREAMABLE_BACKEND
async def test_streamable_session_presented_by_another_principal_is_not_found(
    transport: RemoteTransport, request: pytest.FixtureRequest, http: aiohttp.ClientSession
) -> None:
    """MCP transports §Session Management: 404 for a session that is not yours, any method."""
    backend = backend_for(request, "py", transport)
    async with running_gate(_config(backend, transport)) as gate:
        owner = Caller(http, gate.url("/one/mcp"), TOKEN_A)
        intruder = Caller(http, gate.url("/one/mcp"), TOKEN_B)
        session_id = await owner.open_session()
        assert [
            await intruder.call(method, session_id) for method in ("POST", "GET", "DELETE")
        ] == [
            404,
            404,
            404,
        ]
        assert await owner.call("POST", session_id) == 200


@STREAMABLE_BACKEND
async def test_a_second_session_id_header_cannot_smuggle_another_principals_session(
    transport: RemoteTransport, request: pytest.FixtureRequest, http: aiohttp.ClientSession
) -> None:
    """Only one session id is checked, so a request carrying two is refused (400)."""
    backend = backend_for(request, "py", transport)
    async with running_gate(_config(backend, transport)) as gate:
        victim = await Caller(http, gate.url("/one/mcp"), TOKEN_A).open_session()
        intruder = Caller(http, gate.url("/one/mcp"), TOKEN_B)
        own = await intruder.open_session()
        headers = [*intruder.headers(own).items(), ("Mcp-Session-Id", victim)]
        async with http.post(intruder.url, json=LIST_TOOLS, headers=headers) as response:
            assert response.status == 400
            assert json.loads(await response.read())["error"]["code"] == -32600


@STREAMABLE_BACKEND
async def test_session_of_one_server_is_unknown_on_another(
    transport: RemoteTransport, request: pytest.FixtureRequest, http: aiohttp.ClientSession
) -> None:
    """A session id is bound to its server too: the same principal cannot carry it elsewhere."""
    backend = backend_for(request, "py", transport)
    async with running_gate(_config(backend, transport)) as gate:
        session_id = await Caller(http, gate.url("/one/mcp"), TOKEN_A).open_session()
        assert await Caller(http, gate.url("/two/mcp"), TOKEN_A).call("POST", session_id) == 404


@STREAMABLE_BACKEND
async def test_delete_ends_the_session(
    transport: RemoteTransport, request: pytest.FixtureRequest, http: aiohttp.ClientSession
) -> None:
    """MCP transports §Session Management: DELETE ends it; later requests get 404."""
    backend = backend_for(request, "py", transport)
    async with running_gate(_config(backend, transport)) as gate:
        owner = Caller(http, gate.url("/one/mcp"), TOKEN_A)
        session_id = await owner.open_session()
        assert await owner.call("DELETE", session_id) == 200
        assert await owner.call("POST", session_id) == 404


async def _legacy_endpoint(
    http: aiohttp.ClientSession, gate: RunningGate, token: str
) -> tuple[aiohttp.ClientResponse, str]:
    """Open the legacy stream as `token`; the open response and its message URL."""
    response = await http.get(
        gate.url("/one/sse"),
        headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
    )
    event = await read_event(response)
    assert event["event"] == "endpoint"
    assert event["data"].startswith("/one/message?")
    return response, gate.url(event["data"])


async def _post_message(http: aiohttp.ClientSession, url: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with http.post(url, json=INITIALIZE, headers=headers) as response:
        await response.read()
        return response.status


@LEGACY_BACKEND
async def test_legacy_session_presented_by_another_principal_is_not_found(
    transport: RemoteTransport, request: pytest.FixtureRequest, http: aiohttp.ClientSession
) -> None:
    """MCP 2024-11-05 §HTTP with SSE + session binding: only the stream's owner may post."""
    backend = backend_for(request, "py", transport)
    async with running_gate(_config(backend, transport)) as gate:
        stream, message_url = await _legacy_endpoint(http, gate, TOKEN_A)
        async with stream:
            assert await _post_message(http, message_url, TOKEN_B) == 404
            assert await _post_message(http, message_url, TOKEN_A) == 202
            reply = await read_event(stream)
        assert json.loads(reply["data"])["id"] == INITIALIZE["id"]


async def test_bridged_legacy_session_is_found_by_either_query_spelling_for_its_owner_only(
    py_streamable_server: RunningServer, http: aiohttp.ClientSession
) -> None:
    """Clients say `sessionId` (TypeScript SDK) or `session_id` (Python SDK); both are bound."""
    async with running_gate(_config(py_streamable_server, "streamable-http")) as gate:
        stream, message_url = await _legacy_endpoint(http, gate, TOKEN_A)
        async with stream:
            session_id = parse_qs(urlsplit(message_url).query)["sessionId"][0]
            snake = gate.url(f"/one/message?session_id={session_id}")
            assert await _post_message(http, snake, TOKEN_B) == 404
            assert await _post_message(http, snake, TOKEN_A) == 202


async def test_closing_the_legacy_stream_ends_its_bridged_session(
    py_streamable_server: RunningServer, http: aiohttp.ClientSession
) -> None:
    """policy: a bridged legacy session lives exactly as long as its stream."""
    async with running_gate(_config(py_streamable_server, "streamable-http")) as gate:
        stream, message_url = await _legacy_endpoint(http, gate, TOKEN_A)
        session_id = parse_qs(urlsplit(message_url).query)["sessionId"][0]
        session = gate.app[SESSIONS].find(session_id, Principal.service("one"), "one")
        assert session is not None
        stream.close()
        async with asyncio.timeout(CLOSE_WAIT_SECONDS):
            await session.closed.wait()
        assert await _post_message(http, message_url, TOKEN_A) == 404


async def test_two_tokens_of_one_service_auth_entry_do_not_share_sessions(
    py_streamable_server: RunningServer, http: aiohttp.ClientSession
) -> None:
    """policy: each service token is its own principal, so machines never share MCP sessions."""
    server = remote(
        "one",
        "streamable-http",
        py_streamable_server.url,
        service_auths=(ServiceAuth("bearer", (Secret("token-one-a"), Secret("token-one-b"))),),
    )
    async with running_gate(make_config({"one": server})) as gate:
        initialize = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        }
        headers = {"Accept": "application/json, text/event-stream"}
        async with http.post(
            gate.url("/one/mcp"),
            json=initialize,
            headers={**headers, "Authorization": "Bearer token-one-a"},
        ) as response:
            assert response.status == 200
            session_id = response.headers["Mcp-Session-Id"]
        ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
        async with http.post(
            gate.url("/one/mcp"),
            json=ping,
            headers={
                **headers,
                "Authorization": "Bearer token-one-b",
                "Mcp-Session-Id": session_id,
            },
        ) as response:
            assert response.status == 404


async def _endpoint_of(http: aiohttp.ClientSession, url: str) -> str | None:
    """The endpoint event the gate relays on a legacy stream, or None if the stream ends."""
    async with http.get(url, headers={"Accept": "text/event-stream"}) as response:
        async for line in response.content:
            text = line.decode().strip()
            if text.startswith("data: ") and "message" in text:
                return text.removeprefix("data: ")
            if text == "event: request":
                return None
    return None


async def test_a_backend_session_named_in_the_path_gets_a_key_of_its_own(
    echo_headers_server: RunningServer, http: aiohttp.ClientSession
) -> None:
    """MCP 2024-11-05 transports §HTTP with SSE: the query stays opaque; an endpoint with its
    session in the path alone gets a gate-minted key, so two streams never share one and POSTs reach
    the right path."""
    backend = f"{echo_headers_server.url}/sse?events=1&hold=1&endpoint=/messages/abc123"
    server = remote("legacy", "sse", backend)
    async with running_gate(make_config({"legacy": server})) as gate:
        first = await _endpoint_of(http, gate.url("/legacy/sse"))
        second = await _endpoint_of(http, gate.url("/legacy/sse"))
        assert first is not None
        assert second is not None
        assert first != second
        assert first.startswith("/legacy/message?sessionId=")
        async with http.post(gate.url(first), json={"jsonrpc": "2.0", "method": "n"}) as answer:
            echoed = await answer.json()
    assert echoed["path"] == "/messages/abc123"


async def test_an_endpoint_on_another_origin_ends_the_stream(
    echo_headers_server: RunningServer, http: aiohttp.ClientSession
) -> None:
    """policy: configured credentials go to the backend's own origin only."""
    backend = f"{echo_headers_server.url}/sse?events=1&endpoint=http://127.0.0.2:9/steal"
    server = remote("legacy", "sse", backend, headers={"X-Key": Secret("backend-key")})
    async with running_gate(make_config({"legacy": server})) as gate:
        assert await _endpoint_of(http, gate.url("/legacy/sse")) is None


async def test_a_backend_with_the_same_query_on_every_stream_keeps_each_stream_its_own(
    hostile_backend: RunningServer, http: aiohttp.ClientSession
) -> None:
    """Issue 17 §6: the backend names `/message/<session>?v=1` on every stream; the gate keys
    each stream by an id of its own, so a second stream takes nothing from the first."""
    hostile = RunningServer("hostile", f"{hostile_backend.url}/sse", 0, hostile_backend.log_path)
    async with running_gate(_config(hostile, "sse")) as gate:
        stream_a, url_a = await _legacy_endpoint(http, gate, TOKEN_A)
        stream_b, url_b = await _legacy_endpoint(http, gate, TOKEN_B)
        async with stream_a, stream_b:
            assert url_a != url_b
            assert await _post_message(http, url_a, TOKEN_A) == 202
            assert await _post_message(http, url_b, TOKEN_B) == 202
            assert await _post_message(http, url_b, TOKEN_A) == 404
            replies = [json.loads((await read_event(s))["data"]) for s in (stream_a, stream_b)]
    assert [reply["id"] for reply in replies] == [INITIALIZE["id"]] * 2
