"""`create_app(config)`: the gate's aiohttp application, assembled in order.

Middlewares (access log outermost, then errors), routes, and the resources the app owns,
each opened and closed by a `cleanup_ctx` generator: the outgoing HTTP client, the store,
the session registry with its idle reaper. Nothing here handles a request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import aiohttp
import structlog
from aiohttp import web

from mcp_gate.appkeys import (
    AUTHENTICATOR,
    BACKENDS,
    BINDINGS,
    CONFIG,
    HTTP_CLIENT,
    SESSIONS,
    STORE,
)
from mcp_gate.config.model import GateConfig
from mcp_gate.proxy.backends import Backend
from mcp_gate.proxy.bindings import SessionBindings
from mcp_gate.proxy.mcp_sessions import SessionRegistry
from mcp_gate.store.factory import open_store
from mcp_gate.store.protocols import Store
from mcp_gate.web.bearer_auth import Authenticator
from mcp_gate.web.middlewares import access_log, error_pages
from mcp_gate.web.routes import add_routes

log = structlog.get_logger()


def create_app(config: GateConfig, *, store: Store | None = None) -> web.Application:
    """The application for `config`; pass `store` to share one (tests, several apps)."""
    app = web.Application(
        middlewares=[access_log, error_pages], client_max_size=config.proxy.max_body_bytes
    )
    app[CONFIG] = config
    app[AUTHENTICATOR] = Authenticator()
    add_routes(app, config.proxy.base_path)
    app.cleanup_ctx.append(_http_client)
    app.cleanup_ctx.append(_store(store))
    app.cleanup_ctx.append(_sessions)
    return app


async def _http_client(app: web.Application) -> AsyncIterator[None]:
    # No total timeout: SSE streams stay open; each request bounds its own wait.
    connector = aiohttp.TCPConnector(limit=0, enable_cleanup_closed=True)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=None)
    ) as http:
        app[HTTP_CLIENT] = http
        app[BACKENDS] = {
            name: Backend(server, http) for name, server in app[CONFIG].servers.items()
        }
        yield


def _store(shared: Store | None) -> Callable[[web.Application], AsyncIterator[None]]:
    async def open_it(app: web.Application) -> AsyncIterator[None]:
        if shared is not None:
            app[STORE] = shared
            app[BINDINGS] = SessionBindings(shared)
            yield
            return
        async with open_store(app[CONFIG].proxy.auth) as store:
            app[STORE] = store
            app[BINDINGS] = SessionBindings(store)
            yield

    return open_it


async def _sessions(app: web.Application) -> AsyncIterator[None]:
    settings = app[CONFIG].proxy.sessions
    registry = SessionRegistry(
        idle_timeout_seconds=settings.timeout_seconds, max_per_user=settings.max_per_user
    )
    app[SESSIONS] = registry

    async def reap_forever() -> None:
        while True:
            await asyncio.sleep(settings.cleanup_interval_seconds)
            await registry.reap()

    reaper = asyncio.create_task(reap_forever(), name="session-reaper")
    yield
    reaper.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reaper
    await registry.close_all()
