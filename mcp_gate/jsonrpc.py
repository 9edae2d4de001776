"""JSON-RPC 2.0 message shapes as MCP uses them: parse, classify, build errors.

Pure functions over decoded JSON; no I/O. A message body may be one object or, in MCP
2025-03-26, a batch array (JSON-RPC 2.0 §6), so parsing always yields a list.
Parsing is strict (`strict_json.py`), for messages from clients and backends alike: a
message that two parsers could read differently is refused, not guessed at. That covers
repeated member names, and a key of the message or of its `params` that is not exactly a
protocol key but folds to one (`"Method"`, `"param\u017f"`: Go's encoding/json reads
those as `method` and `params`); and a batch whose requests share an id, since the answers
could not be told apart.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Literal

from mcp_gate.strict_json import AmbiguousJsonError, MalformedJsonError, ProtocolKeys, decode

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


# JSON-RPC 2.0 §4 and §5: the members of a message object.
MESSAGE_KEYS = ProtocolKeys("jsonrpc", "id", "method", "params", "result", "error")
# The `params` members of MCP's requests and notifications (MCP schema 2025-11-25 and
# 2026-07-28): the tool filter reads `name`; every one is a key some backend acts on.
PARAMS_KEYS = ProtocolKeys(
    *("_meta", "name", "arguments", "uri", "cursor", "protocolVersion", "capabilities"),
    *("clientInfo", "level", "ref", "argument", "context", "requestId", "reason", "task"),
    *("taskId", "progressToken", "progress", "total", "message"),
)


def parse_messages(body: bytes | str) -> tuple[list[Message], bool]:
    """Decode a POST body into messages; the flag says whether it was a batch array."""
    try:
        decoded = decode(body)
    except MalformedJsonError as exc:
        raise InvalidMessageError(f"body is not valid JSON: {exc}", PARSE_ERROR) from None
    except AmbiguousJsonError as exc:
        raise InvalidMessageError(str(exc), INVALID_REQUEST) from None
    is_batch = isinstance(decoded, list)
    messages: list[Any] = decoded if isinstance(decoded, list) else [decoded]
    if not messages or not all(isinstance(m, dict) for m in messages):
        raise InvalidMessageError(
            "body must be a JSON-RPC message object or a non-empty array", INVALID_REQUEST
        )
    for message in messages:
        _refuse_look_alike_keys(message)
    if len(messages) > 1 and (repeated := _repeated_request_id(messages)) is not None:
        # JSON-RPC 2.0 §6: the answers of a batch are matched to its requests by id.
        raise InvalidMessageError(
            f"two requests of the batch share the id {repeated!r}", INVALID_REQUEST
        )
    return messages, is_batch


def _refuse_look_alike_keys(message: Message) -> None:
    params = message.get("params")
    for members, keys in ((message, MESSAGE_KEYS), (params, PARAMS_KEYS)):
        if isinstance(members, dict) and (key := keys.look_alike(members)) is not None:
            raise InvalidMessageError(
                f"key {key!r} is not a protocol key but reads as one to some parsers",
                INVALID_REQUEST,
            )


def _repeated_request_id(messages: list[Message]) -> object | None:
    ids = Counter(_hashable(m["id"]) for m in messages if is_request(m))
    return next((i for i, n in ids.items() if n > 1), None)


def _hashable(value: object) -> object:
    return value if isinstance(value, str | int | float) else json.dumps(value)


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
    """Compact UTF-8 JSON; text holding a lone surrogate (legal in JSON's `\\u` escapes,
    not in UTF-8) keeps it escaped."""
    try:
        return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return json.dumps(message, separators=(",", ":")).encode()
