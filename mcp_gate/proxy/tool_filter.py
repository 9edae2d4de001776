"""The per-server tool filter (`options.toolFilter`): which tools clients may see and call.

Pure functions over JSON-RPC messages and SSE events; no I/O, no HTTP. Every front applies
them to every backend type (bridged sessions, the streamable pass-through, the legacy SSE
pass-through), so a filtered tool behaves the same whatever the transports:
- a `tools/call` of a filtered tool is answered by the gate with a JSON-RPC error and never
  reaches the backend (MCP server/tools §Error Handling: an unknown tool is a protocol
  error, -32602);
- a `tools/list` result loses the filtered tools; everything else in it is kept as is.
Callers parse only what the filter needs: requests they already hold, and the responses to
the `tools/list` requests they saw go out (`is_list_request`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from mcp_gate.config.model import ToolFilter
from mcp_gate.jsonrpc import Message, dumps, error_response, kind_of
from mcp_gate.proxy.sse import SseEvent, encode_event

# JSON-RPC 2.0 §5.1 Invalid params; MCP server/tools §Error Handling uses it for unknown tools.
INVALID_PARAMS = -32602


def check_call(tool_filter: ToolFilter, message: Message) -> Message | None:
    """The error response for a `tools/call` of a filtered tool; None when it may pass.

    A call without a tool name is let through in block mode (the backend rejects it) and
    refused in allow mode (nothing unnamed is on an allowlist).
    """
    if message.get("method") != "tools/call":
        return None
    params = message.get("params")
    name = params.get("name") if isinstance(params, dict) else None
    if isinstance(name, str) and tool_filter.allows(name):
        return None
    if name is None and tool_filter.mode == "block":
        return None
    return error_response(
        message.get("id"),
        INVALID_PARAMS,
        f"Unknown tool: {name} (not available through this gate)",
    )


def is_list_request(message: Message) -> bool:
    return message.get("method") == "tools/list" and "id" in message


def list_request_ids(messages: Iterable[Message]) -> set[object]:
    """Ids of the `tools/list` requests among `messages`: their responses get filtered."""
    return {m["id"] for m in messages if is_list_request(m)}


def filter_list_result(tool_filter: ToolFilter, message: Message) -> Message:
    """A `tools/list` response without the filtered tools (anything else: unchanged)."""
    result = message.get("result")
    if not isinstance(result, dict) or not isinstance(result.get("tools"), list):
        return message
    tools = [
        tool
        for tool in result["tools"]
        if isinstance(tool, dict)
        and isinstance(tool.get("name"), str)
        and tool_filter.allows(tool["name"])
    ]
    return {**message, "result": {**result, "tools": tools}}


def _answers(message: Message, list_ids: set[object]) -> bool:
    request_id = message.get("id")
    return (
        kind_of(message) == "response"
        and isinstance(request_id, str | int | float)
        and request_id in list_ids
    )


def filter_response(tool_filter: ToolFilter, message: Message, list_ids: set[object]) -> Message:
    """Filter `message` if it answers one of `list_ids` (and forget that id)."""
    if not _answers(message, list_ids):
        return message
    list_ids.discard(message.get("id"))
    return filter_list_result(tool_filter, message)


def filter_json_body(tool_filter: ToolFilter, body: bytes, list_ids: set[object]) -> bytes:
    """A JSON response body (one message or a batch) with its tools/list results filtered."""
    try:
        decoded = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return body
    if isinstance(decoded, dict):
        return dumps(filter_response(tool_filter, decoded, list_ids))
    if isinstance(decoded, list) and all(isinstance(m, dict) for m in decoded):
        return dumps([filter_response(tool_filter, m, list_ids) for m in decoded])
    return body


def filter_event(tool_filter: ToolFilter, event: SseEvent, list_ids: set[object]) -> bytes:
    """The bytes to relay for one SSE event: its raw bytes, unless it carries the response
    to one of `list_ids`, which is re-encoded filtered (same id and event name)."""
    if not list_ids or event.event != "message" or not event.data:
        return event.raw
    try:
        message = json.loads(event.data)
    except json.JSONDecodeError:
        return event.raw
    if not isinstance(message, dict) or not _answers(message, list_ids):
        return event.raw
    filtered = filter_response(tool_filter, message, list_ids)
    return encode_event(dumps(filtered).decode(), event=event.event, event_id=event.id)
