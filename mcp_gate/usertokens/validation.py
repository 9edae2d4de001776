"""What a token pasted at /my/tokens must look like before it is stored.

Owns the checks on a pasted value: surrounding whitespace is dropped (a copy from a web
page often carries a newline), the value must be non-empty, bounded, one line of printable
ASCII (it ends up in an HTTP header or a process argument, where a control character would
split it and a non-ASCII one may not be sendable at all), and match the server's
`validation` regex when one is configured. Messages are for the person at the page and
never quote the value.
"""

from __future__ import annotations

import re

from mcp_gate.config.model import UserAuthentication
from mcp_gate.errors import GateError

# policy: real service tokens are a few hundred bytes at most; 8 KiB covers JWTs too.
MAX_TOKEN_LENGTH = 8192


class InvalidUserTokenError(GateError):
    """The pasted value is refused; `message` says why, without quoting it."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def parse_pasted_token(raw: str, authentication: UserAuthentication) -> str:
    """The value to store, or InvalidUserTokenError."""
    value = raw.strip()
    if not value:
        raise InvalidUserTokenError("Paste a token first: the field was empty.")
    if len(value) > MAX_TOKEN_LENGTH:
        raise InvalidUserTokenError(
            f"This is longer than {MAX_TOKEN_LENGTH} characters; it is not a token."
        )
    if not (value.isascii() and value.isprintable()):
        raise InvalidUserTokenError(
            "A token is one line of plain (ASCII) characters; this one holds line breaks, "
            "control characters or other symbols."
        )
    pattern = authentication.validation
    # policy: `search`, as mcp-front's Go `regexp.MatchString`; anchor the regex (`^…$`)
    # to match the whole value.
    if pattern is not None and re.search(pattern, value) is None:
        name = authentication.display_name or "this service"
        raise InvalidUserTokenError(
            f"This does not look like a {name} token (expected format: {pattern}). "
            "Check that you copied the whole token."
        )
    return value
