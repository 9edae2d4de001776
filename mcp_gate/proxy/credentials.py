"""Filling configured values that may carry the calling user's token (`$userToken`).

A server's `url`, `headers`, `args` and `env` are plain strings, configured secrets, or
`{$userToken: "...{{token}}..."}` templates. Rendering one needs the user's stored token for
that server; without it the request cannot go to the backend at all.
"""

from __future__ import annotations

from collections.abc import Mapping

from mcp_gate.config.model import Secret, Templated, UserTokenTemplate
from mcp_gate.errors import GateError


class MissingUserTokenError(GateError):
    """The server needs the calling user's token and the user has not stored one."""

    def __init__(self, server: str) -> None:
        self.server = server
        super().__init__(f"server {server!r} needs your token")


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
