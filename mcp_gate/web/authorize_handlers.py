"""The browser leg of the authorization code flow: /authorize, /consent, /oauth/callback.

    client ─▶ /authorize ─▶ /consent (approve) ─▶ IdP login ─▶ /oauth/callback ─▶ client
                 └─ consent remembered for this browser's user ─▶ IdP login ─┘

- /authorize validates the request (oauth/authorize.py). Nothing is stored yet: a browser
  that has not consented goes to /consent with the request sealed in the URL
  (oauth/consent_requests.py).
- /consent names the client, its redirect host and the server, with a CSRF-protected form
  (MCP security best practices §Confused Deputy: per-client consent before the IdP).
- The IdP leg gets its own state, nonce and PKCE (MCP security best practices §Confused
  Deputy), created only after consent, kept server-side, single-use, and bound to the
  browser that began it (cookies.py `bind_login`).
- /oauth/callback first checks that the browser it reaches began that sign-in (else a link
  to the IdP carried to a victim would issue the victim's code to whoever began it: a
  consent splice; or sign the victim in as someone else: login CSRF, RFC 6749 §10.12,
  RFC 9700 §4.7.1); then it verifies the login (idp/), checks that this very user
  consented, makes the grant and the code, and sends the browser back with `code`,
  `state` and `iss`. It never replaces the browser's login session with another user's.
  A state of a browser login to the gate's own pages goes to `session_handlers.py`.
"""

from __future__ import annotations

import time
from dataclasses import replace

import structlog
from aiohttp import web

from mcp_gate.appkeys import AUDIT, AUTH
from mcp_gate.audit import AuditEvent
from mcp_gate.crypto.digest import new_token
from mcp_gate.errors import OAuthError
from mcp_gate.idp.errors import IdpError, LoginRefusedError
from mcp_gate.idp.login_request import LoginRequest
from mcp_gate.oauth.authorize import (
    RedirectedError,
    UntrustedRequestError,
    error_redirect,
    parse_authorization_request,
    success_redirect,
)
from mcp_gate.oauth.errors import AccessDenied
from mcp_gate.oauth.models import AuthorizationCode, LoginAttempt, PendingAuthorization
from mcp_gate.principal import Principal
from mcp_gate.web.auth_components import AuthComponents
from mcp_gate.web.limits import check_address_limit
from mcp_gate.web.pages import page_response, render_consent, render_message
from mcp_gate.web.request_bodies import read_form
from mcp_gate.web.session_handlers import finish_browser_login

log = structlog.get_logger()

_CONSENT_PURPOSE = "consent:"


def _message(
    auth: AuthComponents, status: int, title: str, text: str, hint: str = ""
) -> web.Response:
    return page_response(render_message(title, text, auth.gate_name, hint=hint), status=status)


def _idp_failed(auth: AuthComponents, exc: IdpError) -> web.Response:
    log.error("idp_failed", reason=exc.reason)
    return _message(
        auth,
        502,
        "Sign-in failed",
        "The identity provider could not be reached or answered badly.",
        "Try again in a moment.",
    )


def _expired(auth: AuthComponents) -> web.Response:
    return _message(
        auth,
        400,
        "This sign-in has expired",
        "The sign-in request is unknown or too old.",
        "Start again from your application.",
    )


async def authorize(request: web.Request) -> web.StreamResponse:
    auth = request.app[AUTH]
    await check_address_limit(request, "authorize")
    params = request.query
    try:
        client = await auth.clients.load(params.get("client_id", ""))
    except OAuthError as exc:
        # A Client ID Metadata Document that cannot be fetched or is invalid: the client
        # cannot be trusted with a redirect (RFC 6749 §4.1.2.1).
        return _message(auth, 400, "Unknown application", exc.description or exc.error)
    if client is None:
        return _message(
            auth, 400, "Unknown application", "This application is not registered here."
        )
    try:
        pending = parse_authorization_request(
            params, client, auth.resources, now=time.time(), scopes=auth.scopes
        )
    except UntrustedRequestError as exc:
        return _message(auth, 400, "Sign-in refused", exc.message)
    except RedirectedError as exc:
        raise web.HTTPFound(
            error_redirect(exc.redirect_uri, exc.error, exc.state, auth.issuer)
        ) from None
    log.info("authorization_started", client_id=client.client_id, server=pending.server)
    session = await auth.signed_in(request)
    # policy: a remembered consent covers `mcp` only; an extra scope (a step-up) is shown
    # and approved each time it is asked for.
    if (
        session is not None
        and not auth.scopes.beyond_mcp(pending.scope)
        and await auth.grants.has_consent(session.subject, client.client_id)
    ):
        return await _start_login(request, auth, pending)
    raise web.HTTPFound(_consent_url(auth, pending))


def _consent_url(auth: AuthComponents, pending: PendingAuthorization) -> str:
    return auth.path(f"/consent?request={auth.consent_requests.seal(pending)}")


async def consent_page(request: web.Request) -> web.StreamResponse:
    auth = request.app[AUTH]
    sealed = request.query.get("request", "")
    pending = auth.consent_requests.open(sealed)
    if pending is None:
        return _expired(auth)
    client = await auth.clients.load(pending.client_id)
    if client is None:
        return _expired(auth)
    response = page_response("")
    token = auth.cookies.csrf_token(request, response, _CONSENT_PURPOSE + pending.id)
    response.text = render_consent(
        gate_name=auth.gate_name,
        client_name=client.display_name,
        client_id=client.client_id,
        redirect_uri=pending.redirect_uri,
        server=pending.server,
        scope=pending.scope,
        action=auth.path("/consent"),
        sealed_request=sealed,
        csrf_token=token,
    )
    return response


async def consent_decision(request: web.Request) -> web.StreamResponse:
    auth = request.app[AUTH]
    form = await read_form(request)
    pending = auth.consent_requests.open(form.get("request", ""))
    if pending is None:
        return _expired(auth)
    if not auth.cookies.verify_csrf(request, form.get("csrf", ""), _CONSENT_PURPOSE + pending.id):
        return _message(
            auth,
            403,
            "Request not accepted",
            "This form did not come from this browser's consent page.",
            "Start again from your application.",
        )
    if form.get("decision") != "approve":
        log.info("consent_denied", client_id=pending.client_id)
        _audit_consent(request, "consent_denied", pending)
        denied = AccessDenied("the user denied the request")
        raise web.HTTPSeeOther(
            error_redirect(pending.redirect_uri, denied, pending.state, auth.issuer)
        )
    # Who consented is known only after the login that follows; the line names the request.
    _audit_consent(request, "consent_given", pending)
    return await _start_login(request, auth, replace(pending, approved=True))


def _audit_consent(request: web.Request, event: AuditEvent, pending: PendingAuthorization) -> None:
    app_audit = request.app[AUDIT]
    app_audit.emit(event, client_id=pending.client_id, server=pending.server, scope=pending.scope)


async def _start_login(
    request: web.Request, auth: AuthComponents, pending: PendingAuthorization
) -> web.StreamResponse:
    login = LoginRequest()
    try:
        url = await auth.idp.build_authorization_url(
            state=login.state, nonce=login.nonce, code_challenge=login.code_challenge
        )
    except IdpError as exc:  # discovery happens on the first login: the IdP may be down
        return _idp_failed(auth, exc)
    redirect = web.HTTPSeeOther(url)
    binding = auth.cookies.bind_login(request, redirect, login.state)
    # Stored only now, after consent, right before the redirect (MCP security best
    # practices §Confused Deputy: upstream state only after consent, single-use, short-lived).
    await auth.grants.save_pending(pending)
    await auth.grants.save_login(
        login.state, LoginAttempt(pending.id, login.nonce, login.code_verifier, binding)
    )
    raise redirect


async def callback(request: web.Request) -> web.StreamResponse:
    auth = request.app[AUTH]
    state = request.query.get("state", "")
    # A browser signing in to the gate's own pages (/my/tokens) comes back here too.
    browser_login = await auth.browser_logins.take(state) if state else None
    if browser_login is not None:
        return await finish_browser_login(request, auth, state, browser_login)
    attempt = await auth.grants.take_login(state) if state else None
    if attempt is None:
        return _message(
            auth,
            400,
            "Sign-in not recognised",
            "The answer from the identity provider does not match a sign-in started here, "
            "or it was already used.",
            "Start again from your application.",
        )
    pending = await auth.grants.load_pending(attempt.pending_id)
    if pending is None:
        return _expired(auth)
    if not auth.cookies.is_login_from_here(request, attempt.browser_binding, state):
        # A consent splice or a login CSRF: the IdP URL or the callback URL of a sign-in
        # begun elsewhere, opened in this browser. Nothing is issued, nothing is kept.
        await auth.grants.delete_pending(pending.id)
        log.warning(
            "login_refused", reason="started in another browser", client_id=pending.client_id
        )
        request.app[AUDIT].emit(
            "login_refused",
            reason="started in another browser",
            client_id=pending.client_id,
            server=pending.server,
        )
        return _message(
            auth,
            403,
            "Sign-in not started here",
            "This sign-in was not started in this browser, so it does not count here. "
            "Nothing was shared with the application.",
            "If you did not just start signing in to an application, close this page.",
        )
    if "error" in request.query or "code" not in request.query:
        await auth.grants.delete_pending(pending.id)
        denied = AccessDenied("the sign-in at the identity provider did not complete")
        raise web.HTTPFound(
            error_redirect(pending.redirect_uri, denied, pending.state, auth.issuer)
        )
    try:
        identity = await auth.idp.exchange_code(
            code=request.query["code"], code_verifier=attempt.code_verifier, nonce=attempt.nonce
        )
    except LoginRefusedError as exc:
        await auth.grants.delete_pending(pending.id)
        log.warning("login_denied", reason=exc.reason, client_id=pending.client_id)
        request.app[AUDIT].emit(
            "login_refused", reason=exc.reason, client_id=pending.client_id, server=pending.server
        )
        return _message(auth, 403, "Access refused", exc.message)
    except IdpError as exc:
        return _idp_failed(auth, exc)
    if pending.approved:
        await auth.grants.save_consent(identity.subject, pending.client_id)
    elif auth.scopes.beyond_mcp(pending.scope) or not await auth.grants.has_consent(
        identity.subject, pending.client_id
    ):
        # Consent was assumed from this browser's earlier session, but someone else signed
        # in: that user must approve for themselves.
        await auth.grants.delete_pending(pending.id)
        raise web.HTTPFound(_consent_url(auth, pending))
    # With its groups: a scope's rule may name groups (docs/config.md, scopes).
    principal = replace(
        Principal.user(identity.subject, identity.email, client_id=pending.client_id),
        groups=identity.groups,
    )
    grant = auth.tokens.new_grant(
        subject=identity.subject,
        email=identity.email,
        client_id=pending.client_id,
        resource=pending.resource,
        server=pending.server,
        # Only the extra scopes this user may hold (oauth/scopes.py); RFC 6749 §3.3.
        scope=auth.scopes.granted(pending.server, pending.scope, principal),
        redirect_uri=pending.redirect_uri,
        groups=identity.groups,
    )
    await auth.grants.save_grant(grant, now=time.time())
    await auth.revalidation.remember(grant, identity)
    code = new_token()
    await auth.grants.save_code(
        code,
        AuthorizationCode(
            grant_id=grant.id,
            client_id=pending.client_id,
            redirect_uri=pending.redirect_uri,
            code_challenge=pending.code_challenge,
            resource=pending.resource,
        ),
    )
    await auth.grants.delete_pending(pending.id)
    log.info(
        "login_succeeded",
        client_id=pending.client_id,
        subject=identity.subject,
        server=pending.server,
    )
    request.app[AUDIT].emit(
        "login_succeeded",
        principal=principal.id,
        email=identity.email,
        client_id=pending.client_id,
        server=pending.server,
        scope=grant.scope,
        grant=grant.id[:8],
    )
    response = web.HTTPFound(success_redirect(pending, code, auth.issuer))
    session = await auth.signed_in(request)
    if session is None or session.subject == identity.subject:
        auth.cookies.start_session(response, identity.subject, identity.email)
    else:
        # policy: a sign-in made for an application does not switch the browser's own login
        # to another user without asking; that user signs out at /my/tokens first.
        log.info("login_session_kept", subject=session.subject, signed_in=identity.subject)
    raise response
