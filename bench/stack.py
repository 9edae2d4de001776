"""The processes of one benchmark run, each in its own process on a free loopback port.

- the echo backend (`backend.py`), once, shared by every target;
- the OpenID provider of the tests (`tests/servers/oidc/provider.mjs`), standing in for
  Google, so gate tokens come from the real OAuth flow;
- `redis-server`, for the gate with `storage: redis`;
- gates: `mcp-gate serve --config <generated file>`, exactly as an operator runs it, with
  JSON logs (the access log included) going to a file, and the secrets in its environment.

Starting, waiting for the port and stopping reuse the test suite's helpers
(`tests.fixtures.mcp_servers.run_server`, `tests.fixtures.redis_server.RedisServer`), so a
process that dies or never listens fails with the end of its log.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tests.fixtures.mcp_servers import RunningServer, run_server
from tests.fixtures.oidc_provider import SERVER_DIR as OIDC_DIR
from tests.fixtures.oidc_provider import OidcTestProvider
from tests.fixtures.ports import free_port
from tests.fixtures.redis_server import RedisServer

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
# The gate's servers: the same echo backend behind each front and transport.
HTTP_SERVER, SSE_SERVER, STDIO_SERVER, TIME_SERVER = "echo", "echo-sse", "echo-stdio", "time"
# The aggregate over the stdio echo server: its echo tool is `echo-stdio.echo` there.
AGGREGATE_SERVER = "all"
# Scenario 8: the streamable server again, with an access rule and 20 tool rules, none of
# which matches `echo` (the worst case: every glob is tried, then `access` decides).
POLICY_SERVER = "echo-policy"
POLICY_TOOL_RULES = 20


def _policy() -> dict[str, object]:
    return {
        "access": {"domains": ["example.com"]},
        "tools": [
            {"name": f"admin_{index}_*", "emails": ["admin@example.com"]}
            for index in range(POLICY_TOOL_RULES)
        ],
    }


Storage = Literal["memory", "redis"]
MAX_SESSIONS_PER_USER = 1_000_000


@dataclass(frozen=True)
class Gate:
    name: str
    process: RunningServer
    pid: int

    @property
    def base_url(self) -> str:
        return self.process.url

    def url(self, server: str, front: str = "mcp") -> str:
        return f"{self.base_url}/{server}/{front}"


@dataclass(frozen=True)
class Stack:
    backend: RunningServer
    backend_pid: int
    oidc: OidcTestProvider
    redis: RedisServer
    log_dir: Path

    @property
    def backend_url(self) -> str:
        return self.backend.url


@contextmanager
def running_stack(log_dir: Path) -> Iterator[Stack]:
    """The backend, the OpenID provider and Redis, stopped when the block ends."""
    if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        raise RuntimeError("run `npm ci --prefix tests/servers/oidc` (make bench does)")
    with ExitStack() as stack:
        backend = stack.enter_context(running_backend(log_dir))
        oidc_port = free_port()
        stack.enter_context(
            run_server(
                "oidc",
                ["node", str(OIDC_DIR / "provider.mjs")],
                port=oidc_port,
                path="",
                log_dir=log_dir,
                env={**os.environ, "OIDC_PORT": str(oidc_port)},
            )
        )
        redis = stack.enter_context(RedisServer(log_dir))
        oidc = OidcTestProvider(oidc_port)
        yield Stack(backend.process, backend.pid, oidc, redis, log_dir)


@contextmanager
def running_backend(log_dir: Path, prefix: tuple[str, ...] = ()) -> Iterator[Gate]:
    """The minimal MCP backend (backend.py) on a free port; `prefix` as for `running_gate`."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.backend", "--port", str(port)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with run_server(
        "backend", [*prefix, *argv], port=port, path="", log_dir=log_dir, env=env
    ) as process:
        yield Gate("backend", process, pid_of(argv))


def gate_config(stack: Stack, port: int, client_id: str, storage: Storage) -> dict[str, object]:
    """The gate's config file (JSON, which the loader reads as it reads YAML)."""
    auth: dict[str, object] = {
        "kind": "oauth",
        "idp": {
            "provider": "oidc",
            "clientId": client_id,
            "clientSecret": {"$env": "BENCH_IDP_CLIENT_SECRET"},
            "discoveryUrl": stack.oidc.discovery_url,
        },
        "allowedDomains": ["example.com"],
        "storage": storage,
        "jwtSecret": {"$env": "BENCH_JWT_SECRET"},
        "encryptionKey": {"$env": "BENCH_ENCRYPTION_KEY"},
    }
    if storage == "redis":
        auth["redis"] = {"url": {"$env": "BENCH_REDIS_URL"}, "keyPrefix": f"bench-{port}:"}
    return {
        "proxy": {
            "baseURL": f"http://127.0.0.1:{port}",
            "addr": f"127.0.0.1:{port}",
            # Two gates run side by side in a bench: each its own metrics port.
            "metricsAddr": f"127.0.0.1:{free_port(other_than=(port,))}",
            # Every stream of the idle scenario is one user's. (0, documented as "no
            # limit", is refused by the session registry today.)
            "sessions": {"maxPerUser": MAX_SESSIONS_PER_USER},
            # Scenario 6's 24 MiB results are over the 16 MiB default.
            "maxMessageSize": "32MiB",
            "auth": auth,
        },
        "mcpServers": {
            HTTP_SERVER: {"transportType": "streamable-http", "url": f"{stack.backend_url}/mcp"},
            POLICY_SERVER: {
                "transportType": "streamable-http",
                "url": f"{stack.backend_url}/mcp",
                **_policy(),
            },
            SSE_SERVER: {"transportType": "sse", "url": f"{stack.backend_url}/sse"},
            STDIO_SERVER: {
                "transportType": "stdio",
                "command": sys.executable,
                "args": ["-m", "bench.stdio_server"],
                "cwd": str(REPO),
            },
            TIME_SERVER: {"transportType": "stdio", "command": str(VENV_BIN / "mcp-server-time")},
            AGGREGATE_SERVER: {"type": "aggregate", "servers": [STDIO_SERVER]},
        },
    }


@contextmanager
def running_gate(
    stack: Stack, name: str, storage: Storage = "memory", prefix: tuple[str, ...] = ()
) -> Iterator[Gate]:
    """`mcp-gate serve` on a generated config, registered as a client at the provider;
    `prefix` runs it under another program (valgrind: instructions.py)."""
    port = free_port()
    client_id, client_secret = f"bench-{name}-{port}", secrets.token_urlsafe(24)
    callback = f"http://127.0.0.1:{port}/oauth/callback"
    asyncio.run(stack.oidc.register_client(client_id, client_secret, [callback]))
    config_path = stack.log_dir / f"gate-{name}.json"
    config_path.write_text(json.dumps(gate_config(stack, port, client_id, storage), indent=2))
    env = {
        **os.environ,
        "BENCH_IDP_CLIENT_SECRET": client_secret,
        "BENCH_JWT_SECRET": secrets.token_urlsafe(48),
        "BENCH_ENCRYPTION_KEY": base64.b64encode(os.urandom(32)).decode(),
        "BENCH_REDIS_URL": stack.redis.url,
    }
    argv = [
        str(VENV_BIN / "mcp-gate"),
        "serve",
        "--config",
        str(config_path),
        "--log-format",
        "json",
    ]
    with run_server(
        f"gate-{name}", [*prefix, *argv], port=port, path="", log_dir=stack.log_dir, env=env
    ) as process:
        # (The console script's shebang puts the interpreter in front of argv.)
        yield Gate(name, process, pid_of(argv))


@contextmanager
def running_floor(stack: Stack, prefix: tuple[str, ...] = ()) -> Iterator[Gate]:
    """The bare forwarder (floor.py) in front of the stack's backend."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.floor", "--port", str(port)]
    argv += ["--backend", f"{stack.backend_url}/mcp"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with run_server(
        "floor", [*prefix, *argv], port=port, path="", log_dir=stack.log_dir, env=env
    ) as process:
        yield Gate("floor", process, pid_of(argv))


def pid_of(argv: list[str]) -> int:
    """The pid of the process whose command line ends with `argv` (Linux /proc)."""
    wanted = "\0".join(argv).encode() + b"\0"
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().endswith(wanted):
                return int(entry.name)
        except OSError:
            continue  # it exited meanwhile
    raise RuntimeError(f"no process runs {argv}")
