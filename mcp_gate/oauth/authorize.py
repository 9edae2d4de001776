"""Validating an authorization request and building authorization responses.

RFC 6749 §4.1.2.1 / OAuth 2.1 §4.1.2.1 split the failures in two: when the client or its
redirect URI cannot be trusted, the user sees an error page and nothing is sent anywhere
(`UntrustedRequestError`); every other failure goes back to the client's redirect URI as
`error=…` (`RedirectedError`). Every response to the client carries `iss` (RFC 9207 §2,
success and error alike) and echoes `state` unchanged (RFC 6749 §4.1.2).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from mcp_gate.errors import GateError, OAuthError
from mcp_gate.oauth.errors import InvalidRequest, UnsupportedResponseType
from mcp_gate.oauth.models import Client, PendingAuthorization
from mcp_gate.oauth.pkce import parse_challenge
from mcp_gate.oauth.redirect_uris import redirect_uri_matches
from mcp_gate.oauth.resources import ResourceIndex
from mcp_gate.oauth.scopes import ServerScopes

# policy: `state` is opaque (RFC 6749 §4.1.1) but echoed and carried through the consent
# page; clients send tens of characters, so this bounds what a request can make us carry.
STATE_MAX_CHARS = 2048


class UntrustedRequestError(GateError):
    """The request cannot be answered by redirect: show `message` to the user."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class RedirectedError(GateError):
    """An OAuth error to deliver at the client's redirect URI."""

    def __init__(self, error: OAuthError, redirect_uri: str, state: str | None) -> None:
        self.error = error
        self.redirect_uri = redirect_uri
        self.state = state
        super().__init__(str(error))


def choose_redirect_uri(client: Client, presented: str | None) -> str:
    """The redirect URI to answer at: the presented one if registered (RFC 8252 §7.3 port
    rule for loopback), or the only registered one when none was presented (RFC 6749
    §3.1.2.3)."""
    if presented is None:
        if len(client.redirect_uris) == 1:
            return client.redirect_uris[0]
        raise UntrustedRequestError("The application did not say where to send you back.")
    if not redirect_uri_matches(client.redirect_uris, presented):
        raise UntrustedRequestError(
            "The application asked to send you to an address it did not register. "
            "Nothing was sent; this can be an attempt to steal your sign-in."
        )
    return presented


def parse_authorization_request(
    params: Mapping[str, str],
    client: Client,
    resources: ResourceIndex,
    *,
    now: float,
    scopes: ServerScopes | None = None,
) -> PendingAuthorization:
    """The request as validated; its `scope` is `mcp` and the server's extra scopes asked
    for (scopes.py), narrowed to what the user may hold only once the user is known."""
    if "authorization_code" not in client.grant_types:
        # RFC 6749 §4.4: a client_credentials client acts for itself, never for a user.
        raise UntrustedRequestError(
            "This application is a machine client: it gets its tokens without anyone "
            "signing in, so it cannot sign you in here."
        )
    redirect_uri = choose_redirect_uri(client, params.get("redirect_uri"))
    state = params.get("state")
    if state is not None and len(state) > STATE_MAX_CHARS:
        too_long = InvalidRequest(f"state is longer than {STATE_MAX_CHARS} characters")
        raise RedirectedError(too_long, redirect_uri, None)
    try:
        if params.get("response_type") != "code":
            raise UnsupportedResponseType("response_type must be code")
        if "request" in params or "request_uri" in params:
            raise InvalidRequest("request objects are not supported")
        challenge = parse_challenge(
            params.get("code_challenge"), params.get("code_challenge_method")
        )
        resource, server = resources.resolve(params.get("resource"))
    except OAuthError as exc:
        raise RedirectedError(exc, redirect_uri, state) from None
    return PendingAuthorization(
        id=secrets.token_urlsafe(24),
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        code_challenge=challenge,
        state=state,
        scope=(scopes or ServerScopes()).requested(server, params.get("scope")),
        resource=resource,
        server=server,
        created_at=now,
    )


def build_redirect(redirect_uri: str, params: Mapping[str, str | None]) -> str:
    """The redirect URI with `params` added to its query (RFC 6749 §3.1.2: keep the query)."""
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.extend((k, v) for k, v in params.items() if v is not None)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def success_redirect(pending: PendingAuthorization, code: str, issuer: str) -> str:
    return build_redirect(
        pending.redirect_uri, {"code": code, "state": pending.state, "iss": issuer}
    )


def error_redirect(redirect_uri: str, error: OAuthError, state: str | None, issuer: str) -> str:
    return build_redirect(
        redirect_uri,
        {
            "error": error.error,
            "error_description": error.description or None,
            "state": state,
            "iss": issuer,
        },
    )
