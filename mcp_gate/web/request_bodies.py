"""Reading the bodies of the gate's form and JSON endpoints: bounded, strictly decoded.

Every such endpoint reads its body through here, with a size cap that fits what it
expects (a token request or a consent form is a few hundred bytes, a client registration
a few KiB), so an oversized body is refused before it is held whole, and a body that is
not UTF-8 or not JSON is a clear 400 rather than a decoder exception.
- `read_form`: `application/x-www-form-urlencoded` (WHATWG URL §5 urlencoded parsing;
  percent-decoded bytes must be UTF-8, as HTML forms send them).
- `read_json`: a JSON document (RFC 8259); duplicates and huge numbers are decoder errors.
Both raise `UnreadableBodyError`; callers turn it into their protocol's error (OAuth
`invalid_request`, a 400 page), and the error middleware answers a plain 400 otherwise.
The MCP routes read theirs with `arrived_body` (and aiohttp's `read()` when it did not
arrive whole), capped at `proxy.maxBodySize`, and parse it strictly themselves.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from mcp_gate.errors import UnreadableBodyError

# policy: the largest form any page or OAuth endpoint of the gate needs (a token request
# with a Client ID Metadata Document URL as client_id and a sealed consent request are the
# longest, well under 4 KiB).
FORM_MAX_BYTES = 16 * 1024
# policy: a client registration document (RFC 7591 §2) of 20 redirect URIs and every
# optional field fits in a few KiB.
JSON_DOCUMENT_MAX_BYTES = 16 * 1024
# policy: a form has few fields; parse_qsl stops at this many.
_FORM_MAX_FIELDS = 64


def arrived_body(request: web.Request, max_bytes: int) -> bytes | None:
    """The whole body when all of it arrived with the head, as most MCP messages do: taken
    from aiohttp's buffer without an await (two fewer coroutines than `request.read()`,
    and no copy). None while more is to come. Past `max_bytes`, the 413 `request.read()`
    raises for `client_max_size`. Either way the body is consumed: `request.read()` after
    it gives b""."""
    payload = request.content
    if not payload.is_eof():
        return None
    body = payload.read_nowait(-1)
    if len(body) > max_bytes:
        raise web.HTTPRequestEntityTooLarge(max_bytes, len(body))
    return body


async def read_bounded(request: web.Request, max_bytes: int) -> bytes:
    """The whole body, or UnreadableBodyError(413) once it passes `max_bytes`."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise UnreadableBodyError(f"the body is larger than {max_bytes} bytes", status=413)
    body = bytearray()
    while chunk := await request.content.read(max_bytes + 1 - len(body)):
        body += chunk
        if len(body) > max_bytes:
            raise UnreadableBodyError(f"the body is larger than {max_bytes} bytes", status=413)
    return bytes(body)


async def read_form(request: web.Request, max_bytes: int = FORM_MAX_BYTES) -> MultiDictProxy[str]:
    """The fields of a url-encoded form body; an empty form for any other content type."""
    if request.content_type != "application/x-www-form-urlencoded":
        return MultiDictProxy(MultiDict())
    body = await read_bounded(request, max_bytes)
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=_FORM_MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise UnreadableBodyError("the form is not url-encoded UTF-8") from None
    return MultiDictProxy(MultiDict(pairs))


async def read_json(request: web.Request, max_bytes: int = JSON_DOCUMENT_MAX_BYTES) -> Any:
    """The decoded JSON body."""
    body = await read_bounded(request, max_bytes)
    try:
        return json.loads(body)
    # ValueError covers JSONDecodeError, UnicodeDecodeError and an integer past Python's
    # digit limit; RecursionError, nesting deeper than the decoder goes.
    except (ValueError, RecursionError):
        raise UnreadableBodyError("the body is not a JSON document") from None
