"""The benchmark's echo MCP server, as pure JSON-RPC answers (no I/O).

One tool, `echo(text)`, and the handshake around it (`initialize`, `tools/list`, `ping`);
a second, `big(size_bytes)`, answers with a text of that size (scenario 6: large results).
The HTTP backend (`backend.py`) and the stdio server (`stdio_server.py`) both answer with
these functions, so direct and gated runs do the same work on the server side. Kept
minimal on purpose: the benchmark measures what stands between client and server, so the
server must cost as little as possible.
"""

from __future__ import annotations

from typing import Any

Message = dict[str, Any]

# The newest handshake-era revision; the benchmark's clients ask for it.
PROTOCOL_VERSION = "2025-11-25"
METHOD_NOT_FOUND = -32601

_TOOLS = {
    "tools": [
        {
            "name": "echo",
            "description": "Returns its text.",
            "inputSchema": {
                "type": "object",
                "properties": {"text": {"type": "string"}},
                "required": ["text"],
            },
        }
    ]
}


def _initialize_result(params: Message) -> Message:
    return {
        "protocolVersion": params.get("protocolVersion", PROTOCOL_VERSION),
        "capabilities": {"tools": {}},
        "serverInfo": {"name": "bench-echo", "version": "1.0"},
    }


def answer(message: Message) -> Message | None:
    """The response to one message; None for notifications and responses."""
    if "id" not in message or "method" not in message:
        return None
    method, params = message["method"], message.get("params") or {}
    if method == "tools/call":
        arguments = params.get("arguments", {})
        if params.get("name") == "big":
            text = "x" * int(arguments.get("size_bytes", 0))
        else:
            text = str(arguments.get("text", ""))
        result: Message = {"content": [{"type": "text", "text": text}], "isError": False}
    elif method == "tools/list":
        result = _TOOLS
    elif method == "initialize":
        result = _initialize_result(params)
    elif method == "ping":
        result = {}
    else:
        error = {"code": METHOD_NOT_FOUND, "message": f"Method not found: {method}"}
        return {"jsonrpc": "2.0", "id": message["id"], "error": error}
    return {"jsonrpc": "2.0", "id": message["id"], "result": result}


def request(request_id: int, method: str, params: Message | None = None) -> Message:
    """A JSON-RPC request, as the benchmark's clients send them."""
    message: Message = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return message


def initialize_request(request_id: int = 0) -> Message:
    return request(
        request_id,
        "initialize",
        {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "mcp-gate-bench", "version": "1.0"},
        },
    )


INITIALIZED_NOTIFICATION: Message = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def opening(request_id: int) -> list[Message]:
    """What a client sends to open a session, up to its first `tools/list`."""
    return [initialize_request(), INITIALIZED_NOTIFICATION, request(request_id, "tools/list")]


def echo_call(request_id: int, text: str = "hello", tool: str = "echo") -> Message:
    return request(request_id, "tools/call", {"name": tool, "arguments": {"text": text}})


def big_call(request_id: int, size_bytes: int) -> Message:
    arguments = {"size_bytes": size_bytes}
    return request(request_id, "tools/call", {"name": "big", "arguments": arguments})
