"""Operations routes: liveness (`/health`), readiness (`/ready`: storage reachable) and
Prometheus metrics (`/metrics`)."""

from __future__ import annotations

from aiohttp import web

from mcp_gate.appkeys import METRICS, STORE
from mcp_gate.errors import StorageUnavailableError


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    try:
        await request.app[STORE].ping()
    except StorageUnavailableError:
        return web.json_response({"status": "unavailable", "storage": "unreachable"}, status=503)
    return web.json_response({"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    return web.Response(
        text=request.app[METRICS].render(),
        content_type="text/plain",
        charset="utf-8",
        headers={"Cache-Control": "no-store"},
    )
