"""Scenario 7: scale-out. A call relayed to the session's owner replica against the same
call made on the owner itself, and throughput with 1 and 2 workers on one port.

Replicas: two `mcp-gate serve` processes on one Redis with `proxy.cluster`, one `baseURL`
(the first's), one jwtSecret, so one token serves both. The stdio echo session opens on
the owner; "direct to owner" calls it there, "relayed" calls the other replica with the
same session id (every call crosses the internal hop). Workers: one gate with
`proxy.workers: 1`, one with `2` (each clustered, on Redis), 32 clients with a session
each, spread over the workers by the kernel (SO_REUSEPORT); a request that lands on a
worker other than its session's owner is relayed, as behind a balancer.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from bench.calls import Target, compare, run_job
from bench.settings import Settings
from bench.stack import HTTP_SERVER, STDIO_SERVER, VENV_BIN, Gate, Stack, gate_config, pid_of
from bench.stats import median_of_runs
from bench.tokens import obtain_token
from tests.fixtures.mcp_servers import run_server
from tests.fixtures.ports import free_port


def _clustered_document(
    stack: Stack, port: int, base_url: str, client_id: str, prefix: str, workers: int
) -> dict[str, Any]:
    document = gate_config(stack, port, client_id, "redis")
    proxy = document["proxy"]
    assert isinstance(proxy, dict)
    internal = free_port(other_than=(port,))
    proxy["baseURL"] = base_url
    proxy["workers"] = workers
    proxy["metricsAddr"] = ""
    proxy["cluster"] = {"advertiseURL": f"http://127.0.0.1:{internal}"}
    proxy["auth"]["redis"]["keyPrefix"] = prefix
    return document


@contextmanager
def running_replicas(stack: Stack, count: int, workers: int = 1) -> Iterator[list[Gate]]:
    """`count` clustered gates sharing the first one's baseURL, keys and Redis prefix."""
    ports: list[int] = []
    for _ in range(count):
        ports.append(free_port(other_than=tuple(ports)))
    base_url = f"http://127.0.0.1:{ports[0]}"
    client_id, client_secret = f"bench-relay-{ports[0]}", secrets.token_urlsafe(24)
    asyncio.run(
        stack.oidc.register_client(client_id, client_secret, [f"{base_url}/oauth/callback"])
    )
    env = {
        **os.environ,
        "BENCH_IDP_CLIENT_SECRET": client_secret,
        "BENCH_JWT_SECRET": secrets.token_urlsafe(48),
        "BENCH_ENCRYPTION_KEY": base64.b64encode(os.urandom(32)).decode(),
        "BENCH_REDIS_URL": stack.redis.url,
    }
    prefix = f"bench-relay-{ports[0]}:"
    with ExitStack() as processes:
        gates = []
        for port in ports:
            document = _clustered_document(stack, port, base_url, client_id, prefix, workers)
            path: Path = stack.log_dir / f"gate-relay-{port}.json"
            path.write_text(json.dumps(document, indent=2))
            argv = [
                str(VENV_BIN / "mcp-gate"),
                "serve",
                "--config",
                str(path),
                "--log-format",
                "json",
            ]
            process = processes.enter_context(
                run_server(
                    f"gate-relay-{port}", argv, port=port, path="", log_dir=stack.log_dir, env=env
                )
            )
            gates.append(Gate(f"replica-{port}", process, pid_of(argv)))
        yield gates


def _calls(
    target: Target, settings: Settings, clients: int, open_url: str | None = None
) -> dict[str, Any]:
    job: dict[str, Any] = {
        "kind": "calls", "url": target.url, "token": target.token, "clients": clients,
        "warmup_seconds": settings.warmup_seconds, "seconds": settings.seconds,
    }  # fmt: skip
    if open_url is not None:
        job["open_url"] = open_url
    return run_job(job)


def relayed_calls(stack: Stack, settings: Settings) -> dict[str, Any]:
    """Direct-to-owner vs relayed tools/call on one stdio session, interleaved."""
    with running_replicas(stack, 2) as (owner, other):
        token = obtain_token(owner.url(STDIO_SERVER))
        owner_url, other_url = owner.url(STDIO_SERVER), other.url(STDIO_SERVER)
        runs: dict[str, list[dict[str, Any]]] = {"owner": [], "relayed": []}
        for _ in range(settings.repetitions):
            runs["owner"].append(_calls(Target("owner", owner_url, token), settings, 1))
            relayed = Target("relayed", other_url, token)
            runs["relayed"].append(_calls(relayed, settings, 1, open_url=owner_url))
    figures = {name: median_of_runs(samples) for name, samples in runs.items()}
    return compare(figures["owner"], figures["relayed"])


def worker_throughput(stack: Stack, settings: Settings) -> dict[str, Any]:
    """Throughput of the streamable pass-through at N clients, 1 worker against 2."""
    figures: dict[str, Any] = {}
    for workers in (1, 2):
        with running_replicas(stack, 1, workers=workers) as (gate,):
            target = Target(
                f"workers-{workers}", gate.url(HTTP_SERVER), obtain_token(gate.url(HTTP_SERVER))
            )
            samples = [
                _calls(target, settings, settings.concurrent_clients)
                for _ in range(settings.repetitions)
            ]
            figures[f"workers_{workers}"] = median_of_runs(samples)
    one, two = figures["workers_1"], figures["workers_2"]
    return figures | {"throughput_ratio_2_to_1": two["throughput_rps"] / one["throughput_rps"]}
