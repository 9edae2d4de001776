"""The `dev` provider's login form: type an email, be that user (loopback-only demo).

Stands in for an IdP's login page: the form posts here, and the browser goes on to the
gate's own /oauth/callback with the typed email as the "code" (idp/dev.py policy). The
gate refuses to start with `dev` unless it is reachable on loopback only.
"""

from __future__ import annotations

from aiohttp import web

from mcp_gate.appkeys import AUTH
from mcp_gate.idp.dev import DevProvider, build_dev_identity
from mcp_gate.idp.errors import LoginRefusedError
from mcp_gate.web.pages import page_response, render_dev_login
from mcp_gate.web.request_bodies import read_form


def _provider(request: web.Request) -> DevProvider:
    idp = request.app[AUTH].idp
    if not isinstance(idp, DevProvider):
        raise web.HTTPNotFound()
    return idp


async def dev_login_form(request: web.Request) -> web.StreamResponse:
    _provider(request)
    auth = request.app[AUTH]
    html = render_dev_login(
        gate_name=auth.gate_name,
        action=auth.path("/oauth/dev-login"),
        state=request.query.get("state", ""),
    )
    return page_response(html)


async def dev_login_submit(request: web.Request) -> web.StreamResponse:
    provider = _provider(request)
    auth = request.app[AUTH]
    form = await read_form(request)
    email, state = str(form.get("email", "")), str(form.get("state", ""))
    try:
        build_dev_identity(email, provider.issuer)
    except LoginRefusedError as exc:
        html = render_dev_login(
            gate_name=auth.gate_name,
            action=auth.path("/oauth/dev-login"),
            state=state,
            error=exc.message,
        )
        return page_response(html, status=400)
    raise web.HTTPSeeOther(provider.build_callback_url(email=email.strip(), state=state))
