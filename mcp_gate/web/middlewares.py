"""Request middlewares: the access log, and the one place that catches `Exception`; and the
headers responses carry (`response_headers`: nosniff and CORS on every one, HSTS on https).

The access log writes one line per request: method, path without its query string (a
query may carry codes or session ids), status, duration, and the server / principal when a
handler set them. The error middleware turns the gate's own errors into their responses
and anything unexpected into a plain 500 that says nothing about the inside; the traceback
goes to the log once, here. On an https `baseURL`, every response carries
`Strict-Transport-Security`; it is a response-prepare hook rather than a middleware so that
streams (prepared inside their handlers), errors and 404s of unknown paths get it too.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections.abc import Awaitable, Callable
from functools import partial

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from mcp_gate.appkeys import IN_FLIGHT, METRICS, PRINCIPAL, SERVER_NAME
from mcp_gate.errors import (
    BackendError,
    OAuthError,
    StorageUnavailableError,
    UnreadableBodyError,
)
from mcp_gate.idp.errors import IdpError
from mcp_gate.logs import REQUEST_ID, access_line
from mcp_gate.metrics import Metrics
from mcp_gate.spliced_streams import SplicedResponse
from mcp_gate.web.cors import add_cors_headers

log = structlog.get_logger()

# policy: a year, the value HSTS preload lists ask for, and every subdomain: the gate's
# host serves nothing that needs plain http.
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


# 12 hex digits: 6 random per process (replicas and restarts differ), then a counter; no
# system call per request, as random ids made.
_REQUEST_ID_PREFIX = secrets.token_hex(3)
_request_counter = itertools.count()


def _next_request_id() -> str:
    # The counter's low 24 bits as 6 hex digits: hex() of the number with a 25th bit set,
    # cut after it (an f-string's `:06x` costs twice as much, per request).
    return _REQUEST_ID_PREFIX + hex(next(_request_counter) & 0xFFFFFF | 0x1000000)[3:]


@web.middleware
async def access_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    request_id = _next_request_id()
    # aiohttp runs each request in a task of its own, whose context starts as the
    # connection's: nothing bound for an earlier request is left to clear.
    REQUEST_ID.set(request_id)
    task = asyncio.current_task()
    app = request.app
    in_flight = app[IN_FLIGHT]
    if task is not None:
        in_flight.add(task)
    status = 500
    carried: asyncio.Task[None] | None = None
    try:
        response = await handler(request)
        status = response.status
        if isinstance(response, SplicedResponse):
            carried = response.carried
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:
        # policy: nginx's 499 "client closed request": the client left (or the grace period
        # of a shutdown ran out) before the response ended; not a server error.
        status = 499
        raise
    finally:
        in_flight.discard(task)
        resource = request.match_info.route.resource
        principal = request.get(PRINCIPAL)
        line = (
            app[METRICS],
            request_id,
            request.method,
            request.path,
            resource.canonical if resource is not None else "unmatched",
            request.get(SERVER_NAME),
            principal.id if principal is not None else None,
            started,
        )
        if carried is None:
            _write_line(*line, status)
        else:
            # A stream spliced off its handler (spliced_streams.py) is in flight, and
            # logged, until the task that carries it ends.
            in_flight.add(carried)
            carried.add_done_callback(partial(_carried_ended, in_flight, line, status))


_Line = tuple[Metrics, str, str, str, str, str | None, str | None, float]


def _write_line(
    metrics: Metrics,
    request_id: str,
    method: str,
    path: str,
    route: str,
    server: str | None,
    principal: str | None,
    started: float,
    status: int,
) -> None:
    """A request's access line and metrics, once its response has ended."""
    elapsed = time.perf_counter() - started
    metrics.observe_request(route, method, status, elapsed)
    access_line(request_id, method, path, status, elapsed, server, principal)


def _carried_ended(
    in_flight: set[asyncio.Task[object]], line: _Line, status: int, task: asyncio.Task[None]
) -> None:
    in_flight.discard(task)
    if task.cancelled():
        status = 499  # as for a handler: the client left, or a shutdown cut the stream
    elif task.exception() is not None:
        status = 500  # (spliced_streams.py logged it)
    _write_line(*line, status)


def _plain(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text + "\n")


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except BackendError as exc:
        # A backend failure is a plain 502/504, never a JSON-RPC body: clients read JSON-RPC
        # error bodies to choose a protocol era (MCP 2026-07-28 transports; docs/deploy.md).
        log.warning("backend_failed", server=exc.server, reason=exc.reason, status=exc.status)
        request.app[METRICS].count_backend_error(exc.server, exc.status)
        title = "Bad Gateway" if exc.status == 502 else "Gateway Timeout"
        return _plain(exc.status, f"{exc.status} {title}: backend {exc.server!r} {exc.reason}")
    except IdpError as exc:
        # A sign-in that could not reach the IdP; the page handlers usually say it first.
        log.error("idp_failed", reason=exc.reason)
        return _plain(502, "502 Bad Gateway: the identity provider could not be reached")
    except StorageUnavailableError as exc:
        log.error("storage_unavailable", reason=str(exc))  # the store's text holds no secret
        return _plain(503, "503 Service Unavailable: the gate's storage cannot be reached")
    except UnreadableBodyError as exc:
        title = "Payload Too Large" if exc.status == 413 else "Bad Request"
        return _plain(exc.status, f"{exc.status} {title}: {exc.reason}")
    except OAuthError as exc:
        headers = {"Cache-Control": "no-store"}
        if exc.retry_after_seconds is not None:
            headers["Retry-After"] = str(exc.retry_after_seconds)
        if exc.status == 401 and "Authorization" in request.headers:
            # RFC 6749 §5.2: a client that authenticated with a header gets a challenge.
            headers["WWW-Authenticate"] = 'Basic realm="mcp-gate"'
        return web.json_response(
            {"error": exc.error, "error_description": exc.description},
            status=exc.status,
            headers=headers,
        )
    except Exception:
        log.exception("request_failed", path=request.path)
        return _plain(500, "500 Internal Server Error")


def response_headers(
    *, https: bool
) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """The gate's one `on_response_prepare` hook (one, since aiohttp awaits every hook for
    every response): CORS headers for browsers (cors.py), and the two below."""

    async def add(request: web.Request, response: web.StreamResponse) -> None:
        add_cors_headers(request, response)
        headers = response.headers
        # WHATWG Fetch §X-Content-Type-Options: a backend's bytes relayed under its own
        # Content-Type must never be sniffed into HTML and rendered on the gate's origin.
        headers.setdefault("X-Content-Type-Options", "nosniff")
        if https:
            # RFC 6797 §6.1. The gate usually sits behind a TLS-terminating proxy, so the
            # request it sees is plain http; `baseURL` says what the browser used. RFC 6797
            # §7.2 forbids the header on a non-secure transport: never on an http baseURL.
            headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY

    return add
