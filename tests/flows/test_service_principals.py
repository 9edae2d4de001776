"""A `serviceAuths` credential acts as the principal `service:<name>`, through the gate."""

from __future__ import annotations

from mcp_gate.appkeys import SESSIONS
from mcp_gate.config.model import Secret, ServiceAuth
from mcp_gate.principal import Principal
from tests.fixtures.gate import make_config, remote, running_gate
from tests.fixtures.mcp_servers import RunningServer
from tests.fixtures.oauth_client import mcp_initialize


async def test_named_service_token_opens_sessions_as_service_principal(
    py_sse_server: RunningServer,
):
    """policy: the MCP session of a `name: ci-bot` token belongs to `service:ci-bot`."""
    auth = ServiceAuth("bearer", tokens=(Secret("ci-token-a"), Secret("ci-token-b")), name="ci-bot")
    # A legacy backend behind the streamable front: a bridged session, which the gate keeps.
    server = remote("legacy", "sse", py_sse_server.url, service_auths=(auth,))
    async with running_gate(make_config({"legacy": server})) as gate:
        answer = await mcp_initialize(gate.url("/legacy/mcp"), "ci-token-b")
        assert answer.status == 200
        session_id = answer.headers["Mcp-Session-Id"]
        sessions = gate.app[SESSIONS]
        assert sessions.find(session_id, Principal.service("ci-bot#2"), "legacy") is not None
        assert sessions.find(session_id, Principal.service("ci-bot"), "legacy") is None
