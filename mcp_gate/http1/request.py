"""The bytes of an HTTP/1.1 request head (RFC 9112 §3 request line, §5 field lines).

Pure. The head is built from the caller's headers as given (order, spelling, repeats), plus
`Host` when the caller gave none and `Content-Length` for the body: framing is this
client's job, so framing fields the caller passes are dropped. Nothing that could end a line
or the head early reaches the wire: a method or field name that is not a token, or a field
value holding CR, LF or NUL, is refused with ValueError (whose message names the field but
never its value, which can be a secret). Never writes, never reads a socket.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

Headers = Mapping[str, str] | Iterable[tuple[str, str]]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 §5.6.2
# The client frames the body itself (RFC 9112 §6.2, §6.1); a caller's Content-Length that
# disagreed with the body would desynchronise the connection.
_FRAMING_FIELDS = frozenset({"content-length", "transfer-encoding"})
# RFC 9110 §8.6: a user agent SHOULD send Content-Length when the method defines a meaning
# for enclosed content, even when that content is empty.
_METHODS_WITH_CONTENT = frozenset({"POST", "PUT", "PATCH"})
# Tokens already (RFC 9110 §9.3): no need to match them again on every request.
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"})


_FRAMING, _HOST, _AUTHORIZATION, _OTHER = "framing", "host", "authorization", "other"
_roles: dict[str, str] = {}
# Remembered per spelling, bounded: few names recur, but callers may pass any.
_ROLES_KEPT = 1024


def _role(name: str) -> str:
    """What a header name means to the framing; ValueError when it is not a token."""
    role = _roles.get(name)
    if role is not None:
        return role
    if not _TOKEN.fullmatch(name):
        raise ValueError("a request header name is not an RFC 9110 token")
    lower = name.lower()
    if lower in _FRAMING_FIELDS:
        role = _FRAMING
    elif lower == "host":
        role = _HOST
    elif lower == "authorization":
        role = _AUTHORIZATION
    else:
        role = _OTHER
    if len(_roles) < _ROLES_KEPT:
        _roles[name] = role
    return role


def header_pairs(headers: Headers) -> Iterable[tuple[str, str]]:
    """Every (name, value) pair, repeats included (a multidict's `items()` has them all)."""
    if isinstance(headers, list | tuple):  # the common case, without an ABC check
        return headers
    if isinstance(headers, Mapping):
        return headers.items()
    return headers


def build_request_head(
    method: str,
    target: str,
    host: str,
    headers: Headers,
    body_length: int | None,
    authorization: str | None = None,
) -> bytes:
    """The request line and header section, ending with the empty line."""
    if method not in _KNOWN_METHODS and not _TOKEN.fullmatch(method):
        raise ValueError("the request method is not an RFC 9110 token")
    lines = [f"{method} {target} HTTP/1.1", ""]  # [1] is the Host line, filled below
    has_authorization = False
    for name, value in header_pairs(headers):
        role = _roles.get(name) or _role(name)
        if role is _OTHER:
            lines.append(f"{name}: {value}")
        elif role is _HOST:
            lines[1] = f"{name}: {value}"
        elif role is _AUTHORIZATION:
            has_authorization = True
            lines.append(f"{name}: {value}")
        # (_FRAMING: left out)
    if not lines[1]:
        # RFC 9110 §7.2: a user agent SHOULD send Host as the first field line.
        lines[1] = f"Host: {host}"
    if authorization is not None and not has_authorization:
        lines.append(f"Authorization: {authorization}")
    if body_length is not None:
        lines.append(f"Content-Length: {body_length}")
    elif method in _METHODS_WITH_CONTENT:
        lines.append("Content-Length: 0")
    # RFC 9110 §5.5: CR, LF and NUL are never valid in a field value. The lines joined
    # without their separators are searched for them at C speed (memchr).
    unbroken = "".join(lines)
    if "\n" in unbroken or "\r" in unbroken or "\x00" in unbroken:
        raise ValueError(_which_value_breaks(lines))
    # Values decoded by aiohttp with surrogateescape go back out as the bytes they came as.
    lines.append("\r\n")
    return "\r\n".join(lines).encode("utf-8", "surrogateescape")


def _which_value_breaks(lines: list[str]) -> str:
    for line in lines[1:]:
        if "\r" in line or "\n" in line or "\x00" in line:
            name = line.split(":", 1)[0]
            return f"request header {name!r} has CR, LF or NUL in its value"
    return "the request target has CR, LF or NUL in it"
