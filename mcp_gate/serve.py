"""Running the application on a socket until SIGTERM or SIGINT, then stopping cleanly.

In a cluster (`proxy.cluster`) the app is served on a second listener too, the internal one
that takes only hops from other replicas (web/session_relay.py).

Stopping, on the first signal: the replica leaves the cluster (its lease is deleted, so the
other replicas answer 404 for its sessions at once and their clients re-initialize
elsewhere) and opens no new session; the listeners close (no new connections); bridged GET
streams end at once (no response rides them, app.py); every other request, streams
included, gets `proxy.shutdownGrace` (15 s) to finish, and whatever is still open then is cut
(clients reconnect, to another replica if there is one); then `cleanup_ctx` closes
sessions, children and the store. The whole stop takes at most the grace plus a moment.
A second signal during it stops at once: children are killed and the process exits.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable

import structlog
from aiohttp import web

from mcp_gate.app import create_app
from mcp_gate.appkeys import CLUSTER, CONFIG, IN_FLIGHT, SESSIONS, STANDALONE_STREAMS
from mcp_gate.config.model import GateConfig, split_addr
from mcp_gate.logs import drain_log_lines
from mcp_gate.spliced_streams import SplicingSite
from mcp_gate.startup_log import log_started
from mcp_gate.workers import worker_config

log = structlog.get_logger()

# Handlers cut at the end of the grace unwind in milliseconds; this bounds a stuck one.
CUT_WAIT_SECONDS = 1.0
# The exit status of a stop hurried by a second signal (128 + SIGINT, as shells report).
EXIT_HURRIED = 130


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


def run(config: GateConfig, worker_index: int | None = None) -> None:
    """Serve `config` until a stop signal, on the event loop `event_loop_factory` picks;
    as worker `worker_index` of `proxy.workers` (workers.py) when given."""
    if worker_index is not None:
        config = worker_config(config, worker_index)
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(serve(config))


async def start_site(
    app: web.Application, host: str, port: int, *, reuse_port: bool = False
) -> web.AppRunner:
    """Start serving `app` (and its internal listener, in a cluster); the caller stops it
    with `stop`. `reuse_port`: several worker processes share `host:port` (SO_REUSEPORT)."""
    # handler_cancellation: a client that disconnects cancels its handler, which closes
    # the upstream request (MCP 2026-07-28: closing the stream is cancellation).
    # shutdown_timeout: aiohttp waits this long twice per connection at cleanup; the grace
    # is applied before that (`stop`), so by then nothing should be left to wait for.
    runner = web.AppRunner(
        app,
        handler_cancellation=True,
        access_log=None,
        shutdown_timeout=CUT_WAIT_SECONDS,
    )
    await runner.setup()
    # Long-lived streams leave aiohttp's request machinery once established
    # (spliced_streams.py), on every site.
    await SplicingSite(runner, host, port, reuse_port=reuse_port).start()
    cluster = app[CONFIG].proxy.cluster
    if cluster is not None:
        internal_host, internal_port = split_addr(cluster.internal_addr)
        await SplicingSite(runner, internal_host, internal_port).start()
    return runner


async def stop(app: web.Application, runner: web.AppRunner, grace_seconds: float) -> None:
    """Leave the cluster, stop taking connections, let requests finish within the grace,
    cut the rest, clean up."""
    app[SESSIONS].draining = True
    await app[CLUSTER].replica.withdraw()
    for site in list(runner.sites):
        await site.stop()
    streams = app[STANDALONE_STREAMS]
    for stream in list(streams):
        stream.cancel()
    in_flight = app[IN_FLIGHT]
    if in_flight:
        _, still_running = await asyncio.wait(set(in_flight), timeout=grace_seconds)
        for task in still_running:
            task.cancel()
        if still_running:
            log.info("requests_cut", count=len(still_running))
            await asyncio.wait(still_running, timeout=CUT_WAIT_SECONDS)
    await runner.cleanup()


async def serve(config: GateConfig) -> None:
    app = create_app(config)
    reuse_port = config.proxy.workers > 1
    runner = await start_site(app, config.proxy.host, config.proxy.port, reuse_port=reuse_port)
    log_started(config)
    loop = asyncio.get_running_loop()
    signals: asyncio.Queue[int] = asyncio.Queue()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, signals.put_nowait, signum)
    await signals.get()
    grace = config.proxy.shutdown_grace_seconds
    log.info("gate_stopping", grace_seconds=grace)
    stopping = asyncio.create_task(stop(app, runner, grace))
    second = asyncio.create_task(signals.get())
    await asyncio.wait({stopping, second}, return_when=asyncio.FIRST_COMPLETED)
    if not stopping.done():
        log.warning("gate_stopped_at_once", reason="a second stop signal")
        app[SESSIONS].kill_children()
        drain_log_lines()
        os._exit(EXIT_HURRIED)  # nothing else must run: the operator asked to stop now
    second.cancel()
    stopping.result()
    log.info("gate_stopped")
