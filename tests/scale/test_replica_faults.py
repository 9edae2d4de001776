"""What clients see when a replica dies, stops, or is lied to; and limits over replicas.

Gate processes on one Redis behind round-robin nginx (tests/fixtures/gate_cluster.py),
driven by hand over the streamable front (JSON replies) for exact statuses.
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import aiohttp

from mcp_gate.cluster.hop import HOP_HEADER, HopKey
from mcp_gate.policy.engine import Caller
from mcp_gate.principal import Principal
from tests.fixtures.gate_cluster import JWT_SECRET, GateCluster, gate_cluster
from tests.fixtures.process_table import process_info, wait_until
from tests.fixtures.redis_server import RedisServer
from tests.fixtures.stdio_backends import ALICE, BOB, RawSession, raw_http
from tests.scale.conftest import py_stdio_document

TOOLS_LIST = {"jsonrpc": "2.0", "id": 99, "method": "tools/list"}


def _replica_id(log_path: Path) -> str:
    """The gate's replica id, from its `replica_joined` log line."""
    for line in log_path.read_text().splitlines():
        if '"replica_joined"' in line:
            return str(json.loads(line)["replica"])
    raise AssertionError("the gate logged no replica_joined")


def _owner_index(cluster: GateCluster, child_pid: int) -> int:
    info = process_info(child_pid)
    assert info is not None
    return next(i for i, gate in enumerate(cluster.gates) if gate.pid == info.ppid)


async def _open(
    http: aiohttp.ClientSession, cluster: GateCluster, headers: dict[str, str]
) -> RawSession:
    """A new session; a `/health` first moves the round robin on, so consecutive opens
    (two requests each: `initialize`, `initialized`) land on different replicas."""
    async with http.get(f"{cluster.url}/health") as response:
        assert response.status == 200
    session = RawSession(http, f"{cluster.url}/py/mcp", headers)
    reply = await session.initialize()
    assert "result" in reply, reply
    return session


async def test_a_session_presented_by_another_user_is_404_through_every_replica(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """MCP security best practices §Session Hijacking: bound to its principal on every
    replica, the owner's and the others' alike (the hop carries the principal)."""
    with gate_cluster({"py": py_stdio_document()}, redis_server, tmp_path, count=3) as cluster:
        async with raw_http() as http:
            alice = await _open(http, cluster, ALICE)
            bob = RawSession(http, alice.url, BOB)
            for _ in range(6):
                await bob.post(TOOLS_LIST, session_id=alice.session_id)
                assert bob.last_status == 404
            assert "result" in await alice.request("tools/list")
        statuses = {line.upstream for line in cluster.log() if line.status == 404}
        assert len(statuses) == 3


async def test_the_owner_killed_mid_session_gives_404_and_a_new_session_works(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """MCP transports §Session Management: a session the server no longer has is 404, and
    the client's new `initialize` opens a working one on a live replica."""
    with gate_cluster({"py": py_stdio_document()}, redis_server, tmp_path, count=3) as cluster:
        async with raw_http() as http:
            session = await _open(http, cluster, ALICE)
            owner = _owner_index(cluster, await session.child_pid())
            cluster.signal(owner, signal.SIGKILL)
            await cluster.wait_until_gone(owner)
            for _ in range(4):  # through both survivors
                await session.post(TOOLS_LIST)
                assert session.last_status == 404
            fresh = await _open(http, cluster, ALICE)
            assert "result" in await fresh.call_tool("echo", {"text": "again"})
            assert _owner_index(cluster, await fresh.child_pid()) != owner


async def test_sigterm_on_one_replica_fails_no_request_of_another_replicas_sessions(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """A replica stopping as in a rolling update (out of the balancer, then SIGTERM): not
    one request of the sessions the other replica owns fails, before, during or after."""
    with gate_cluster({"py": py_stdio_document()}, redis_server, tmp_path) as cluster:
        async with raw_http() as http:
            sessions = [await _open(http, cluster, ALICE) for _ in range(4)]
            owners = [_owner_index(cluster, await s.child_pid()) for s in sessions]
            survivors = [s for s, o in zip(sessions, owners, strict=True) if o == 1]
            assert survivors, "every session opened on replica 0"
            stop = asyncio.Event()
            failures: list[str] = []
            calls = [0]

            async def load(session: RawSession) -> None:
                while not stop.is_set():
                    reply = await session.call_tool("echo", {"text": "under load"})
                    calls[0] += 1
                    if session.last_status != 200 or "result" not in reply:
                        failures.append(f"{session.last_status}: {reply}")

            # A connection per request: nginx's reload closes idle client connections, and
            # that race is between nginx and its clients, not the gates.
            fresh = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))
            survivors = [RawSession(fresh, s.url, s.headers, s.session_id) for s in survivors]
            workers = [asyncio.create_task(load(s)) for s in survivors for _ in range(2)]
            await wait_until(lambda: calls[0] >= 20, "load running")

            async def probe() -> None:
                async with http.get(f"{cluster.url}/health") as response:
                    await response.read()

            # As on Kubernetes: the pod leaves the Service, then gets SIGTERM, while
            # requests it relays are still running.
            await cluster.leave_balancer(0, probe)
            cluster.signal(0, signal.SIGTERM)
            await cluster.wait_until_gone(0)
            before = calls[0]
            await wait_until(lambda: calls[0] >= before + 20, "load after the stop")
            stop.set()
            await asyncio.gather(*workers)
            await fresh.close()
        assert failures == []


async def test_a_forged_stale_or_replayed_hop_is_refused_with_403(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """Policy (docs/deploy.md): the internal listener serves only signed, fresh, first-seen
    hops; anything else is 403 and logged."""
    with gate_cluster({"py": py_stdio_document()}, redis_server, tmp_path) as cluster:
        document = cluster.config_paths[0].read_text()
        internal = document.split('"internalAddr": "')[1].split('"')[0]
        url = f"http://{internal}/py/mcp"
        body = b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
        alice = Caller(Principal.service("py"))
        key = HopKey.from_secret(JWT_SECRET.encode())
        replica = _replica_id(cluster.gates[0].log_path)
        genuine = key.sign(replica, "POST", "/py/mcp", alice)
        elsewhere = key.sign("another-replica", "POST", "/py/mcp", alice)
        forged = {**genuine, HOP_HEADER: genuine[HOP_HEADER][:-4] + "AAAA"}
        stale = HopKey(key.key, clock=lambda: 1_000_000.0).sign(replica, "POST", "/py/mcp", alice)
        json_headers = {"Content-Type": "application/json", "Accept": "application/json"}
        statuses = []
        async with raw_http() as http:
            for headers in ({}, forged, elsewhere, stale, genuine, genuine):
                async with http.post(url, data=body, headers={**json_headers, **headers}) as r:
                    statuses.append(r.status)
        # The genuine hop names no session: the owner answers as it would any client (400).
        assert statuses == [403, 403, 403, 403, 400, 403]
        reasons = ("missing or oversized", "bad hop signature", "stale hop", "replayed hop")
        # The gate writes its log lines at the end of an event-loop turn, which may come
        # just after the response reached us.
        for _ in range(50):
            log = cluster.gates[0].log_path.read_text()
            if all(reason in log for reason in reasons):
                break
            await asyncio.sleep(0.05)
        for reason in reasons:
            assert reason in log


async def test_max_per_user_counts_the_sessions_of_every_replica(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """`maxPerUser` counts across replicas; a closed session frees its place."""
    servers = {"py": py_stdio_document()}
    with gate_cluster(servers, redis_server, tmp_path, sessions={"maxPerUser": 2}) as cluster:
        async with raw_http() as http:
            first = await _open(http, cluster, ALICE)
            second = await _open(http, cluster, ALICE)
            owners = {_owner_index(cluster, await s.child_pid()) for s in (first, second)}
            assert owners == {0, 1}
            third = RawSession(http, first.url, ALICE)
            await third.initialize()
            assert third.last_status == 429
            assert await first.delete() == 200
            assert "result" in await (await _open(http, cluster, ALICE)).request("tools/list")
