"""Every path the gate serves, once (docs/routes.md).

Everything lives under the path of `baseURL`, except the discovery documents, which RFC
8414 §3 and RFC 9728 §3 place at the origin's root `/.well-known/…` whatever the path.
`/metrics` is not here: it has its own listener (metrics_listener.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web
from aiohttp.typedefs import Handler

from mcp_gate.web import (
    authorize_handlers,
    dev_login_handlers,
    discovery_handlers,
    home_handlers,
    mcp_handlers,
    my_apps_handlers,
    my_tokens_handlers,
    ops_handlers,
    session_handlers,
    token_handlers,
)
from mcp_gate.web.mcp_routes import Front, add_mcp_routes


def add_routes(
    app: web.Application,
    base_path: str,
    servers: Iterable[str],
    *,
    oauth: bool,
    jwks: bool = False,
) -> None:
    """Every route; `servers` are the configured servers' names (their MCP routes)."""
    app.router.add_get(f"{base_path}/health", ops_handlers.health)
    app.router.add_get(f"{base_path}/ready", ops_handlers.ready)
    app.router.add_get(f"{base_path}{home_handlers.HOME_PATH}", home_handlers.home)
    if base_path:
        app.router.add_get(base_path, home_handlers.to_home)
    if oauth:
        _add_oauth_routes(app, base_path)
    if jwks:
        app.router.add_get("/.well-known/jwks.json", discovery_handlers.jwks)
    # The authentication middleware acts on these routes (mcp_auth.py).
    handlers: dict[Front, Handler] = {
        "mcp": mcp_handlers.handle_mcp,
        "sse": mcp_handlers.handle_sse,
        "message": mcp_handlers.handle_message,
    }
    add_mcp_routes(app, base_path, servers, handlers)


def _add_oauth_routes(app: web.Application, base_path: str) -> None:
    well_known = "/.well-known"
    app.router.add_get(
        f"{well_known}/oauth-authorization-server", discovery_handlers.authorization_server
    )
    app.router.add_get(
        f"{well_known}/oauth-protected-resource", discovery_handlers.protected_resource
    )
    app.router.add_get(
        f"{well_known}/oauth-protected-resource/{{resource_path:.+}}",
        discovery_handlers.protected_resource,
    )
    app.router.add_get(f"{base_path}/authorize", authorize_handlers.authorize)
    app.router.add_get(f"{base_path}/consent", authorize_handlers.consent_page)
    app.router.add_post(f"{base_path}/consent", authorize_handlers.consent_decision)
    app.router.add_get(f"{base_path}/oauth/callback", authorize_handlers.callback)
    app.router.add_get(f"{base_path}/oauth/dev-login", dev_login_handlers.dev_login_form)
    app.router.add_post(f"{base_path}/oauth/dev-login", dev_login_handlers.dev_login_submit)
    app.router.add_post(f"{base_path}/token", token_handlers.token)
    app.router.add_post(f"{base_path}/revoke", token_handlers.revoke)
    app.router.add_post(f"{base_path}/introspect", token_handlers.introspect)
    app.router.add_post(f"{base_path}/register", token_handlers.register)
    app.router.add_get(f"{base_path}{home_handlers.SIGN_IN_PATH}", home_handlers.sign_in)
    my_tokens = f"{base_path}/my/tokens"
    app.router.add_get(my_tokens, my_tokens_handlers.my_tokens)
    app.router.add_get(
        f"{base_path}{my_tokens_handlers.SERVICE_CALLBACK_PATH}",
        my_tokens_handlers.service_callback,
    )
    app.router.add_post(f"{my_tokens}/{{server}}", my_tokens_handlers.update_token)
    app.router.add_post(f"{my_tokens}/{{server}}/connect", my_tokens_handlers.connect)
    app.router.add_post(f"{base_path}/my/logout", session_handlers.logout)
    my_apps = f"{base_path}{my_apps_handlers.MY_APPS_PATH}"
    app.router.add_get(my_apps, my_apps_handlers.my_apps)
    app.router.add_post(f"{my_apps}/revoke", my_apps_handlers.revoke_app)
