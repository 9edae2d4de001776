"""Tool lists and tool calls judged for one caller: which tools it may see and call.

The judgement is the caller's `ToolAccess` (policy/engine.py): the server's
`options.toolFilter` and its `tools` rules, for this principal and token. Pure functions
over JSON-RPC messages and SSE events; no I/O, no HTTP. Every front applies them to every
backend type (bridged sessions, the streamable pass-through, the legacy SSE pass-through),
so a filtered tool behaves the same whatever the transports:
- a `tools/call` of a tool the caller may not call is answered by the gate with a JSON-RPC
  error and never reaches the backend (MCP server/tools §Error Handling: an unknown tool is
  a protocol error, -32602). The call is judged on the gate's strict parse
  (`jsonrpc.parse_messages` refuses messages that parsers read differently), and what goes
  on is that parse, serialised again (`forwarded_body`), never the client's raw bytes;
- every backend result that holds a `tools` list loses the tools the caller may not call
  (tools it may call after a step-up stay listed), whichever request it answers (a
  `tools/list`, a batch whose ids repeat, a resumed stream's replay); everything else in it
  is kept as is. A backend message the filter cannot read with certainty (malformed JSON,
  keys that fold to `tools` or `name`) is not relayed: `filter_json_body` and
  `filter_event` return None for it.
"""

from __future__ import annotations

from mcp_gate.jsonrpc import InvalidMessageError, Message, dumps, error_response, parse_messages
from mcp_gate.policy.engine import FILTERED, ToolAccess
from mcp_gate.proxy.sse import SseEvent, encode_event
from mcp_gate.strict_json import ProtocolKeys

# JSON-RPC 2.0 §5.1 Invalid params; MCP server/tools §Error Handling uses it for unknown tools.
INVALID_PARAMS = -32602
_RESULT_KEYS = ProtocolKeys("tools", "nextCursor", "_meta")
# MCP schema `Tool`: only `name` decides, the rest must not read as a name to anyone.
_TOOL_KEYS = ProtocolKeys("name")


def tool_name_of(message: Message) -> object:
    """The `params.name` of a `tools/call` (any JSON value; None when absent)."""
    params = message.get("params")
    return params.get("name") if isinstance(params, dict) else None


def check_call(access: ToolAccess, message: Message) -> Message | None:
    """The error response for a `tools/call` the caller may not make; None when it may pass.

    A call without a tool name is let through unless an allowlist filter is set (the
    backend rejects it; nothing unnamed is on an allowlist).
    """
    if message.get("method") != "tools/call":
        return None
    name = tool_name_of(message)
    if isinstance(name, str):
        decision = access.decide(name)
        if decision.verdict == "allowed":
            return None
        if decision.verdict == "forbidden" and decision is not FILTERED:
            text = f"Tool {name} may not be called by you: {decision.reason}"
            return error_response(message.get("id"), INVALID_PARAMS, text, data=_data(name))
        if decision.verdict == "needs_scope":
            text = f"Tool {name} needs the scope {' '.join(decision.scopes)}: authorize again"
            return error_response(message.get("id"), INVALID_PARAMS, text, data=_data(name))
    elif name is None and not access.engine.refuses_unnamed_calls:
        return None
    return error_response(
        message.get("id"),
        INVALID_PARAMS,
        f"Unknown tool: {name} (not available through this gate)",
    )


def missing_scopes(access: ToolAccess, messages: list[Message]) -> tuple[str, ...]:
    """The scopes the caller's token lacks for the tools these messages call, when the
    caller may hold them (a step-up: MCP 2025-11-25 authorization §Scope Challenge
    Handling); () when no call needs one."""
    missing: dict[str, None] = {}
    for message in messages:
        name = tool_name_of(message) if message.get("method") == "tools/call" else None
        if isinstance(name, str):
            missing.update(dict.fromkeys(access.decide(name).scopes))
    return tuple(missing)


def _data(name: str) -> dict[str, object]:
    return {"tool": name}


def forwarded_body(messages: list[Message], is_batch: bool) -> bytes:
    """The body that goes upstream for messages the filter judged: the gate's own parse,
    serialised again, so the backend reads exactly what was checked."""
    return dumps(messages if is_batch else messages[0])


def _is_allowed_tool(access: ToolAccess, tool: object) -> bool:
    if not isinstance(tool, dict) or _TOOL_KEYS.look_alike(tool) is not None:
        return False
    name = tool.get("name")
    return isinstance(name, str) and access.shows(name)


def filter_response(access: ToolAccess, message: Message) -> Message:
    """`message` without the filtered tools, if its result holds a `tools` list."""
    result = message.get("result")
    if not isinstance(result, dict):
        return message
    # A key that folds to `tools` is a tool list to some clients: it does not go through.
    kept = {k: v for k, v in result.items() if not _RESULT_KEYS.is_look_alike(k)}
    tools = kept.get("tools")
    if isinstance(tools, list):
        kept["tools"] = [tool for tool in tools if _is_allowed_tool(access, tool)]
    if len(kept) == len(result) and kept.get("tools") == tools:
        return message  # nothing to hide: the backend's own bytes may go on
    return {**message, "result": kept}


def _replacement(access: ToolAccess, data: bytes | str) -> bytes | None:
    """Backend body or event data with its tool lists filtered; None when nothing changed.
    Raises InvalidMessageError when the data is not JSON-RPC the filter can read."""
    messages, is_batch = parse_messages(data)
    filtered = [filter_response(access, m) for m in messages]
    if all(f is m for f, m in zip(filtered, messages, strict=True)):
        return None
    return dumps(filtered if is_batch else filtered[0])


def filter_json_body(access: ToolAccess, body: bytes) -> bytes | None:
    """A JSON response body (one message or a batch) with its tool lists filtered: the same
    bytes when nothing changed, None when the body is not JSON-RPC the filter can read."""
    try:
        return _replacement(access, body) or body
    except InvalidMessageError:
        return None


def filter_event(access: ToolAccess, event: SseEvent) -> bytes | None:
    """The bytes to relay for one SSE event: its raw bytes, unless it carries a tool list,
    which is re-encoded filtered (same id and event name); None for an unreadable message."""
    if event.event != "message" or not event.data:
        return event.raw
    try:
        replacement = _replacement(access, event.data)
    except InvalidMessageError:
        return None
    if replacement is None:
        return event.raw
    return encode_event(replacement, event=event.event, event_id=event.id)
