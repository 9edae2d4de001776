"""Whether a request's mirrored headers (`Mcp-Method`, `Mcp-Name`) agree with its body.

MCP 2026-07-28 transports §Streamable HTTP makes clients copy the method, and the tool,
prompt or resource a request names, into headers, so intermediaries can route on them; a
server rejects a request whose headers and body disagree with 400 and JSON-RPC error
-32020. The gate judges tools on the body it parsed; a backend, or a proxy behind the
gate, may judge on the headers, so where the gate judges it also refuses a disagreement
(an intermediary that authorizes per tool must not let the two tell different stories).
Values may be sent in the `=?base64?...?=` form. Pure: headers and parsed messages in.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from mcp_gate.jsonrpc import Message

HEADER_MISMATCH = -32020  # MCP 2026-07-28 transports: header/body mismatch
METHOD_HEADER = "Mcp-Method"
NAME_HEADER = "Mcp-Name"
VERSION_HEADER = "MCP-Protocol-Version"
# The first version whose requests must carry the mirrored headers.
MIRRORING_VERSION = "2026-07-28"
# Which body field `Mcp-Name` mirrors, by method.
_NAMED_BY = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
_SENTINEL_PREFIX, _SENTINEL_SUFFIX = "=?base64?", "?="


def decode_header_value(value: str) -> str | None:
    """A mirrored header's value, its `=?base64?...?=` form decoded; None if malformed."""
    if not (value.startswith(_SENTINEL_PREFIX) and value.endswith(_SENTINEL_SUFFIX)):
        return value
    encoded = value[len(_SENTINEL_PREFIX) : -len(_SENTINEL_SUFFIX)]
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def header_mismatch(headers: Mapping[str, str], messages: list[Message]) -> str | None:
    """What disagrees between the headers and the body; None when nothing does."""
    version = headers.get(VERSION_HEADER, "")
    mirroring = version >= MIRRORING_VERSION  # ISO dates compare as strings
    method_header = headers.get(METHOD_HEADER)
    requests = [m for m in messages if isinstance(m.get("method"), str)]
    if method_header is None:
        return f"{METHOD_HEADER} is required" if mirroring and requests else None
    method = decode_header_value(method_header)
    for message in requests:
        if message["method"] != method:
            return f"{METHOD_HEADER} says {method!r}, the body {message['method']!r}"
        field = _NAMED_BY.get(message["method"])
        if field is None:
            continue
        params = message.get("params")
        named = params.get(field) if isinstance(params, dict) else None
        name_header = headers.get(NAME_HEADER)
        if name_header is None:
            if mirroring:
                return f"{NAME_HEADER} is required for {message['method']}"
            continue
        name = decode_header_value(name_header)
        if name != named:
            return f"{NAME_HEADER} says {name!r}, the body names {named!r}"
    return None
