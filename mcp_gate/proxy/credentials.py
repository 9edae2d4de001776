"""Filling configured values that may carry the calling user's token (`$userToken`).

A server's `url`, `headers`, `args` and `env` are plain strings, configured secrets, or
`{$userToken: "...{{token}}..."}` templates. Rendering one needs the user's stored token for
that server; without it the request cannot go to the backend at all.
A user's token is the user's input, and a `url` must not let it choose where the request
goes: in a URL the token is percent-encoded (RFC 3986 §2.1, every byte but the unreserved
ones), so `/ ? # @ & :` stay inside its path segment, query value or userinfo; the config
refuses `{{token}}` in the host or port (`servers_schema.py`); and a rendered URL whose
origin or path shape differs from the template's (a token of `..`) is refused
(`UnusableUserTokenError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from mcp_gate.config.model import Secret, Templated, UserTokenTemplate
from mcp_gate.errors import GateError
from mcp_gate.proxy.origins import url_shape

# What the template is rendered with to learn its own shape.
_SAMPLE_TOKEN = "token"  # noqa: S105 (a stand-in value, not a secret)


class MissingUserTokenError(GateError):
    """The server needs the calling user's token and the user has not stored one."""

    def __init__(self, server: str) -> None:
        self.server = server
        super().__init__(f"server {server!r} needs your token")


class UnusableUserTokenError(GateError):
    """The user's token, put in the server's URL, would change where the request goes."""

    def __init__(self, server: str) -> None:
        self.server = server
        super().__init__(f"your token for server {server!r} cannot be used in its URL")


def render_url(value: Templated, server: str, user_token: str | None) -> str:
    """The server's URL for this user (see the module docstring for the token's place)."""
    if not isinstance(value, UserTokenTemplate):
        return render_value(value, server, user_token)
    if user_token is None:
        raise MissingUserTokenError(server)
    rendered = value.render(quote(user_token, safe=""))
    if url_shape(rendered) != url_shape(value.render(_SAMPLE_TOKEN)):
        raise UnusableUserTokenError(server)
    return rendered


def render_value(value: Templated, server: str, user_token: str | None) -> str:
    if isinstance(value, UserTokenTemplate):
        if user_token is None:
            raise MissingUserTokenError(server)
        return value.render(user_token)
    if isinstance(value, Secret):
        return value.reveal()
    return value


def render_mapping(
    values: Mapping[str, Templated], server: str, user_token: str | None
) -> dict[str, str]:
    return {name: render_value(v, server, user_token) for name, v in values.items()}


def needs_user_token(values: Mapping[str, Templated] | tuple[Templated, ...]) -> bool:
    items = values.values() if isinstance(values, Mapping) else values
    return any(isinstance(v, UserTokenTemplate) for v in items)
