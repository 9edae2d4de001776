"""Running the application on a socket until SIGTERM or SIGINT, then stopping cleanly.

Stopping: the listener closes first (no new connections), in-flight requests get
`SHUTDOWN_GRACE_SECONDS` to finish, streams still open after that are cut (clients
reconnect to another replica), then `cleanup_ctx` closes sessions, children and the store.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable

import structlog
from aiohttp import web

from mcp_gate.app import create_app
from mcp_gate.config.model import GateConfig
from mcp_gate.startup_log import log_started

log = structlog.get_logger()

# policy: long enough for a typical tool call to finish; well under Kubernetes' default
# terminationGracePeriodSeconds (30 s), which the Helm chart raises to 60 s.
SHUTDOWN_GRACE_SECONDS = 15.0


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop where it is installed (Linux, macOS), asyncio's own otherwise or when
    `MCP_GATE_EVENT_LOOP=asyncio` asks for it (to compare the two, or to rule one out)."""
    if os.environ.get("MCP_GATE_EVENT_LOOP", "uvloop") == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run(config: GateConfig) -> None:
    """Serve `config` until a stop signal, on the event loop `event_loop_factory` picks."""
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(serve(config))


async def start_site(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start serving `app`; the caller stops it with `await runner.cleanup()`."""
    # handler_cancellation: a client that disconnects cancels its handler, which closes
    # the upstream request (MCP 2026-07-28: closing the stream is cancellation).
    runner = web.AppRunner(
        app,
        handler_cancellation=True,
        access_log=None,
        shutdown_timeout=SHUTDOWN_GRACE_SECONDS,
    )
    await runner.setup()
    await web.TCPSite(runner, host, port, reuse_address=True).start()
    return runner


async def serve(config: GateConfig) -> None:
    app = create_app(config)
    runner = await start_site(app, config.proxy.host, config.proxy.port)
    log_started(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log.info("gate_stopping", grace_seconds=SHUTDOWN_GRACE_SECONDS)
    await runner.cleanup()
    log.info("gate_stopped")
