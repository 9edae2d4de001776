"""The token a request to a server carries for its user, or why it has none.

Owns which servers need a user token (`requiresUserToken`, or a `$userToken` template in
`url`, `headers`, `env` or `args`), where the token comes from (the pasted token, or the
access token of the user's service connection, refreshed when due), and the words a user
reads when there is none: each says what to do and, when it is the user's to fix, gives
the full `/my/tokens` URL (docs/config.md `userAuthentication`: the
error carries the URL for the user to follow).
Knows nothing of HTTP or JSON-RPC.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mcp_gate.config.model import ServerConfig, UserTokenTemplate
from mcp_gate.principal import Principal
from mcp_gate.proxy.credentials import UnusableUserTokenError, render_url
from mcp_gate.usertokens.connections import ServiceConnectionLostError, ServiceConnections
from mcp_gate.usertokens.service_oauth import ServiceUnavailableError
from mcp_gate.usertokens.store import UserTokenStore

USER_PREFIX = "user:"


@dataclass(frozen=True)
class UserTokenLookup:
    """The outcome for one request: a token, or the message that replaces the backend."""

    token: str | None = field(default=None, repr=False)
    problem: str | None = None


def needs_user_token(server: ServerConfig) -> bool:
    values = (server.url, *server.headers.values(), *server.env.values(), *server.args)
    return server.requires_user_token or any(isinstance(v, UserTokenTemplate) for v in values)


def subject_of(principal: Principal) -> str | None:
    """The IdP subject of a user principal (`user:<sub>`); None for anyone else."""
    if principal.kind != "user":
        return None
    return principal.id.removeprefix(USER_PREFIX)


def display_name(server: ServerConfig) -> str:
    authentication = server.user_authentication
    return (authentication.display_name if authentication else "") or server.name


async def look_up_user_token(
    tokens: UserTokenStore,
    connections: ServiceConnections,
    principal: Principal,
    server: ServerConfig,
    page_url: str,
) -> UserTokenLookup:
    """The calling user's token for `server`; `page_url` is the full /my/tokens URL."""
    name = display_name(server)
    subject = subject_of(principal)
    if subject is None:
        return UserTokenLookup(
            problem=f"{name} needs each person's own token, and a service credential has "
            "none: sign in as a user to use this server."
        )
    authentication = server.user_authentication
    if authentication is None or authentication.type == "manual":
        saved = await tokens.load(subject, server.name)
        if saved is not None:
            return _fitting(server, saved.value, page_url)
        return UserTokenLookup(
            problem=f"{name} needs your own token, and you have not set one yet. "
            f"Open {page_url} to set it, then try again."
        )
    try:
        access_token = await connections.access_token(subject, server.name, authentication)
    except ServiceConnectionLostError:
        return UserTokenLookup(
            problem=f"Your {name} connection was refused or has expired. "
            f"Open {page_url} to reconnect {name}, then try again."
        )
    except ServiceUnavailableError:
        return UserTokenLookup(
            problem=f"{name} did not renew your access just now (its sign-in service is "
            "not answering). Try again in a moment."
        )
    if access_token is None:
        return UserTokenLookup(
            problem=f"{name} needs your {name} account, and it is not connected yet. "
            f"Open {page_url} to connect it, then try again."
        )
    return _fitting(server, access_token, page_url)


def _fitting(server: ServerConfig, token: str, page_url: str) -> UserTokenLookup:
    """The token, unless put in the server's URL it would change where that URL points."""
    if server.url is not None:
        try:
            render_url(server.url, server.name, token)
        except UnusableUserTokenError:
            name = display_name(server)
            return UserTokenLookup(
                problem=f"Your {name} token cannot be used in {name}'s address (a token "
                f"of dots only would change it). Open {page_url} to replace it, then try again."
            )
    return UserTokenLookup(token=token)
