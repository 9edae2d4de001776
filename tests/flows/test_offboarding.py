"""Offboarding with `mcp-gate revoke`, across two replicas sharing one Redis.

docs/deploy.md#offboarding: `mcp-gate revoke --config F --user EMAIL` ends every grant, token,
browser session, MCP session and stdio child of that user, on every replica; `--client ID`
does the same for one OAuth client. The command runs as a process of its own (as an
operator would run it), against the Redis the two in-process gates share.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from mcp_gate.appkeys import CONFIG, SESSIONS
from mcp_gate.config.model import GateConfig, SessionsConfig
from tests.fixtures.gate import RunningGate
from tests.fixtures.oauth_client import RegisteredClient, log_in, refresh, register
from tests.fixtures.oauth_flow import Browser
from tests.fixtures.oidc_provider import OidcTestProvider
from tests.fixtures.process_table import is_gone, wait_until
from tests.fixtures.redis_server import RedisServer
from tests.fixtures.replicas import second_replica, shared_auth_fields
from tests.fixtures.stdio_backends import RawSession, py_stdio, raw_http

pytestmark = pytest.mark.usefixtures("oidc_provider")

REVOKE_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Replicas:
    first: RunningGate
    second: RunningGate


@asynccontextmanager
async def _two_replicas(
    oauth_gate_factory, redis_server: RedisServer, prefix: str, *, cleanup_interval: float = 60.0
) -> AsyncIterator[Replicas]:
    servers = {"py": py_stdio("py", service_auths=())}
    # Every request checks the store, so "at its next request" holds at once.
    fields = shared_auth_fields(redis_server.store_config(prefix), revocation_check_seconds=0.001)
    sessions = SessionsConfig(cleanup_interval_seconds=cleanup_interval)
    gate = oauth_gate_factory(servers, proxy_fields={"sessions": sessions}, **fields)
    async with gate as first, second_replica(first) as second:
        yield Replicas(first, second)


def _cli_config(config: GateConfig, redis_server: RedisServer, prefix: str, path: Path) -> Path:
    """The operator's config file for the same gate: its Redis and its secrets."""
    auth = config.proxy.auth
    assert auth is not None
    assert auth.jwt_secret is not None
    document = {
        "proxy": {
            "baseURL": config.proxy.base_url,
            "audit": {"sink": str(path.parent / "audit.jsonl")},
            "auth": {
                "kind": "oauth",
                "idp": {
                    "provider": "oidc",
                    "clientId": auth.idp.client_id,
                    "clientSecret": "unused-by-revoke",
                    "discoveryUrl": auth.idp.discovery_url,
                },
                "allowedDomains": list(auth.allowed_domains),
                "storage": "redis",
                "redis": {"url": redis_server.url, "keyPrefix": prefix},
                "jwtSecret": auth.jwt_secret.reveal(),
                "encryptionKey": auth.encryption_keys[0].reveal(),
            },
        },
        "mcpServers": {},
    }
    path.write_text(json.dumps(document))
    return path


async def _mcp_gate(*argv: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mcp_gate",
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(REVOKE_TIMEOUT_SECONDS):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def _session(http, gate: RunningGate, access_token: str) -> RawSession:
    session = RawSession(http, gate.url("/py/mcp"), {"Authorization": f"Bearer {access_token}"})
    reply = await session.initialize()
    assert "result" in reply, reply
    return session


async def _log_in_as(
    oidc_provider: OidcTestProvider, gate: RunningGate, email: str, browser: Browser | None = None
) -> tuple[RegisteredClient, object]:
    await oidc_provider.set_next_user(email=email, hd="example.com")
    client = await register(gate.base_url)
    return client, await log_in(gate.base_url, client, browser=browser)


async def _my_apps_status(gate: RunningGate, browser: Browser) -> int:
    """What /my/apps answers this browser: 200 signed in, 303 (to the IdP) signed out."""
    async with (
        aiohttp.ClientSession(cookie_jar=browser.jar) as http,
        http.get(gate.url("/my/apps"), allow_redirects=False) as response,
    ):
        return response.status


async def test_revoke_user_ends_their_session_on_another_replica_and_their_refresh_token(
    oauth_gate_factory, oidc_provider, redis_server, redis_key_prefix, tmp_path
):
    """A live MCP session of alice on replica 2, logged in through replica 1: after
    `mcp-gate revoke --user alice`, her next request there gets 401, her stdio child ends,
    her refresh token is refused and her browser is signed out; bob, on the same replica,
    keeps working."""
    async with _two_replicas(oauth_gate_factory, redis_server, redis_key_prefix) as gates:
        browser = Browser()
        alice_client, alice = await _log_in_as(
            oidc_provider, gates.first, "alice@example.com", browser
        )
        bob_client, bob = await _log_in_as(oidc_provider, gates.first, "bob@example.com")
        signed_in_before = await _my_apps_status(gates.second, browser)
        async with raw_http() as http:
            alice_session = await _session(http, gates.second, alice.access_token)
            bob_session = await _session(http, gates.second, bob.access_token)
            alice_child = await alice_session.child_pid()
            path = _cli_config(
                gates.first.app[CONFIG], redis_server, redis_key_prefix, tmp_path / "gate.json"
            )
            code, out, err = await _mcp_gate(
                "revoke", "--config", str(path), "--user", "Alice@Example.com"
            )
            await alice_session.post({"jsonrpc": "2.0", "id": 9, "method": "tools/list"})
            alice_status = alice_session.last_status
            await wait_until(lambda: is_gone(alice_child), "alice's stdio child to end")
            bob_reply = await bob_session.call_tool("echo", {"text": "still here"})
            registry = gates.second.app[SESSIONS]
            owners = {s.principal.email for s in registry.sessions()}
        alice_refresh = await refresh(gates.second.base_url, alice_client, alice.refresh_token)
        bob_refresh = await refresh(gates.first.base_url, bob_client, bob.refresh_token)
        signed_in_after = await _my_apps_status(gates.second, browser)
    assert code == 0, err
    audit_lines = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [(line["event"], line["email"], line["by"]) for line in audit_lines] == [
        ("principal_revoked", "alice@example.com", "mcp-gate revoke")
    ]
    assert (signed_in_before, signed_in_after) == (200, 303)  # her browser session ended
    assert "revoked user alice@example.com" in out
    assert alice_status == 401
    assert owners == {"bob@example.com"}
    assert "still here" in json.dumps(bob_reply)
    assert alice_refresh.status == 400
    assert alice_refresh.error == "invalid_grant"
    assert bob_refresh.status == 200, bob_refresh.text


async def test_the_session_reaper_ends_a_revoked_users_idle_session(
    oauth_gate_factory, oidc_provider, redis_server, redis_key_prefix, tmp_path
):
    """No further request comes: the reaper's next round on the other replica finds the
    mark and closes alice's session, stopping her stdio child."""
    async with _two_replicas(
        oauth_gate_factory, redis_server, redis_key_prefix, cleanup_interval=0.2
    ) as gates:
        _, alice = await _log_in_as(oidc_provider, gates.first, "alice@example.com")
        async with raw_http() as http:
            session = await _session(http, gates.second, alice.access_token)
            child = await session.child_pid()
            path = _cli_config(
                gates.first.app[CONFIG], redis_server, redis_key_prefix, tmp_path / "gate.json"
            )
            code, _, err = await _mcp_gate("revoke", "-c", str(path), "--user", "alice@example.com")
            await wait_until(lambda: is_gone(child), "alice's stdio child to end")
            left = gates.second.app[SESSIONS].sessions()
    assert code == 0, err
    assert left == []


async def test_revoke_client_ends_that_clients_grants_and_no_other(
    oauth_gate_factory, oidc_provider, redis_server, redis_key_prefix, tmp_path
):
    """`mcp-gate revoke --client ID`: that client's access and refresh tokens stop on
    every replica; the same user's other client keeps both."""
    async with _two_replicas(oauth_gate_factory, redis_server, redis_key_prefix) as gates:
        revoked_client, revoked = await _log_in_as(oidc_provider, gates.first, "alice@example.com")
        kept_client, kept = await _log_in_as(oidc_provider, gates.first, "alice@example.com")
        path = _cli_config(
            gates.first.app[CONFIG], redis_server, redis_key_prefix, tmp_path / "gate.json"
        )
        code, _, err = await _mcp_gate(
            # `=`: a generated client id may begin with "-", which argparse would take for
            # an option.
            "revoke",
            "--config",
            str(path),
            f"--client={revoked_client.client_id}",
        )
        async with raw_http() as http:
            refused = RawSession(
                http,
                gates.second.url("/py/mcp"),
                {"Authorization": f"Bearer {revoked.access_token}"},
            )
            await refused.initialize()
            still = await _session(http, gates.second, kept.access_token)
            await still.request("tools/list")
        revoked_refresh = await refresh(
            gates.second.base_url, revoked_client, revoked.refresh_token
        )
        kept_refresh = await refresh(gates.second.base_url, kept_client, kept.refresh_token)
    assert code == 0, err
    assert refused.last_status == 401
    assert still.last_status == 200
    assert revoked_refresh.error == "invalid_grant"
    assert kept_refresh.status == 200, kept_refresh.text


async def test_revoke_refuses_memory_storage_naming_the_key(write_config):
    """A memory store lives inside one gate: revoke says so (exit 2) instead of pretending."""
    path = write_config(
        "proxy:\n  baseURL: http://127.0.0.1:8080\n  auth:\n    kind: oauth\n"
        "    idp: {provider: dev}\nmcpServers: {}\n",
        "gate.yaml",
    )
    code, _, err = await _mcp_gate("revoke", "--config", str(path), "--user", "a@example.com")
    assert code == 2
    assert "proxy.auth.storage" in err
