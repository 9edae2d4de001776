"""Handlers of /my/apps: the applications a signed-in user has authorized, and revoking one.

    GET  /my/apps            the page (no session: sign in first)
    POST /my/apps/revoke     client_id (+ confirm=yes): first the confirmation page, then
                             the revocation; back to the page (POST → 303 → GET)

Every POST needs the login session and a CSRF token made for this user, this client and
this browser (cookies.py); a missing or wrong one gets a 403 page and changes nothing.
Revoking deletes every grant of that user to that client (so its access and refresh
tokens stop at once here, and at the next check on other replicas: oauth/bearer.py) and
closes its MCP sessions on this replica; the user's other applications keep theirs.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import structlog
from aiohttp import web

from mcp_gate.appkeys import AUDIT, AUTH, SESSIONS
from mcp_gate.cookies import LoginSession
from mcp_gate.oauth.grants import ListedGrant
from mcp_gate.web.auth_components import AuthComponents
from mcp_gate.web.my_apps_page import AppCard, render_my_apps, render_revoke_confirmation
from mcp_gate.web.pages import page_response
from mcp_gate.web.session_handlers import (
    logout_purpose,
    notice_response,
    signed_in_form,
    start_browser_login,
)

log = structlog.get_logger()

MY_APPS_PATH = "/my/apps"
_CSRF_PURPOSE = "my-apps:"


def _purpose(session: LoginSession, client_id: str) -> str:
    return f"{_CSRF_PURPOSE}{session.subject}\n{client_id}"


async def _cards(
    request: web.Request, response: web.StreamResponse, auth: AuthComponents, session: LoginSession
) -> list[AppCard]:
    by_client: dict[str, list[ListedGrant]] = {}
    for entry in await auth.grants.list_user_grants(session.email):
        if entry.grant.subject == session.subject:
            by_client.setdefault(entry.grant.client_id, []).append(entry)
    cards = []
    for client_id, entries in by_client.items():
        client = await auth.clients.load(client_id)
        used = [e.last_used_at for e in entries if e.last_used_at is not None]
        hosts = {urlsplit(e.grant.redirect_uri).hostname or "" for e in entries}
        cards.append(
            AppCard(
                client_id=client_id,
                name=client.display_name if client is not None else client_id,
                redirect_hosts=tuple(sorted(h for h in hosts if h)),
                servers=tuple(sorted({e.grant.server for e in entries})),
                scopes=tuple(sorted({s for e in entries for s in e.grant.scope.split()})),
                authorized_at=min(e.grant.created_at for e in entries),
                last_used_at=max(used) if used else None,
                csrf_token=auth.cookies.csrf_token(request, response, _purpose(session, client_id)),
            )
        )
    return sorted(cards, key=lambda card: card.name.lower())


def _notice(auth: AuthComponents, status: int, title: str, text: str) -> web.Response:
    return notice_response(
        auth, status, title, text, link_text="Back to your applications", link_path=MY_APPS_PATH
    )


async def my_apps(request: web.Request) -> web.StreamResponse:
    auth = request.app[AUTH]
    session = await auth.signed_in(request)
    if session is None:
        await start_browser_login(request, auth, MY_APPS_PATH)
    response = page_response("")
    notice = "The application's access is revoked." if request.query.get("done") else ""
    response.text = render_my_apps(
        gate_name=auth.gate_name,
        email=session.email,
        apps=await _cards(request, response, auth, session),
        base_path=auth.config.proxy.base_path,
        logout_csrf=auth.cookies.csrf_token(request, response, logout_purpose(session)),
        notice=notice,
    )
    return response


async def revoke_app(request: web.Request) -> web.StreamResponse:
    auth = request.app[AUTH]
    session, form = await signed_in_form(request, auth, MY_APPS_PATH)
    client_id = str(form.get("client_id", ""))
    if not auth.cookies.verify_csrf(
        request, str(form.get("csrf", "")), _purpose(session, client_id)
    ):
        log.warning("csrf_refused", page=request.path)
        return _notice(
            auth,
            403,
            "Request not accepted",
            "This form did not come from your applications page in this browser, or it is "
            "too old. Nothing was changed.",
        )
    response = page_response("")
    card = next(
        (c for c in await _cards(request, response, auth, session) if c.client_id == client_id),
        None,
    )
    if card is None:
        return _notice(auth, 404, "Nothing to revoke", "This application holds no access now.")
    if form.get("confirm") != "yes":
        response.text = render_revoke_confirmation(
            gate_name=auth.gate_name, app=card, base_path=auth.config.proxy.base_path
        )
        return response
    revoked = await auth.grants.revoke_user_grants(session.email, client_id)
    registry = request.app[SESSIONS]
    for mcp_session in registry.sessions():
        principal = mcp_session.principal
        same_user = principal.kind == "user" and principal.subject == session.subject
        if same_user and principal.client_id == client_id:
            await registry.close(mcp_session.id, "revoked")
    log.info("app_revoked", subject=session.subject, client_id=client_id, grants=len(revoked))
    request.app[AUDIT].emit(
        "token_revoked",
        principal=f"user:{session.subject}",
        email=session.email,
        client_id=client_id,
        grants=len(revoked),
        by="/my/apps",
    )
    raise web.HTTPSeeOther(auth.path(f"{MY_APPS_PATH}?done=revoked"))
