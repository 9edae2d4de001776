"""`proxy.workers: N`: N gate processes on one `addr`, supervised by the one `serve` started.

Each worker is `mcp-gate serve` again with `--worker-index i`: a whole gate and a replica
of its own (its own sessions, children and lease), listening on the shared public `addr`
with SO_REUSEPORT (the kernel spreads new connections over the workers) and on an internal
port of its own, `proxy.cluster.internalAddr`'s port + i, advertised as
`advertiseURL`'s port + i, so the other workers (and other hosts' replicas) relay its
sessions' requests to exactly this process. A `metricsAddr` moves up by i the same way.

The supervisor binds nothing and serves nothing. A worker that exits while the supervisor
is not stopping (a crash, an OOM kill) is started again after `RESTART_DELAY_SECONDS`;
its sessions are gone with it (clients get 404 and re-initialize). SIGTERM or SIGINT goes
to every worker, each stops as `serve.py` describes (its grace), and the supervisor exits
when they all have; a second signal is passed on too (workers then stop at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence
from dataclasses import replace

import structlog

from mcp_gate.config.model import GateConfig, ProxyConfig, split_addr

log = structlog.get_logger()

# policy: a worker that crashes at once (a bad backend command cannot crash it, but a
# full disk can) must not spin the host; a second is short next to a client's retry.
RESTART_DELAY_SECONDS = 1.0


def worker_config(config: GateConfig, index: int) -> GateConfig:
    """The config worker `index` runs: its internal and metrics ports moved up by `index`."""
    proxy: ProxyConfig = config.proxy
    cluster = proxy.cluster.for_worker(index) if proxy.cluster is not None else None
    metrics_addr = proxy.metrics_addr
    if metrics_addr:
        host, port = split_addr(metrics_addr)
        metrics_addr = f"{host}:{port + index}"
    return replace(config, proxy=replace(proxy, cluster=cluster, metrics_addr=metrics_addr))


class Supervisor:
    """Runs `count` workers of `argv + ["--worker-index", i]` until a stop signal."""

    def __init__(self, argv: Sequence[str], count: int) -> None:
        self._argv = list(argv)
        self._count = count
        self._workers: dict[int, asyncio.subprocess.Process] = {}
        self._stopping = False

    async def _start(self, index: int) -> None:
        # A session of its own: a terminal's Ctrl-C reaches the supervisor only, which
        # passes it on once (twice would make the workers stop at once).
        process = await asyncio.create_subprocess_exec(
            *self._argv,
            "--worker-index",
            str(index),
            stdin=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        self._workers[index] = process
        log.info("worker_started", worker=index, pid=process.pid)

    async def _watch(self, index: int) -> None:
        while True:
            process = self._workers[index]
            status = await process.wait()
            if self._stopping:
                return
            log.warning("worker_exited", worker=index, pid=process.pid, status=status)
            await asyncio.sleep(RESTART_DELAY_SECONDS)
            if self._stopping:
                return
            await self._start(index)

    def _signal_all(self, signum: int) -> None:
        self._stopping = True
        for process in self._workers.values():
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signum)

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._signal_all, signum)
        for index in range(self._count):
            await self._start(index)
        await asyncio.gather(*(self._watch(index) for index in range(self._count)))
        log.info("workers_stopped")
        return 0


def supervise(config_path: str, options: Sequence[str], count: int) -> int:
    """Run `count` workers of `mcp-gate serve --config config_path` with `options`."""
    argv = [sys.executable, "-m", "mcp_gate", "serve", "--config", config_path, *options]
    return asyncio.run(Supervisor(argv, count).run())
