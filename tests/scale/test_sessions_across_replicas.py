"""Every MCP session works through any replica: gates on one Redis behind round-robin nginx.

Real parts only: `mcp-gate serve` processes, redis-server, nginx (no upstream keep-alive,
so consecutive requests of one session land on different replicas), the official Python
SDK client, py_server as a stdio child or a remote server. Each test proves the spread
from nginx's access log, not by assuming it.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from tests.fixtures.gate_cluster import GateCluster, gate_cluster
from tests.fixtures.mcp_clients import PY_SERVER, conformance_walk, streamable_client
from tests.fixtures.mcp_servers import RunningServer
from tests.fixtures.oauth_flow import sdk_oauth
from tests.fixtures.oidc_provider import OidcTestProvider
from tests.fixtures.ports import free_port
from tests.fixtures.process_table import gate_children, wait_until
from tests.fixtures.redis_server import RedisServer
from tests.fixtures.stdio_backends import ALICE, ALICE_TOKEN, sdk_client, sdk_sse_client
from tests.fixtures.ts_client import ts_client_walk
from tests.scale.conftest import py_stdio_document, remote_document


def _py_children(cluster: GateCluster) -> list[int]:
    return [p.pid for gate in cluster.gates for p in gate_children(gate.pid)]


def _assert_spread(cluster: GateCluster, path: str) -> None:
    served = cluster.served_by(path)
    assert len(served) == len(cluster.gates), f"{path} served only by {dict(served)}"


@pytest.mark.parametrize("count", [2, 3])
@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_stdio_session_on_the_streamable_front_works_through_every_replica(
    redis_server: RedisServer, tmp_path: Path, count: int, mode: str
) -> None:
    """a session's requests spread over replicas, each relayed to the one
    child's owner; progress and the server's sampling request come back (MCP transports)."""
    with gate_cluster({"py": py_stdio_document()}, redis_server, tmp_path, count=count) as cluster:
        async with sdk_client(f"{cluster.url}/py/mcp", ALICE, mode) as client:
            result = await conformance_walk(client, PY_SERVER)
            assert _py_children(cluster) == [_py_children(cluster)[0]]  # one child in all
        assert result.problems == ()
        _assert_spread(cluster, "/py/mcp")


async def test_a_stdio_session_on_the_legacy_front_works_through_every_replica(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """MCP 2024-11-05 HTTP+SSE: the stream stays on one replica; its POSTs, wherever they
    land, reach it, and the replies ride the stream."""
    with gate_cluster({"py": py_stdio_document()}, redis_server, tmp_path) as cluster:
        async with sdk_sse_client(f"{cluster.url}/py/sse", ALICE) as client:
            result = await conformance_walk(client, PY_SERVER)
            assert len(_py_children(cluster)) == 1
        assert result.problems == ()
        _assert_spread(cluster, "/py/message")


async def test_a_remote_legacy_sse_session_works_through_every_replica(
    redis_server: RedisServer, tmp_path: Path, py_sse_server: RunningServer
) -> None:
    """Legacy pass-through: the replica relaying the backend's stream owns the session."""
    servers = {"legacy": remote_document("sse", py_sse_server.url)}
    with gate_cluster(servers, redis_server, tmp_path) as cluster:
        async with sdk_sse_client(f"{cluster.url}/legacy/sse", ALICE) as client:
            result = await conformance_walk(client, PY_SERVER)
        assert result.problems == ()
        _assert_spread(cluster, "/legacy/message")


async def test_a_bridged_cross_transport_session_works_through_every_replica(
    redis_server: RedisServer, tmp_path: Path, py_sse_server: RunningServer
) -> None:
    """A streamable client on a legacy SSE backend: the bridge lives on its owner only."""
    servers = {"legacy": remote_document("sse", py_sse_server.url)}
    with gate_cluster(servers, redis_server, tmp_path) as cluster:
        async with sdk_client(f"{cluster.url}/legacy/mcp", ALICE, "legacy") as client:
            result = await conformance_walk(client, PY_SERVER)
        assert result.problems == ()
        _assert_spread(cluster, "/legacy/mcp")


async def test_a_remote_streamable_session_works_through_every_replica(
    redis_server: RedisServer, tmp_path: Path, py_streamable_server: RunningServer
) -> None:
    """Streamable pass-through: the replica that saw `initialize` owns the binding."""
    servers = {"remote": remote_document("streamable-http", py_streamable_server.url)}
    with gate_cluster(servers, redis_server, tmp_path) as cluster:
        async with sdk_client(f"{cluster.url}/remote/mcp", ALICE, "legacy") as client:
            result = await conformance_walk(client, PY_SERVER)
        assert result.problems == ()
        _assert_spread(cluster, "/remote/mcp")


def _events(log_path: Path) -> list[str]:
    lines = log_path.read_text().splitlines()
    return [json.loads(line).get("event", "") for line in lines if line.startswith("{")]


def _request_id_prefixes(log_path: Path, path: str) -> set[str]:
    """Which processes answered `path`: request ids begin with 6 hex digits per process."""
    prefixes = set()
    for line in log_path.read_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("event") == "request_finished" and entry.get("path") == path:
                prefixes.add(entry["request_id"][:6])
    return prefixes


async def test_two_workers_on_one_addr_serve_every_session_through_either(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """`proxy.workers: 2`: two processes share the port (SO_REUSEPORT), each a replica;
    a session's requests reach both and work, with one child."""
    servers = {"py": py_stdio_document()}
    with gate_cluster(servers, redis_server, tmp_path, count=1, workers=2) as cluster:
        supervisor = cluster.gates[0].pid
        await wait_until(lambda: len(gate_workers(supervisor)) == 2, "two workers")
        # Each worker logs `gate_started` once it listens; before that the kernel hands
        # every connection to the other one.
        log_path = cluster.gates[0].log_path
        await wait_until(lambda: _events(log_path).count("gate_started") == 2, "both listening")
        for mode in ("auto", "legacy"):
            async with sdk_client(f"{cluster.url}/py/mcp", ALICE, mode) as client:
                result = await conformance_walk(client, PY_SERVER)
                children = [c for w in gate_workers(supervisor) for c in gate_children(w)]
                assert len(children) == 1
            assert result.problems == ()
        assert len(_request_id_prefixes(cluster.gates[0].log_path, "/py/mcp")) == 2


def gate_workers(supervisor: int) -> list[int]:
    return [p.pid for p in gate_children(supervisor)]


async def test_a_full_oauth_login_then_calls_work_through_every_replica(
    redis_server: RedisServer, tmp_path: Path, oidc_provider: OidcTestProvider
) -> None:
    """The whole login (discovery, registration, authorize, consent, IdP callback, token)
    and the session after it, each request on whichever replica nginx picks."""
    port = free_port()
    client_id, client_secret = f"gate-{secrets.token_hex(4)}", secrets.token_urlsafe(24)
    callback = f"http://127.0.0.1:{port}/oauth/callback"
    await oidc_provider.register_client(client_id, client_secret, [callback])
    idp = {
        "provider": "oidc",
        "clientId": client_id,
        "clientSecret": client_secret,
        "discoveryUrl": oidc_provider.discovery_url,
    }
    servers = {"py": {k: v for k, v in py_stdio_document().items() if k != "serviceAuths"}}
    with gate_cluster(
        servers, redis_server, tmp_path, auth={"idp": idp}, balancer_port=port
    ) as cluster:
        url = f"{cluster.url}/py/mcp"
        oauth = sdk_oauth(url)
        async with streamable_client(url, auth=oauth.provider) as client:
            result = await conformance_walk(client, PY_SERVER)
        assert result.problems == ()
        assert oauth.callbacks, "no login happened"
        login_paths = ("/register", "/authorize", "/consent", "/oauth/callback", "/token")
        login = {line.upstream for line in cluster.log() if line.path in login_paths}
        assert len(login) == 2
        _assert_spread(cluster, "/py/mcp")


@pytest.mark.parametrize(("front", "mode"), [("mcp", "streamable"), ("sse", "sse")])
async def test_the_typescript_sdk_client_works_through_every_replica(
    redis_server: RedisServer, tmp_path: Path, front: str, mode: str
) -> None:
    """The TypeScript SDK client on a stdio server, both fronts: sampling crosses replicas
    too, and progress on the streamable front. (Over legacy SSE the TS client reports no
    progress through a single gate either, relay or not: a separate finding.)"""
    with gate_cluster({"py": py_stdio_document()}, redis_server, tmp_path) as cluster:
        seen = await ts_client_walk(f"{cluster.url}/py/{front}", mode, ALICE_TOKEN)
        assert {"echo", "slow_count", "ask_llm"} <= set(seen["tools"])
        assert seen["echo"] == "hello gate"
        if mode == "streamable":
            assert seen["progress"] == [1, 2, 3]
        assert "sampled: two plus two" in seen["sampled"]
        _assert_spread(cluster, "/py/mcp" if front == "mcp" else "/py/message")


async def test_an_aggregate_session_works_through_every_replica(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """An aggregate is a session like any other (docs/config.md, type: aggregate): its
    requests spread over replicas, each relayed to the replica that holds the aggregate and
    its member's stdio child; exactly one child across replicas."""
    servers = {
        "py": py_stdio_document(),
        "all": {
            "type": "aggregate",
            "servers": ["py"],
            "serviceAuths": py_stdio_document()["serviceAuths"],
        },
    }
    with gate_cluster(servers, redis_server, tmp_path) as cluster:
        async with sdk_client(f"{cluster.url}/all/mcp", ALICE, "legacy") as client:
            tools = [tool.name for tool in (await client.list_tools()).tools]
            echoed = await client.call_tool("py.echo", dict(PY_SERVER.echo_arguments))
            again = await client.call_tool("py.echo", dict(PY_SERVER.echo_arguments))
            children = _py_children(cluster)
        assert "py.echo" in tools
        assert not echoed.is_error
        assert not again.is_error
        assert len(children) == 1
        _assert_spread(cluster, "/all/mcp")
