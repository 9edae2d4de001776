"""Bad input and broken backends get a clear 4xx or a plain 502/504: never a 500, never a trace.

docs/deploy.md: bad input anywhere gets a clear 4xx, never a 500 and never a stack trace; a
backend down means 502 for that server only, a plain 502/504, never a JSON-RPC body a client could
mistake for the backend's own answer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from mcp import MCPError

from tests.fixtures.gate import RunningGate, make_config, remote, running_gate
from tests.fixtures.mcp_clients import sse_client, streamable_client
from tests.fixtures.mcp_servers import RunningServer
from tests.fixtures.ports import free_port
from tests.fixtures.proxy_probes import RemoteTransport, backend_for, silent_backend

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=20)
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
MAX_BODY_BYTES = 1024
BACKEND_TIMEOUT_SECONDS = 0.5  # a silent backend is given up on after this
ROUTES = pytest.mark.parametrize(
    "route", ["/py/mcp", "/pysse/mcp", "/pysse/message", "/py/message"]
)


def _dead_url(path: str) -> str:
    return f"http://127.0.0.1:{free_port()}{path}"  # nothing listens there


@pytest.fixture
async def gate(
    py_streamable_server: RunningServer, py_sse_server: RunningServer
) -> AsyncIterator[RunningGate]:
    """Working servers of both transports, dead ones of both, and a small body limit."""
    servers = {
        "py": remote("py", "streamable-http", py_streamable_server.url),
        "pysse": remote("pysse", "sse", py_sse_server.url),
        "down": remote("down", "streamable-http", _dead_url("/mcp")),
        "downsse": remote("downsse", "sse", _dead_url("/sse")),
    }
    async with running_gate(make_config(servers, max_body_bytes=MAX_BODY_BYTES)) as running:
        yield running


async def _request(
    gate: RunningGate, method: str, path: str, body: bytes | None = None, **headers: str
) -> tuple[int, str, bytes]:
    async with (
        aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
        http.request(
            method, gate.url(path), data=body, headers={**JSON_HEADERS, **headers}
        ) as response,
    ):
        return response.status, response.content_type, await response.read()


def _assert_no_trace(body: bytes) -> None:
    assert b"Traceback" not in body
    assert b'File "' not in body


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/nope/mcp"), ("GET", "/nope/mcp"), ("GET", "/nope/sse"), ("POST", "/nope/message")],
)
async def test_unknown_server_gets_404_with_a_jsonrpc_body(
    gate: RunningGate, method: str, path: str
) -> None:
    """policy: a server that is not configured does not exist; the body names it."""
    status, content_type, body = await _request(
        gate, method, path, b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
    )
    assert status == 404
    assert content_type == "application/json"
    error = json.loads(body)["error"]
    assert "'nope'" in error["message"]
    _assert_no_trace(body)


@ROUTES
@pytest.mark.parametrize(
    "body", [b"{not json", b"\xff\xfe\x00", b""], ids=["broken", "not-utf8", "empty"]
)
async def test_malformed_json_gets_400_parse_error(
    gate: RunningGate, route: str, body: bytes
) -> None:
    """JSON-RPC 2.0 §5.1: invalid JSON is a parse error (-32700); the gate answers 400."""
    status, content_type, reply = await _request(gate, "POST", f"{route}?sessionId=x", body)
    assert status == 400
    assert content_type == "application/json"
    assert json.loads(reply)["error"]["code"] == -32700
    _assert_no_trace(reply)


@ROUTES
@pytest.mark.parametrize(
    "body",
    [b"42", b"[]", b'["a"]', b"null", b'"text"'],
    ids=["number", "empty-batch", "batch-of-strings", "null", "string"],
)
async def test_json_that_is_not_a_message_gets_400(
    gate: RunningGate, route: str, body: bytes
) -> None:
    """JSON-RPC 2.0 §4: a body must be a message object or a batch of them; else 400."""
    status, content_type, reply = await _request(gate, "POST", f"{route}?sessionId=x", body)
    assert status == 400
    assert content_type == "application/json"
    assert json.loads(reply)["error"]["code"] in (-32700, -32600)
    _assert_no_trace(reply)


@ROUTES
@pytest.mark.parametrize(
    "message",
    [
        {"jsonrpc": "2.0", "id": [1], "method": "tools/list"},
        {"jsonrpc": "2.0", "id": {"a": 1}, "method": "tools/list"},
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "echo", "_meta": {"progressToken": {"nested": True}}},
        },
    ],
    ids=["array-id", "object-id", "object-progress-token"],
)
async def test_ids_that_are_not_strings_or_numbers_get_400(
    gate: RunningGate, route: str, message: dict[str, object]
) -> None:
    """MCP basic §Requests: ids and progress tokens are strings or integers; others are refused."""
    status, _, reply = await _request(
        gate, "POST", f"{route}?sessionId=x", json.dumps(message).encode()
    )
    assert status == 400
    assert json.loads(reply)["error"]["code"] == -32600
    _assert_no_trace(reply)


async def test_bad_id_inside_a_bridged_session_gets_400(gate: RunningGate) -> None:
    """The bridge routes replies by request id, so an id it cannot key on is refused up front."""
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "probe", "version": "1"},
        },
    }
    async with (
        aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
        http.post(
            gate.url("/pysse/mcp"), json=initialize, headers={"Accept": "application/json"}
        ) as response,
    ):
        assert response.status == 200
        session_id = response.headers["Mcp-Session-Id"]
    bad = {"jsonrpc": "2.0", "id": [2], "method": "tools/list"}
    status, _, reply = await _request(
        gate, "POST", "/pysse/mcp", json.dumps(bad).encode(), **{"Mcp-Session-Id": session_id}
    )
    assert status == 400
    _assert_no_trace(reply)


@ROUTES
async def test_body_over_the_limit_gets_413(gate: RunningGate, route: str) -> None:
    """docs/THREAT_MODEL.md, resource exhaustion: a body limit (`maxBodyBytes`, default 4 MiB); over
    it is 413."""
    padding = "x" * (MAX_BODY_BYTES + 1)
    message = {"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": padding}}
    status, _, reply = await _request(
        gate, "POST", f"{route}?sessionId=x", json.dumps(message).encode()
    )
    assert status == 413
    assert str(MAX_BODY_BYTES) in json.loads(reply)["error"]["message"]
    _assert_no_trace(reply)


async def _in_pieces(body: bytes, pieces: int) -> AsyncIterator[bytes]:
    """The body in `pieces` chunks (chunked transfer coding), a pause before each: the gate
    has the head long before the whole body."""
    size = -(-len(body) // pieces)
    for start in range(0, len(body), size):
        await asyncio.sleep(0.05)
        yield body[start : start + size]


@pytest.mark.parametrize(("size", "status"), [(400, 200), (MAX_BODY_BYTES + 1, 413)])
async def test_a_body_arriving_in_pieces_is_read_whole_and_capped_the_same(
    gate: RunningGate, size: int, status: int
) -> None:
    """A body that trails its head (a slow client, chunked) is read as one that came with
    it: whole when within `maxBodyBytes`, the same JSON-RPC 413 past it."""
    meta = {"pad": ""}
    params = {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "slow-client", "version": "1"},
        "_meta": meta,
    }
    message = {"jsonrpc": "2.0", "id": 7, "method": "initialize", "params": params}
    meta["pad"] = "x" * (size - len(json.dumps(message).encode()))
    body = json.dumps(message).encode()
    assert len(body) == size
    async with (
        aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
        http.post(gate.url("/py/mcp"), data=_in_pieces(body, 4), headers=JSON_HEADERS) as response,
    ):
        reply = await response.read()
        assert response.status == status, reply
    if status == 200:
        # The backend read the whole message, and answered it (as JSON or one SSE event).
        assert b'"id":7' in reply.replace(b" ", b"")
        assert b'"result"' in reply
    else:
        assert str(MAX_BODY_BYTES) in json.loads(reply)["error"]["message"]
    _assert_no_trace(reply)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/py/mcp"),
        ("PATCH", "/py/mcp"),
        ("HEAD", "/py/mcp"),
        ("POST", "/py/sse"),
        ("GET", "/py/message"),
        ("DELETE", "/py/sse"),
    ],
)
async def test_wrong_method_gets_405(gate: RunningGate, method: str, path: str) -> None:
    """RFC 9110 §15.5.6: a method the route does not have is 405, with `Allow`."""
    async with (
        aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
        http.request(method, gate.url(path), data=b"{}") as response,
    ):
        body = await response.read()
        assert response.status == 405
        assert response.headers["Allow"]
    _assert_no_trace(body)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/down/mcp"),
        ("GET", "/down/mcp"),
        ("POST", "/downsse/mcp"),
        ("GET", "/downsse/sse"),
    ],
)
async def test_backend_down_gets_a_plain_502_naming_the_server(
    gate: RunningGate, method: str, path: str
) -> None:
    """docs/deploy.md: a backend down means 502, in plain text, never a JSON-RPC body."""
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    status, content_type, body = await _request(
        gate, method, path, json.dumps(initialize).encode() if method == "POST" else None
    )
    assert status == 502
    assert content_type == "text/plain"
    assert b"'down" in body
    _assert_no_trace(body)


async def test_a_dead_backend_leaves_the_other_servers_working(gate: RunningGate) -> None:
    """docs/deploy.md: 502 for that server only; its neighbours on the gate keep serving."""
    status, _, _ = await _request(gate, "POST", "/down/mcp", b'{"jsonrpc":"2.0","method":"x"}')
    assert status == 502
    async with streamable_client(gate.url("/py/mcp"), mode="legacy") as client:
        result = await client.call_tool("echo", {"text": "still here"})
    assert result.content[0].text == "still here"  # type: ignore[union-attr]


async def test_legacy_client_of_a_dead_streamable_backend_gets_an_error_reply(
    gate: RunningGate,
) -> None:
    """Bridged legacy front: the stream is already open when the backend is first called, so
    the failure reaches the client as the JSON-RPC error of its initialize request."""
    unreachable = pytest.RaisesExc(MCPError, match="unreachable")
    with pytest.RaisesGroup(unreachable, flatten_subgroups=True):
        async with sse_client(gate.url("/down/sse")):
            pass


@pytest.mark.parametrize(
    ("transport", "method", "path"),
    [
        ("streamable-http", "POST", "/slow/mcp"),
        ("streamable-http", "GET", "/slow/mcp"),
        ("sse", "POST", "/slow/mcp"),
        ("sse", "GET", "/slow/sse"),
    ],
)
async def test_backend_that_never_answers_gets_a_plain_504(
    transport: RemoteTransport, method: str, path: str
) -> None:
    """The server's `timeout` bounds connecting and the wait for response headers: 504."""
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    async with silent_backend() as url:
        server = remote(
            "slow",
            transport,
            f"{url}/{'mcp' if transport == 'streamable-http' else 'sse'}",
            timeout_seconds=BACKEND_TIMEOUT_SECONDS,
        )
        async with running_gate(make_config({"slow": server})) as running:
            status, content_type, body = await _request(
                running, method, path, json.dumps(initialize).encode() if method == "POST" else None
            )
    assert status == 504
    assert content_type == "text/plain"
    assert b"'slow'" in body
    _assert_no_trace(body)


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
async def test_unknown_session_gets_404_not_500(
    transport: RemoteTransport, request: pytest.FixtureRequest
) -> None:
    """MCP transports §Session Management: an unknown session id is 404 (re-initialize)."""
    backend = backend_for(request, "py", transport)
    async with running_gate(make_config({"s": remote("s", transport, backend.url)})) as running:
        status, _, body = await _request(
            running,
            "POST",
            "/s/mcp",
            b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
            **{"Mcp-Session-Id": "never-issued", "MCP-Protocol-Version": "2025-11-25"},
        )
        legacy_status, _, _ = await _request(
            running, "POST", "/s/message?sessionId=never-issued", b'{"jsonrpc":"2.0","method":"x"}'
        )
    assert status == 404
    assert legacy_status == 404
    _assert_no_trace(body)
