"""The AS's machine endpoints: /token (RFC 6749 §3.2), /revoke (RFC 7009), /register (RFC 7591),
/introspect (RFC 7662, for `resourceServers`).

Each parses the form or JSON, authenticates the client where the RFC asks, calls the
protocol logic in `oauth/`, and renders JSON with `Cache-Control: no-store` (RFC 6749 §5.1).
OAuth errors become their JSON error responses in the error middleware.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from aiohttp import web

from mcp_gate.appkeys import AUTH, STORE
from mcp_gate.errors import OAuthError, UnreadableBodyError
from mcp_gate.oauth.clients import (
    authenticate_client,
    has_client_credentials,
    parse_client_credentials,
)
from mcp_gate.oauth.errors import (
    InvalidClient,
    InvalidClientMetadata,
    InvalidRequest,
    TooManyRequests,
    UnsupportedGrantType,
)
from mcp_gate.oauth.introspection import introspection_response
from mcp_gate.oauth.metadata import TOKEN_EXCHANGE_GRANT
from mcp_gate.oauth.models import Client
from mcp_gate.oauth.registration import register_client
from mcp_gate.oauth.token_exchange import (
    ACCESS_TOKEN_TYPE,
    is_workload_grant,
    parse_workload_request,
)
from mcp_gate.web.auth_components import AuthComponents
from mcp_gate.web.client_address import client_address_of
from mcp_gate.web.request_bodies import read_form, read_json

log = structlog.get_logger()

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# policy: registrations one address may make per window (reference §5 pitfall 6: rate-limit
# /register; claude.ai registers on every fresh connection, so not too tight).
REGISTRATIONS_PER_WINDOW = 30
REGISTRATION_WINDOW_SECONDS = 3600.0


def _unreadable(error: type[OAuthError], exc: UnreadableBodyError) -> OAuthError:
    oauth_error = error(exc.reason)
    oauth_error.status = exc.status  # 413 for a body over its cap, else the error's 400
    return oauth_error


async def _form(request: web.Request) -> dict[str, str]:
    if request.content_type != "application/x-www-form-urlencoded":
        raise InvalidRequest("send application/x-www-form-urlencoded (RFC 6749 §3.2)")
    try:
        form = await read_form(request)
    except UnreadableBodyError as exc:
        raise _unreadable(InvalidRequest, exc) from None
    repeated = sorted({k for k in form if len(form.getall(k)) > 1})
    if repeated:
        # RFC 6749 §3.2: request parameters MUST NOT be included more than once.
        raise InvalidRequest(f"parameter repeated: {', '.join(repeated)}")
    return dict(form.items())


async def _authenticated_client(
    request: web.Request, auth: AuthComponents, form: dict[str, str]
) -> Client:
    credentials = parse_client_credentials(request.headers.get("Authorization"), form)
    client = await auth.clients.load(credentials.client_id)
    if client is None:
        raise InvalidClient("unknown client")
    by_key = client.token_endpoint_auth_method == "private_key_jwt"  # noqa: S105 - a method
    if credentials.assertion is not None and by_key:
        await auth.client_assertions.verify(client.client_id, credentials.assertion)
    else:
        authenticate_client(client, credentials.method, credentials.secret)
    return client


async def _workload_tokens(
    request: web.Request, auth: AuthComponents, form: dict[str, str]
) -> dict[str, Any]:
    """RFC 8693 token exchange or RFC 7523 §2.1 JWT bearer grant of a workload's JWT.

    policy: the workload's JWT is its credential, so a client is optional (RFC 8693 §2.1
    leaves it to the deployment); one that says who it is must prove it.
    """
    if not auth.trusted_issuers:
        raise UnsupportedGrantType("this gate trusts no workload issuer (trustedIssuers)")
    client_id = ""
    if has_client_credentials(request.headers.get("Authorization"), form):
        client_id = (await _authenticated_client(request, auth, form)).client_id
    workload = parse_workload_request(form)
    principal = await auth.trusted_issuers.accept(workload.token)
    body = await auth.tokens.for_workload(principal, client_id, workload.resource, workload.scope)
    if form.get("grant_type") == TOKEN_EXCHANGE_GRANT:
        body["issued_token_type"] = ACCESS_TOKEN_TYPE  # RFC 8693 §2.2.1: REQUIRED
    log.info("workload_token_issued", principal=principal, client_id=client_id or None)
    return body


async def token(request: web.Request) -> web.Response:
    auth = request.app[AUTH]
    form = await _form(request)
    grant_type = form.get("grant_type")
    if is_workload_grant(grant_type):
        body = await _workload_tokens(request, auth, form)
        return web.json_response(body, headers=_NO_STORE)
    client = await _authenticated_client(request, auth, form)
    if grant_type == "client_credentials":
        body = await auth.tokens.for_client(client, form.get("resource"), form.get("scope"))
    elif grant_type == "authorization_code":
        if not form.get("code"):
            raise InvalidRequest("code is required")
        body = await auth.tokens.exchange_code(
            client,
            form["code"],
            form.get("redirect_uri"),
            form.get("code_verifier"),
            form.get("resource"),
        )
    elif grant_type == "refresh_token":
        if not form.get("refresh_token"):
            raise InvalidRequest("refresh_token is required")
        body = await auth.tokens.refresh(client, form["refresh_token"], form.get("resource"))
    else:
        raise UnsupportedGrantType(
            "grant_type must be authorization_code, refresh_token or client_credentials"
        )
    log.info("tokens_issued", client_id=client.client_id, grant_type=grant_type)
    return web.json_response(body, headers=_NO_STORE)


async def revoke(request: web.Request) -> web.Response:
    auth = request.app[AUTH]
    form = await _form(request)
    client = await _authenticated_client(request, auth, form)
    if not form.get("token"):
        raise InvalidRequest("token is required")
    await auth.tokens.revoke(client, form["token"])
    # RFC 7009 §2.2: 200 whether or not the token was valid.
    return web.Response(status=200, headers=_NO_STORE)


async def introspect(request: web.Request) -> web.Response:
    auth = request.app[AUTH]
    form = await _form(request)
    try:
        credentials = parse_client_credentials(request.headers.get("Authorization"), form)
        server = auth.resource_servers.authenticate(credentials.client_id, credentials.secret)
    except InvalidClient as exc:
        # RFC 7662 §2.1: the caller MUST authenticate; RFC 6749 §5.2: 401 with a challenge.
        return web.json_response(
            {"error": exc.error, "error_description": exc.description},
            status=401,
            headers={**_NO_STORE, "WWW-Authenticate": 'Basic realm="mcp-gate"'},
        )
    if not form.get("token"):
        raise InvalidRequest("token is required (RFC 7662 §2.1)")
    claims = await auth.verifier.introspect(form["token"], server.resource)
    log.info("token_introspected", client_id=server.client_id, active=claims is not None)
    return web.json_response(introspection_response(claims, auth.issuer), headers=_NO_STORE)


async def register(request: web.Request) -> web.Response:
    auth = request.app[AUTH]
    address = str(client_address_of(request) or "unknown")
    count = await request.app[STORE].incr(
        "register_rate", address, ttl_seconds=REGISTRATION_WINDOW_SECONDS
    )
    if count > REGISTRATIONS_PER_WINDOW:
        log.warning("registration_rate_limited", remote=address)
        raise TooManyRequests("too many registrations from this address; try again later")
    try:
        metadata = await read_json(request)
    except UnreadableBodyError as exc:
        raise _unreadable(InvalidClientMetadata, exc) from None
    if not isinstance(metadata, dict):
        raise InvalidClientMetadata("the body must be a JSON object (RFC 7591 §3.1)")
    client, _secret, body = register_client(metadata, now=time.time())
    await auth.clients.save(client)
    log.info("client_registered", client_id=client.client_id, client_name=client.client_name)
    return web.json_response(body, status=201, headers=_NO_STORE)
