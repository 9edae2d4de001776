"""Every front by remote backend by real server, walked through the gate by the SDK client.

Fronts: streamable HTTP (`/<name>/mcp`) and legacy HTTP+SSE (`/<name>/sse`). Backends: the
Python SDK server and npm server-everything, each over streamable HTTP and over legacy SSE.
Same-transport pairs are byte pass-throughs; cross-transport pairs go through the bridge.
The walk (tests/fixtures/mcp_clients.py) covers initialize, tools/list, tools/call, a
resource read, progress notifications and a sampling request answered by the client.
"""

from __future__ import annotations

import asyncio

import pytest

from mcp_gate.config.model import GateConfig
from tests.fixtures.gate import make_config, remote, running_gate
from tests.fixtures.mcp_clients import (
    EVERYTHING_SERVER,
    PY_SERVER,
    ServerProfile,
    conformance_walk,
    sse_client,
    streamable_client,
)
from tests.fixtures.mcp_servers import RunningServer
from tests.fixtures.proxy_probes import RemoteTransport, ServerKind, backend_for

MODERN = "2026-07-28"
HANDSHAKE = "2025-11-25"
PROFILES: dict[ServerKind, ServerProfile] = {"py": PY_SERVER, "everything": EVERYTHING_SERVER}

SERVERS = pytest.mark.parametrize("server", ["py", "everything"])
BACKENDS = pytest.mark.parametrize("transport", ["streamable-http", "sse"])


def _gate_config(backend: RunningServer, transport: RemoteTransport) -> GateConfig:
    return make_config({"tools": remote("tools", transport, backend.url)})


@SERVERS
@BACKENDS
async def test_legacy_sse_front_walks_every_backend(
    server: ServerKind, transport: RemoteTransport, request: pytest.FixtureRequest
) -> None:
    """docs/routes.md: `/<name>/sse` serves every backend type (pass-through or bridged)."""
    backend = backend_for(request, server, transport)
    async with (
        running_gate(_gate_config(backend, transport)) as gate,
        sse_client(gate.url("/tools/sse")) as client,
    ):
        walk = await conformance_walk(client, PROFILES[server])
    assert walk.problems == ()
    assert walk.protocol_version == HANDSHAKE


@SERVERS
@BACKENDS
async def test_streamable_front_in_legacy_mode_walks_every_backend(
    server: ServerKind, transport: RemoteTransport, request: pytest.FixtureRequest
) -> None:
    """docs/routes.md: `/<name>/mcp` serves every backend type to an `initialize` client."""
    backend = backend_for(request, server, transport)
    async with (
        running_gate(_gate_config(backend, transport)) as gate,
        streamable_client(gate.url("/tools/mcp"), mode="legacy") as client,
    ):
        walk = await conformance_walk(client, PROFILES[server])
    assert walk.problems == ()
    assert walk.protocol_version == HANDSHAKE


@pytest.mark.parametrize(
    ("server", "transport", "expected_version"),
    [
        # The dual-era Python server answers server/discover through the pass-through.
        ("py", "streamable-http", MODERN),
        # The bridge speaks the handshake era only: its 400 -32022 makes the client fall back.
        ("py", "sse", HANDSHAKE),
        # server-everything refuses discover itself; the gate passes its 400 through.
        ("everything", "streamable-http", HANDSHAKE),
        ("everything", "sse", HANDSHAKE),
    ],
)
async def test_streamable_front_in_auto_mode_ends_in_a_working_session(
    server: ServerKind,
    transport: RemoteTransport,
    expected_version: str,
    request: pytest.FixtureRequest,
) -> None:
    """MCP 2026-07-28 versioning: the Python SDK's default "auto" probes 2026-07-28 and falls back
    on 4xx bodies."""
    backend = backend_for(request, server, transport)
    async with (
        running_gate(_gate_config(backend, transport)) as gate,
        streamable_client(gate.url("/tools/mcp")) as client,
    ):
        walk = await conformance_walk(client, PROFILES[server])
    assert walk.problems == ()
    assert walk.protocol_version == expected_version


async def test_stateless_backend_walks_on_the_2026_protocol_through_the_pass_through(
    py_stateless_streamable_server: RunningServer,
) -> None:
    """MCP 2026-07-28: no session at all; sampling rides InputRequiredResult rounds."""
    config = make_config(
        {"tools": remote("tools", "streamable-http", py_stateless_streamable_server.url)}
    )
    async with running_gate(config) as gate, streamable_client(gate.url("/tools/mcp")) as client:
        walk = await conformance_walk(client, PY_SERVER)
    assert walk.problems == ()
    assert walk.protocol_version == MODERN


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
async def test_two_clients_of_one_server_get_separate_sessions(
    transport: RemoteTransport, request: pytest.FixtureRequest
) -> None:
    """Each client's session is its own: two concurrent walks through one gate both pass."""
    backend = backend_for(request, "py", transport)
    async with (
        running_gate(_gate_config(backend, transport)) as gate,
        streamable_client(gate.url("/tools/mcp"), mode="legacy") as first,
        sse_client(gate.url("/tools/sse")) as second,
    ):
        walks = await asyncio.gather(
            conformance_walk(first, PY_SERVER), conformance_walk(second, PY_SERVER)
        )
    assert [walk.problems for walk in walks] == [(), ()]
