"""The few responses the gate itself gives on MCP routes, each with a JSON-RPC error body.

Only for the gate's own decisions (unknown session, malformed body, too large); a backend's
failure is never dressed as JSON-RPC (clients read those bodies to choose a protocol era:
MCP 2026-07-28 transports §Streamable HTTP), it gets a plain 502/504.
"""

from __future__ import annotations

from aiohttp import web

from mcp_gate.jsonrpc import INVALID_REQUEST, PARSE_ERROR, dumps, error_response


def jsonrpc_error(status: int, code: int, message: str, data: object = None) -> web.Response:
    return web.Response(
        status=status,
        body=dumps(error_response(None, code, message, data)),
        content_type="application/json",
    )


def session_not_found() -> web.Response:
    # MCP transports §Session Management: 404 tells the client to start a new session.
    return jsonrpc_error(404, INVALID_REQUEST, "Session not found")


def parse_error(reason: str, code: int = PARSE_ERROR) -> web.Response:
    title = "Parse error" if code == PARSE_ERROR else "Invalid Request"
    return jsonrpc_error(400, code, f"{title}: {reason}")


def body_too_large(limit_bytes: int) -> web.Response:
    return jsonrpc_error(413, INVALID_REQUEST, f"Request body exceeds {limit_bytes} bytes")
