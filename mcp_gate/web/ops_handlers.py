"""Operations routes: liveness (`/health`) and readiness (`/ready`: storage reachable).

Prometheus metrics are served by the metrics listener (metrics_listener.py), not here."""

from __future__ import annotations

from aiohttp import web

from mcp_gate.appkeys import STORE
from mcp_gate.errors import StorageUnavailableError


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    try:
        await request.app[STORE].ping()
    except StorageUnavailableError:
        return web.json_response({"status": "unavailable", "storage": "unreachable"}, status=503)
    return web.json_response({"status": "ready"})
