"""Handlers of the home page: `/` and its sign-in.

    GET /           signed out: what the gate is, a sign-in button; signed in: the user's
                    servers with their MCP URLs and client setup (home_page.py)
    GET /sign-in    the browser login /my/tokens uses (session_handlers.py), back to `/`

"The servers the user may use" are those whose `access` admits the signed-in user from
this address (policy/engine.py); a server whose `access` names groups stays listed, since
the login session does not know the user's groups. A gate without logins lists those
anyone may use: the ones without `serviceAuths`. The login session is read, never
written, except by the sign-in.
"""

from __future__ import annotations

from aiohttp import web

from mcp_gate.appkeys import AUTH, AUTHENTICATOR, CONFIG, FRONTS
from mcp_gate.config.model import GateConfig
from mcp_gate.policy.engine import Caller
from mcp_gate.principal import Principal
from mcp_gate.published_urls import server_endpoints
from mcp_gate.usertokens.lookup import needs_user_token
from mcp_gate.web.client_address import client_address_of
from mcp_gate.web.home_page import (
    ServerCard,
    render_open_gate,
    render_signed_in,
    render_signed_out,
)
from mcp_gate.web.pages import page_response
from mcp_gate.web.session_handlers import logout_purpose, start_browser_login

HOME_PATH = "/"
SIGN_IN_PATH = "/sign-in"


def _cards(config: GateConfig, names: set[str]) -> list[ServerCard]:
    return [
        ServerCard(server, needs_user_token=needs_user_token(config.servers[server.name]))
        for server in server_endpoints(config)
        if server.name in names
    ]


async def home(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    auth = request.app.get(AUTH)
    if auth is None:
        authenticator = request.app[AUTHENTICATOR]
        open_servers = {n for n, s in config.servers.items() if authenticator.is_open(s)}
        return page_response(
            render_open_gate(gate_name=config.proxy.name, cards=_cards(config, open_servers))
        )
    session = await auth.signed_in(request)
    if session is None:
        assert config.proxy.auth is not None, "AUTH exists only with proxy.auth"
        return page_response(
            render_signed_out(
                gate_name=auth.gate_name,
                sign_in_path=auth.path(SIGN_IN_PATH),
                provider=config.proxy.auth.idp.provider,
            )
        )
    caller = Caller(Principal.user(session.subject, session.email), client_address_of(request))
    usable = {
        name
        for name, fronts in request.app[FRONTS].items()
        if fronts.backend.policy.names_groups or fronts.backend.policy.refusal(caller) is None
    }
    response = page_response("")
    response.text = render_signed_in(
        gate_name=auth.gate_name,
        email=session.email,
        cards=_cards(config, usable),
        base_path=config.proxy.base_path,
        logout_csrf=auth.cookies.csrf_token(request, response, logout_purpose(session)),
    )
    return response


async def to_home(request: web.Request) -> web.StreamResponse:
    """`<baseURL>` without its trailing slash: the home page is `<baseURL>/`."""
    raise web.HTTPPermanentRedirect(request.app[CONFIG].proxy.base_path + HOME_PATH)


async def sign_in(request: web.Request) -> web.StreamResponse:
    auth = request.app[AUTH]
    if await auth.signed_in(request) is not None:
        raise web.HTTPSeeOther(auth.path(HOME_PATH))
    await start_browser_login(request, auth, HOME_PATH)
