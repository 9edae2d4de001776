"""CORS (Fetch §CORS protocol) for browser MCP clients, on the routes they call from a page.

- Discovery documents are public: any origin may read them.
- /register, /token, /revoke and the MCP routes answer only `allowedOrigins` (and the
  gate's own origin); the MCP routes also refuse other origins outright (mcp_handlers).
- Preflights are answered here, before routing, with the MCP request headers allowed and
  `WWW-Authenticate`, `Mcp-Session-Id`, `MCP-Protocol-Version` exposed, so a browser client
  can read the 401 challenge (the Inspector's web UI needs it). No credentials mode: tokens travel
  in `Authorization`, never in cookies.
"""

from __future__ import annotations

from collections.abc import Awaitable

from aiohttp import web
from aiohttp.typedefs import Handler

from mcp_gate.appkeys import CONFIG

_ALLOWED_HEADERS = frozenset(
    h.lower()
    for h in (
        "Authorization",
        "Content-Type",
        "Accept",
        "MCP-Protocol-Version",
        "Mcp-Session-Id",
        "Last-Event-ID",
        "Mcp-Method",
        "Mcp-Name",
    )
)
_EXPOSED = "WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version"
_MAX_AGE_SECONDS = "600"


def _allowed_origin(request: web.Request, origin: str) -> str | None:
    """The value for Access-Control-Allow-Origin, or None when this origin gets no CORS."""
    if request.path.startswith("/.well-known/"):
        return "*"
    config = request.app[CONFIG]
    allowed = config.proxy.auth.allowed_origins if config.proxy.auth else ()
    if origin in allowed or origin.rstrip("/") == config.proxy.issuer:
        return origin
    return None


def _allowed_request_headers(requested: str) -> str:
    names = [h.strip() for h in requested.split(",") if h.strip()]
    return ", ".join(
        h for h in names if h.lower() in _ALLOWED_HEADERS or h.lower().startswith("mcp-param-")
    )


@web.middleware
def cors_preflight(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
    """Answers CORS preflights before routing; other requests pass.

    Not a coroutine: a request that passes is handed the next handler's awaitable itself,
    so a stream held open for hours keeps no frame of this middleware.
    """
    origin = request.headers.get("Origin")
    if (
        origin is None
        or request.method != "OPTIONS"
        or "Access-Control-Request-Method" not in request.headers
    ):
        return handler(request)
    return _preflight(request, origin)


async def _preflight(request: web.Request, origin: str) -> web.StreamResponse:
    allow = _allowed_origin(request, origin)
    if allow is None:
        return web.Response(status=403, text="origin not allowed\n")
    headers = {
        "Access-Control-Allow-Origin": allow,
        "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
        "Access-Control-Allow-Headers": _allowed_request_headers(
            request.headers.get("Access-Control-Request-Headers", "")
        ),
        "Access-Control-Max-Age": _MAX_AGE_SECONDS,
        "Vary": "Origin",
    }
    return web.Response(status=204, headers=headers)


def add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Run by the `on_response_prepare` hook (middlewares.py): streamed responses get their
    CORS headers too."""
    origin = request.headers.get("Origin")
    if origin is None:
        return
    allow = _allowed_origin(request, origin)
    if allow is not None:
        response.headers["Access-Control-Allow-Origin"] = allow
        response.headers["Access-Control-Expose-Headers"] = _EXPOSED
        vary = response.headers.get("Vary")
        response.headers["Vary"] = f"{vary}, Origin" if vary else "Origin"
