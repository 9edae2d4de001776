"""The metrics listener: Prometheus `/metrics` on `proxy.metricsAddr`, never on the public one.

A second aiohttp site with one route, opened and closed with the gate's application (one of
its `cleanup_ctx`), so whatever runs the app (`mcp-gate serve`, the tests) gets it, and it
keeps answering while the public listener drains. It reads the app's `Metrics` and nothing
else: no middlewares, no access log, no authentication. What it serves names servers,
routes and failure counts, so it listens on loopback unless the operator chooses otherwise
(the Helm chart listens on the pod's interfaces for Prometheus, never through the Ingress).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from mcp_gate.appkeys import CONFIG, METRICS
from mcp_gate.config.model import split_addr
from mcp_gate.errors import ConfigError

log = structlog.get_logger()

METRICS_PATH = "/metrics"
# policy: a scrape is answered from memory at once; nothing on this listener is worth
# holding a shutdown for.
METRICS_SHUTDOWN_SECONDS = 1.0


async def _metrics(request: web.Request) -> web.Response:
    return web.Response(
        text=request.app[METRICS].render(),
        content_type="text/plain",  # Prometheus text exposition format 0.0.4
        charset="utf-8",
        headers={"Cache-Control": "no-store"},
    )


def _metrics_app(gate: web.Application) -> web.Application:
    app = web.Application()
    app[METRICS] = gate[METRICS]
    app.router.add_get(METRICS_PATH, _metrics)
    return app


async def metrics_listener(gate: web.Application) -> AsyncIterator[None]:
    """`cleanup_ctx` of the gate's app: listen on `proxy.metricsAddr` ("" serves none).

    A busy or unusable address is a `ConfigError` naming the key, before anything else of
    the app has been opened.
    """
    addr = gate[CONFIG].proxy.metrics_addr
    if not addr:
        yield
        return
    runner = web.AppRunner(
        _metrics_app(gate), access_log=None, shutdown_timeout=METRICS_SHUTDOWN_SECONDS
    )
    await runner.setup()
    host, port = split_addr(addr)
    try:
        await web.TCPSite(runner, host, port, reuse_address=True).start()
    except OSError as exc:
        await runner.cleanup()
        reason = exc.strerror or str(exc)
        raise ConfigError(
            [
                f"proxy.metricsAddr: cannot listen on {addr} ({reason}); "
                'choose another host:port, or "" for no metrics listener'
            ],
            source="metrics listener",
        ) from None
    log.debug("metrics_listening", addr=addr)
    try:
        yield
    finally:
        await runner.cleanup()
