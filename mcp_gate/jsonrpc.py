"""JSON-RPC 2.0 message shapes as MCP uses them: parse, classify, build errors.

Pure functions over decoded JSON; no I/O. A message body may be one object or, in MCP
2025-03-26, a batch array (JSON-RPC 2.0 §6), so parsing always yields a list.
"""

from __future__ import annotations

import json
from typing import Any, Literal

Message = dict[str, Any]
RequestId = str | int

# JSON-RPC 2.0 §5.1 and MCP error codes.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INTERNAL_ERROR = -32603
CONNECTION_CLOSED = -32000
UNSUPPORTED_PROTOCOL_VERSION = -32022  # MCP 2026-07-28 versioning

# MCP protocol revisions that negotiate with `initialize` (the session era).
HANDSHAKE_PROTOCOL_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")


class InvalidMessageError(ValueError):
    """The body is not JSON-RPC: not JSON (`code` -32700), or JSON that is not a message
    object or a non-empty array of them (-32600, JSON-RPC 2.0 §5.1)."""

    def __init__(self, reason: str, code: int) -> None:
        self.code = code
        super().__init__(reason)


def parse_messages(body: bytes) -> tuple[list[Message], bool]:
    """Decode a POST body into messages; the flag says whether it was a batch array."""
    try:
        decoded = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise InvalidMessageError(f"body is not valid JSON: {reason}", PARSE_ERROR) from None
    is_batch = isinstance(decoded, list)
    messages = decoded if is_batch else [decoded]
    if not messages or not all(isinstance(m, dict) for m in messages):
        raise InvalidMessageError(
            "body must be a JSON-RPC message object or a non-empty array", INVALID_REQUEST
        )
    return messages, is_batch


MessageKind = Literal["request", "notification", "response"]


def kind_of(message: Message) -> MessageKind:
    if "method" in message:
        return "request" if "id" in message else "notification"
    return "response"


def is_request(message: Message) -> bool:
    return "method" in message and "id" in message


def progress_token_of(message: Message) -> object | None:
    """The `_meta.progressToken` a request asks progress notifications to carry."""
    params = message.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    return meta.get("progressToken") if isinstance(meta, dict) else None


def error_response(
    request_id: RequestId | None, code: int, message: str, data: object = None
) -> Message:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


def dumps(message: Message | list[Message]) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
