"""One MCP request as a front receives it: who calls which server, with which messages.

Built once per request by the MCP handlers (web/mcp_handlers.py) after authentication and
the body's strict parse, and handed whole to the server's front (fronts.py), so nothing
downstream re-derives the principal, the batch flag or the user's token.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from mcp_gate.jsonrpc import Message
from mcp_gate.policy.engine import ToolAccess
from mcp_gate.principal import Principal
from mcp_gate.proxy.headers import SESSION_HEADER
from mcp_gate.proxy.user_credentials import NOT_NEEDED, UserCredential


def legacy_session_id(request: web.Request) -> str | None:
    """The legacy session a `/message` POST names (`sessionId`, or the Python SDK's
    `session_id`)."""
    query = request.query
    return query.get("sessionId") or query.get("session_id")


# Not frozen: one is made for every MCP request, and a frozen dataclass's __init__ spends a
# call per field. Nothing changes one after it is built.
@dataclass(slots=True)
class McpCall:
    request: web.Request
    principal: Principal
    credential: UserCredential = NOT_NEEDED
    # The body as the client sent it and its strict parse; None for GET and DELETE.
    body: bytes | None = None
    messages: list[Message] | None = None
    # The body was a JSON-RPC batch array (MCP 2025-03-26), so the answer is one too.
    is_batch: bool = False
    # The caller's view of the server's tools; None when the server judges none (no
    # `toolFilter`, no `tools` rules), and then the gate decides nothing on bodies.
    tools: ToolAccess | None = None
    # The client address (policy/client_address.py), for per-address quotas.
    client_address: str | None = None

    @property
    def session_id(self) -> str | None:
        """The streamable session this request names (`Mcp-Session-Id`), if any."""
        return self.request.headers.get(SESSION_HEADER)

    @property
    def legacy_session_id(self) -> str | None:
        return legacy_session_id(self.request)
