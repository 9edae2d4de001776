"""`serviceAuths`: static bearer tokens and basic credentials per server, for machines.

docs/config.md `serviceAuths[]`: compared in constant time, never logged. RFC 6750 §3: a request
without valid credentials gets 401 with a `Bearer` challenge. A server with no authentication at all
is open to anyone who reaches the gate, and the gate says so in its log when it starts.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from structlog.testing import capture_logs

from mcp_gate.config.model import Secret, ServiceAuth
from tests.fixtures.gate import RunningGate, make_config, remote, running_gate
from tests.fixtures.mcp_clients import sse_client, streamable_client
from tests.fixtures.mcp_servers import RunningServer

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=20)
CI_TOKEN = "ci-token-4f9d2c7e1b"
OTHER_TOKEN = "other-token-8a3e6b0d5c"
BASIC_USER = "batch"
BASIC_PASSWORD = "batch-password-7c1e9f"
INITIALIZE = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "probe", "version": "1"},
        },
    }
).encode()


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _servers(streamable: RunningServer, legacy: RunningServer) -> dict[str, object]:
    bearer = ServiceAuth("bearer", tokens=(Secret(CI_TOKEN), Secret(OTHER_TOKEN)))
    basic = ServiceAuth("basic", username=BASIC_USER, password=Secret(BASIC_PASSWORD))
    return {
        "bearer": remote("bearer", "streamable-http", streamable.url, service_auths=(bearer,)),
        "bearersse": remote("bearersse", "sse", legacy.url, service_auths=(bearer,)),
        "basic": remote("basic", "streamable-http", streamable.url, service_auths=(basic,)),
        "open": remote("open", "streamable-http", streamable.url),
    }


@pytest.fixture
async def gate(
    py_streamable_server: RunningServer, py_sse_server: RunningServer
) -> AsyncIterator[RunningGate]:
    config = make_config(_servers(py_streamable_server, py_sse_server))  # type: ignore[arg-type]
    async with running_gate(config) as running:
        yield running


async def _status(
    gate: RunningGate, method: str, path: str, authorization: str | None
) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if authorization is not None:
        headers["Authorization"] = authorization
    async with (
        aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
        http.request(
            method, gate.url(path), headers=headers, data=INITIALIZE if method == "POST" else None
        ) as response,
    ):
        return response.status, dict(response.headers), await response.read()


ROUTES = pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/bearer/mcp"),
        ("GET", "/bearer/mcp"),
        ("DELETE", "/bearer/mcp"),
        ("GET", "/bearer/sse"),
        ("POST", "/bearer/message?sessionId=x"),
        ("GET", "/bearersse/sse"),
        ("POST", "/bearersse/message?session_id=x"),
        ("POST", "/bearersse/mcp"),
    ],
)


@ROUTES
async def test_no_credentials_gets_401_with_a_bearer_challenge(
    gate: RunningGate, method: str, path: str
) -> None:
    """RFC 6750 §3; MCP authorization: every MCP route of a guarded server, every method."""
    status, headers, _ = await _status(gate, method, path, None)
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Bearer ")


@ROUTES
@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer not-the-token",
        f"Bearer {CI_TOKEN}x",
        f"Bearer {CI_TOKEN[:-1]}",
        f"Basic {CI_TOKEN}",
        CI_TOKEN,
        "Bearer",
        _basic(BASIC_USER, BASIC_PASSWORD),
    ],
    ids=["other", "longer", "shorter", "wrong-scheme", "no-scheme", "empty", "basic-elsewhere"],
)
async def test_wrong_credentials_get_401(
    gate: RunningGate, method: str, path: str, authorization: str
) -> None:
    """A credential of another server, scheme or length is no credential at all."""
    status, headers, body = await _status(gate, method, path, authorization)
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Bearer ")
    assert CI_TOKEN.encode() not in body


@pytest.mark.parametrize(
    "authorization",
    [
        _basic(BASIC_USER, "wrong"),
        _basic("someone", BASIC_PASSWORD),
        _basic(BASIC_USER, BASIC_PASSWORD + "x"),
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"\xff\xfe:\xfd").decode(),
        f"Bearer {CI_TOKEN}",
    ],
    ids=["password", "user", "longer", "not-base64", "not-utf8", "bearer-elsewhere"],
)
async def test_wrong_basic_credentials_get_401_with_both_challenges(
    gate: RunningGate, authorization: str
) -> None:
    """RFC 7617 §2: a basic-guarded server also offers a Basic challenge."""
    status, headers, _ = await _status(gate, "POST", "/basic/mcp", authorization)
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Bearer ")
    assert 'Basic realm="mcp-gate"' in headers["WWW-Authenticate"]


@pytest.mark.parametrize("token", [CI_TOKEN, OTHER_TOKEN])
async def test_right_bearer_token_goes_through_on_both_fronts(
    gate: RunningGate, token: str
) -> None:
    """Either configured token admits the SDK client, on the streamable and legacy fronts."""
    headers = {"Authorization": f"Bearer {token}"}
    for name in ("bearer", "bearersse"):
        async with streamable_client(gate.url(f"/{name}/mcp"), headers, mode="legacy") as client:
            first = await client.call_tool("echo", {"text": "via mcp"})
        async with sse_client(gate.url(f"/{name}/sse"), headers) as client:
            second = await client.call_tool("echo", {"text": "via sse"})
        assert [first.content[0].text, second.content[0].text] == ["via mcp", "via sse"]  # type: ignore[union-attr]


async def test_right_basic_credentials_go_through(gate: RunningGate) -> None:
    """RFC 7617: `Basic base64(user:password)` admits the SDK client."""
    headers = {"Authorization": _basic(BASIC_USER, BASIC_PASSWORD)}
    async with streamable_client(gate.url("/basic/mcp"), headers) as client:
        result = await client.call_tool("add", {"a": 2, "b": 3})
    assert result.content[0].text == "5"  # type: ignore[union-attr]


async def test_scheme_name_is_case_insensitive(gate: RunningGate) -> None:
    """RFC 9110 §11.1: the auth scheme is case-insensitive."""
    status, _, _ = await _status(gate, "POST", "/bearer/mcp", f"bEaReR {CI_TOKEN}")
    assert status == 200


async def test_credentials_never_reach_the_log(gate: RunningGate) -> None:
    """docs/THREAT_MODEL.md, secrets in logs: service credentials are never logged, whether they
    were right or wrong."""
    with capture_logs() as logs:
        await _status(gate, "POST", "/bearer/mcp?token=" + OTHER_TOKEN, f"Bearer {CI_TOKEN}")
        await _status(gate, "POST", "/bearer/mcp", f"Bearer {CI_TOKEN}-wrong")
        await _status(gate, "POST", "/basic/mcp", _basic(BASIC_USER, BASIC_PASSWORD))
        await _status(gate, "POST", "/basic/mcp", _basic(BASIC_USER, BASIC_PASSWORD + "-wrong"))
        headers = {"Authorization": f"Bearer {CI_TOKEN}"}
        async with sse_client(gate.url("/bearersse/sse"), headers) as client:
            await client.call_tool("echo", {"text": "logged?"})
    text = json.dumps(logs, default=str)
    assert [log["status"] for log in logs if log["event"] == "request_finished"][:4] == [
        200,
        401,
        200,
        401,
    ]
    for secret in (
        CI_TOKEN,
        OTHER_TOKEN,
        BASIC_PASSWORD,
        base64.b64encode(BASIC_PASSWORD.encode()).decode(),
    ):
        assert secret not in text
    assert base64.b64encode(f"{BASIC_USER}:{BASIC_PASSWORD}".encode()).decode() not in text


async def test_open_server_is_reported_at_start(
    py_streamable_server: RunningServer, py_sse_server: RunningServer
) -> None:
    """policy: a server anyone can use is allowed, but never silently: one warning each."""
    config = make_config(_servers(py_streamable_server, py_sse_server))  # type: ignore[arg-type]
    with capture_logs() as logs:
        async with running_gate(config):
            pass
    warnings = [log for log in logs if log["event"] == "server_unauthenticated"]
    assert [(log["server"], log["log_level"]) for log in warnings] == [("open", "warning")]


async def test_open_server_admits_anyone(gate: RunningGate) -> None:
    """A server with neither OAuth nor serviceAuths is open, whatever the client sends."""
    for authorization in (None, "Bearer anything"):
        status, _, _ = await _status(gate, "POST", "/open/mcp", authorization)
        assert status == 200
