"""The `mcp-gate` command: argv → config → logging → app → run, and its exit codes.

    mcp-gate serve [--config FILE]     run the gate (no FILE: the embedded demo config)
    mcp-gate check-config FILE         validate FILE and print the effective config, redacted
    mcp-gate revoke --config FILE --user EMAIL | --client ID
                                       end every grant, token and session of a user or client
    mcp-gate --version                 print the installed version

Exit codes: 0 success; 1 the store could not be reached (revoke); 2 invalid configuration
or usage (nothing was started).
"""

from __future__ import annotations

import argparse
import sys

import structlog

from mcp_gate.config import load_config, render_effective_config
from mcp_gate.config.model import GateConfig
from mcp_gate.demo import demo_config
from mcp_gate.errors import ConfigError, GateError
from mcp_gate.logs import configure_logging
from mcp_gate.startup_log import gate_version

EXIT_OK = 0
EXIT_CONFIG = 2

DESCRIPTION = """\
mcp-gate puts MCP servers behind single sign-on. It serves every server listed in its
config at <baseURL>/<name>/mcp (streamable HTTP) and <baseURL>/<name>/sse (legacy SSE),
makes MCP clients log in through OAuth 2.1 with Google Workspace or another OIDC provider,
admits only the allowed email domains, and forwards the traffic to the backend: a stdio
command it runs per session, or a remote SSE / streamable-HTTP server."""

EPILOG = """\
examples:
  mcp-gate serve                          demo: memory storage, loopback login form,
                                          the time server over stdio, on 127.0.0.1:8080
  mcp-gate serve --config gate.yaml       run with your config
  mcp-gate check-config gate.yaml         validate and print it, secrets redacted
  mcp-gate revoke -c gate.yaml --user alice@example.com
                                          offboard alice on every replica

docs: README.md, docs/config.md (every key), docs/deploy.md (Docker, Kubernetes)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcp-gate",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mcp-gate {gate_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="run the gate",
        description="Run the gate until SIGTERM or SIGINT. Without --config, run the "
        "embedded demo config (loopback only).",
    )
    serve.add_argument("--config", "-c", metavar="FILE", help="YAML or JSON config file")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.add_argument(
        "--log-format",
        default="auto",
        choices=["auto", "json", "console"],
        help="auto: JSON unless stderr is a terminal",
    )
    # Set by the supervisor of `proxy.workers` (workers.py) on each worker it starts.
    serve.add_argument("--worker-index", type=int, default=None, help=argparse.SUPPRESS)
    check = commands.add_parser(
        "check-config",
        help="validate a config file and print the effective config",
        description="Validate FILE, report every problem with its key path, and print the "
        "effective config (defaults filled in) with every secret redacted.",
    )
    check.add_argument("file", metavar="FILE")
    revoke = commands.add_parser(
        "revoke",
        help="end every grant, token and session of a user or a client",
        description="Write a revocation mark in the shared store (storage: redis): every "
        "replica refuses the user's (or client's) grants, access and refresh tokens and "
        "browser sessions from their next check on, and closes their MCP sessions and "
        "stdio children. The user can sign in again if the IdP and allowlist still let them.",
    )
    revoke.add_argument("--config", "-c", metavar="FILE", required=True)
    who = revoke.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", metavar="EMAIL", help="the user's email address")
    who.add_argument(
        "--client",
        metavar="ID",
        help="an OAuth client id (one that begins with '-' is given as --client=ID)",
    )
    return parser


def _load(path: str | None) -> GateConfig:
    return load_config(path) if path else demo_config()


def _revoke(config: GateConfig, user: str | None, client: str | None) -> int:
    import asyncio

    from mcp_gate.offboarding import revoke

    result = asyncio.run(revoke(config, user=user, client=client))
    print(
        f"revoked {result.what}: {result.grants_deleted} grant(s) deleted; tokens, browser "
        "sessions and MCP sessions end at their next check on every replica"
    )
    return EXIT_OK


def _config_problems(what: str, exc: ConfigError) -> int:
    print(f"mcp-gate: {what} ({exc.source}):", file=sys.stderr)
    for problem in exc.problems:
        print(f"  {problem}", file=sys.stderr)
    return EXIT_CONFIG


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = _load(args.file if args.command == "check-config" else args.config)
    except ConfigError as exc:
        return _config_problems("invalid configuration", exc)
    if args.command == "check-config":
        print(render_effective_config(config), end="")
        return EXIT_OK
    log_format = getattr(args, "log_format", "auto")
    log_level = getattr(args, "log_level", "info")
    json_logs = {"auto": None, "json": True, "console": False}[log_format]
    configure_logging(level=log_level, json=json_logs)
    if args.command == "revoke":
        try:
            return _revoke(config, args.user, args.client)
        except ConfigError as exc:
            return _config_problems("cannot revoke", exc)
        except GateError as exc:
            print(f"mcp-gate: cannot revoke: {exc}", file=sys.stderr)
            return 1
    if config.proxy.workers > 1 and args.worker_index is None:
        from mcp_gate.workers import supervise

        options = ["--log-level", log_level, "--log-format", log_format]
        return supervise(args.config, options, config.proxy.workers)
    from mcp_gate.serve import run  # keeps check-config light

    try:
        run(config, args.worker_index)
    except ConfigError as exc:
        return _config_problems("cannot start", exc)
    except GateError as exc:
        structlog.get_logger().error("gate_failed", reason=str(exc))
        return 1
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
