"""The login session of a browser at the gate's own pages: signing in, and signing out.

    /my/tokens (no session) ─▶ IdP login ─▶ /oauth/callback ─▶ session cookie ─▶ /my/tokens

- `start_browser_login`: the same IdP login as the OAuth flow (same provider, same
  allowlist, its own state, nonce and PKCE), parked in `browser_logins.py` and bound to
  this browser's CSRF cookie.
- `finish_browser_login`: called by `/oauth/callback` for such a state; the IdP's answer
  goes through `idp.exchange_code` (ID token checks and the allowlist), then the session
  cookie (cookies.py) is set and the browser goes back where it started.
- `logout`: POST /my/logout (CSRF-protected) ends the session.
A missing, tampered or expired session cookie reads as no session: the user signs in
again, never sees an error (cookies.py).
"""

from __future__ import annotations

from typing import NoReturn

import structlog
from aiohttp import web
from multidict import MultiDictProxy

from mcp_gate.appkeys import AUTH
from mcp_gate.browser_logins import BrowserLogin
from mcp_gate.cookies import LoginSession
from mcp_gate.idp.errors import IdpError, LoginRefusedError
from mcp_gate.idp.login_request import LoginRequest
from mcp_gate.web.auth_components import AuthComponents
from mcp_gate.web.my_tokens_page import render_notice_page
from mcp_gate.web.pages import page_response
from mcp_gate.web.request_bodies import read_form

log = structlog.get_logger()

MY_TOKENS_PATH = "/my/tokens"
_LOGOUT_PURPOSE = "logout:"


def logout_purpose(session: LoginSession) -> str:
    return _LOGOUT_PURPOSE + session.subject


def notice_response(
    auth: AuthComponents,
    status: int,
    title: str,
    text: str,
    *,
    link_text: str = "Sign in again",
    link_path: str = MY_TOKENS_PATH,
) -> web.Response:
    """A short notice page of the signed-in pages, linking back to `link_path`."""
    html = render_notice_page(
        gate_name=auth.gate_name,
        title=title,
        text=text,
        link_href=auth.path(link_path),
        link_text=link_text,
    )
    return page_response(html, status=status)


async def start_browser_login(
    request: web.Request, auth: AuthComponents, return_to: str
) -> NoReturn:
    """Send the browser to the IdP; it comes back to `return_to` (a gate path) signed in."""
    login = LoginRequest()
    url = await auth.idp.build_authorization_url(
        state=login.state, nonce=login.nonce, code_challenge=login.code_challenge
    )
    redirect = web.HTTPSeeOther(url)
    binding = auth.cookies.bind_login(request, redirect, login.state)
    await auth.browser_logins.save(
        login.state, BrowserLogin(login.nonce, login.code_verifier, return_to, binding)
    )
    raise redirect


async def finish_browser_login(
    request: web.Request, auth: AuthComponents, state: str, login: BrowserLogin
) -> web.StreamResponse:
    """The IdP's answer to a browser login (its record already taken, single-use)."""
    if not auth.cookies.is_login_from_here(request, login.browser_binding, state):
        log.warning("login_refused", reason="started in another browser", page=login.return_to)
        return notice_response(
            auth,
            403,
            "Sign-in not accepted",
            "This sign-in was not started in this browser, so it does not count here.",
        )
    code = request.query.get("code")
    if "error" in request.query or not code:
        return notice_response(
            auth, 400, "Sign-in did not complete", "The identity provider did not sign you in."
        )
    try:
        identity = await auth.idp.exchange_code(
            code=code, code_verifier=login.code_verifier, nonce=login.nonce
        )
    except LoginRefusedError as exc:
        log.warning("login_denied", reason=exc.reason, page=login.return_to)
        return notice_response(auth, 403, "Access refused", exc.message)
    except IdpError as exc:
        log.error("idp_failed", reason=exc.reason)
        return notice_response(
            auth,
            502,
            "Sign-in failed",
            "The identity provider could not be reached or answered badly. Try again in a moment.",
        )
    log.info("browser_login_succeeded", subject=identity.subject)
    response = web.HTTPSeeOther(auth.path(login.return_to))
    auth.cookies.start_session(response, identity.subject, identity.email)
    raise response


async def signed_in_form(
    request: web.Request, auth: AuthComponents, page: str
) -> tuple[LoginSession, MultiDictProxy[str]]:
    """The login session and the posted form of a signed-in page's POST; a browser without
    a session goes back to `page` (which signs it in)."""
    session = await auth.signed_in(request)
    if session is None:
        raise web.HTTPSeeOther(auth.path(page))
    return session, await read_form(request)


async def logout(request: web.Request) -> web.StreamResponse:
    auth = request.app[AUTH]
    session, form = await signed_in_form(request, auth, MY_TOKENS_PATH)
    if not auth.cookies.verify_csrf(request, str(form.get("csrf", "")), logout_purpose(session)):
        return notice_response(
            auth,
            403,
            "Request not accepted",
            "This form did not come from your tokens page in this browser, or it is too old.",
            link_text="Back to your tokens",
        )
    response = notice_response(
        auth, 200, "You are signed out", "This browser is no longer signed in to the gate."
    )
    auth.cookies.end_session(response)
    log.info("browser_logout", subject=session.subject)
    return response
