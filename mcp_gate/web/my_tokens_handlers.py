"""Handlers of /my/tokens: each signed-in user's own tokens for the servers that need them.

    GET  /my/tokens                     the page (no session: sign in first)
    POST /my/tokens/<server>            action=save (with `token`) or action=delete
    POST /my/tokens/<server>/connect    start connecting a service account (type: oauth)
    GET  /my/tokens/oauth/callback      the service's answer (its registered redirect URI)

Every POST needs the login session and a CSRF token made for this user, this server and
this browser (cookies.py); a missing or wrong one gets a 403 page and changes nothing.
After a change the browser is sent back to the page (POST → 303 → GET) with a notice
naming what happened, never the value. A pasted token failing its server's validation
re-renders the page with the reason next to the field (400), without the value.
"""

from __future__ import annotations

import structlog
from aiohttp import web

from mcp_gate.appkeys import AUDIT, AUTH
from mcp_gate.config.model import ServerConfig, UserAuthentication
from mcp_gate.cookies import LoginSession
from mcp_gate.usertokens.lookup import display_name
from mcp_gate.usertokens.service_oauth import ServiceRefusedError, ServiceUnavailableError
from mcp_gate.usertokens.validation import InvalidUserTokenError, parse_pasted_token
from mcp_gate.web.auth_components import AuthComponents
from mcp_gate.web.my_tokens_page import TokenCard, render_my_tokens
from mcp_gate.web.pages import page_response
from mcp_gate.web.request_bodies import read_form
from mcp_gate.web.session_handlers import (
    MY_TOKENS_PATH,
    logout_purpose,
    notice_response,
    start_browser_login,
)

log = structlog.get_logger()

SERVICE_CALLBACK_PATH = "/my/tokens/oauth/callback"
_CSRF_PURPOSE = "my-tokens:"
_NOTICES = {
    "saved": "Your {name} token is saved.",
    "deleted": "Your {name} token is deleted.",
    "connected": "{name} is connected.",
    "disconnected": "{name} is disconnected.",
    "cancelled": "Connecting {name} was cancelled; nothing was stored.",
}


def _purpose(session: LoginSession, server: str) -> str:
    return f"{_CSRF_PURPOSE}{session.subject}\n{server}"


def _csrf_ok(
    request: web.Request, auth: AuthComponents, session: LoginSession, server: str, token: str
) -> bool:
    if auth.cookies.verify_csrf(request, token, _purpose(session, server)):
        return True
    log.warning("csrf_refused", page=request.path, server=server)
    return False


def _token_servers(auth: AuthComponents) -> list[ServerConfig]:
    servers = (s for s in auth.config.servers.values() if s.user_authentication is not None)
    return sorted(servers, key=lambda s: display_name(s).lower())


def _server(auth: AuthComponents, name: str) -> tuple[ServerConfig, UserAuthentication]:
    server = auth.config.servers.get(name)
    if server is None or server.user_authentication is None:
        raise web.HTTPNotFound(text="No such server asks for a token here.\n")
    return server, server.user_authentication


def _notice(auth: AuthComponents, status: int, title: str, text: str) -> web.Response:
    return notice_response(auth, status, title, text, link_text="Back to your tokens")


def _forbidden(auth: AuthComponents) -> web.Response:
    return _notice(
        auth,
        403,
        "Request not accepted",
        "This form did not come from your tokens page in this browser, or it is too old. "
        "Nothing was changed.",
    )


def _back_to_page(auth: AuthComponents, done: str, server: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(auth.path(f"{MY_TOKENS_PATH}?done={done}&server={server}"))


async def _render_page(
    request: web.Request,
    auth: AuthComponents,
    session: LoginSession,
    *,
    notice: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    response = page_response("", status=status)
    cards = []
    for server in _token_servers(auth):
        authentication = server.user_authentication
        assert authentication is not None
        hint, saved_at, is_set = "", None, False
        if authentication.type == "oauth":
            tokens = await auth.user_tokens.load_service_tokens(session.subject, server.name)
            if tokens is not None:
                is_set, saved_at = True, tokens.saved_at
        else:
            saved = await auth.user_tokens.load(session.subject, server.name)
            if saved is not None:
                is_set, saved_at, hint = True, saved.saved_at, saved.hint
        cards.append(
            TokenCard(
                server=server.name,
                display_name=display_name(server),
                kind=authentication.type,
                instructions=authentication.instructions,
                help_url=authentication.help_url,
                is_set=is_set,
                hint=hint,
                saved_at=saved_at,
                csrf_token=auth.cookies.csrf_token(
                    request, response, _purpose(session, server.name)
                ),
                error=(errors or {}).get(server.name, ""),
            )
        )
    response.text = render_my_tokens(
        gate_name=auth.gate_name,
        email=session.email,
        cards=cards,
        base_path=auth.config.proxy.base_path,
        logout_csrf=auth.cookies.csrf_token(request, response, logout_purpose(session)),
        notice=notice,
    )
    return response


async def my_tokens(request: web.Request) -> web.StreamResponse:
    auth = request.app[AUTH]
    session = await auth.signed_in(request)
    if session is None:
        await start_browser_login(request, auth, MY_TOKENS_PATH)
    notice = ""
    done, name = request.query.get("done", ""), request.query.get("server", "")
    server = auth.config.servers.get(name)
    if done in _NOTICES and server is not None:
        notice = _NOTICES[done].format(name=display_name(server))
    return await _render_page(request, auth, session, notice=notice)


async def update_token(request: web.Request) -> web.StreamResponse:
    auth = request.app[AUTH]
    session = await auth.signed_in(request)
    if session is None:
        raise web.HTTPSeeOther(auth.path(MY_TOKENS_PATH))
    server, authentication = _server(auth, request.match_info["server"])
    form = await read_form(request)
    if not _csrf_ok(request, auth, session, server.name, str(form.get("csrf", ""))):
        return _forbidden(auth)
    action = form.get("action")
    if action == "delete":
        if authentication.type == "oauth":
            await auth.connections.disconnect(session.subject, server.name)
            done = "disconnected"
        else:
            await auth.user_tokens.delete(session.subject, server.name)
            done = "deleted"
        log.info("user_token_deleted", server=server.name, subject=session.subject)
        request.app[AUDIT].emit(
            "user_token_deleted", principal=f"user:{session.subject}", server=server.name
        )
        raise _back_to_page(auth, done, server.name)
    if action != "save" or authentication.type != "manual":
        return _notice(auth, 400, "Unknown request", "This form asked for nothing this page does.")
    try:
        value = parse_pasted_token(str(form.get("token", "")), authentication)
    except InvalidUserTokenError as exc:
        return await _render_page(
            request, auth, session, errors={server.name: exc.message}, status=400
        )
    await auth.user_tokens.save(session.subject, server.name, value)
    log.info("user_token_saved", server=server.name, subject=session.subject)
    request.app[AUDIT].emit(
        "user_token_set", principal=f"user:{session.subject}", server=server.name
    )
    raise _back_to_page(auth, "saved", server.name)


async def connect(request: web.Request) -> web.StreamResponse:
    auth = request.app[AUTH]
    session = await auth.signed_in(request)
    if session is None:
        raise web.HTTPSeeOther(auth.path(MY_TOKENS_PATH))
    server, authentication = _server(auth, request.match_info["server"])
    form = await read_form(request)
    if not _csrf_ok(request, auth, session, server.name, str(form.get("csrf", ""))):
        return _forbidden(auth)
    if authentication.type != "oauth":
        return _notice(auth, 400, "Nothing to connect", "This server takes a pasted token.")
    url = await auth.connections.start(session.subject, server.name, authentication)
    raise web.HTTPSeeOther(url)


async def service_callback(request: web.Request) -> web.StreamResponse:
    auth = request.app[AUTH]
    state = request.query.get("state")
    pending = await auth.connections.take_pending(state) if state else None
    if pending is None:
        return _notice(
            auth,
            400,
            "Connection not recognised",
            "This answer does not match a connection started here, or it was already used "
            "or is too old. Start again from your tokens page.",
        )
    session = await auth.signed_in(request)
    if session is None or session.subject != pending.subject:
        log.warning("service_connect_refused", server=pending.server, reason="other user")
        return _notice(
            auth,
            403,
            "Connection not accepted",
            "This connection was started by another sign-in than this browser's. "
            "Nothing was stored.",
        )
    server, authentication = _server(auth, pending.server)
    code = request.query.get("code")
    if "error" in request.query or not code:
        raise _back_to_page(auth, "cancelled", server.name)
    try:
        await auth.connections.finish(pending, authentication, code)
    except ServiceRefusedError as exc:
        log.warning("service_connect_failed", server=server.name, reason=exc.reason)
        return _notice(
            auth,
            400,
            "Connection refused",
            f"{display_name(server)} refused to complete the connection. Try again.",
        )
    except ServiceUnavailableError as exc:
        log.error("service_connect_failed", server=server.name, reason=exc.reason)
        return _notice(
            auth,
            502,
            "Connection failed",
            f"{display_name(server)} could not be reached or answered badly. Try again in a "
            "moment.",
        )
    raise _back_to_page(auth, "connected", server.name)
