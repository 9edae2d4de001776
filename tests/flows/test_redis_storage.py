"""The authorization server on `storage: redis`: restarts, replicas, Redis outages and a
Sentinel failover.

docs/config.md `storage`: with Redis, what the AS issued survives a restart of the gate
and is shared by replicas that have the same `jwtSecret` and `encryptionKey`;
docs/redis.md: Redis down means 503 with a clear body (fail closed), and service resumes
by itself when Redis returns; that holds for Redis behind Sentinel too, whose primary may
change under a running gate.
"""

from __future__ import annotations

import base64
import os
from dataclasses import replace

import pytest
from structlog.testing import capture_logs

from mcp_gate.appkeys import CONFIG
from mcp_gate.config.model import RedisConfig, Secret
from tests.fixtures.gate import free_addr, remote, running_gate
from tests.fixtures.mcp_clients import streamable_client
from tests.fixtures.oauth_client import (
    Answer,
    Pkce,
    RegisteredClient,
    authorization_url,
    log_in,
    mcp_initialize,
    refresh,
    register,
    request,
)
from tests.fixtures.oauth_flow import Browser, MemoryTokenStorage, sdk_oauth
from tests.fixtures.ports import free_port
from tests.fixtures.redis_sentinel import replicated
from tests.fixtures.redis_server import until_served

pytestmark = pytest.mark.usefixtures("oidc_provider")


def _servers(backend):
    return {"py": remote("py", "streamable-http", backend.url)}


def _redis_fields(redis: RedisConfig) -> dict[str, object]:
    """What replicas (or one gate and its next start) share: Redis and both secrets."""
    return {
        "storage": "redis",
        "redis": redis,
        "jwt_secret": Secret(base64.b64encode(os.urandom(32)).decode()),
        "encryption_keys": (Secret(base64.b64encode(os.urandom(32)).decode()),),
    }


async def _echo(url: str, access_token: str, text: str) -> str:
    headers = {"Authorization": f"Bearer {access_token}"}
    async with streamable_client(url, headers) as mcp:
        result = await mcp.call_tool("echo", {"text": text})
    return result.content[0].text


async def test_token_issued_before_a_gate_restart_still_works_after_it(
    oauth_gate_factory, py_streamable_server, redis_server, redis_key_prefix
):
    """docs/config.md `storage`: with `storage: redis`, grants and tokens survive a restart of the
    gate."""
    fields = _redis_fields(redis_server.store_config(redis_key_prefix))
    port = free_port()
    storage = MemoryTokenStorage()
    async with oauth_gate_factory(_servers(py_streamable_server), port=port, **fields) as gate:
        url = gate.url("/py/mcp")
        first = sdk_oauth(url, storage=storage)
        async with streamable_client(url, auth=first.provider) as mcp:
            await mcp.call_tool("echo", {"text": "before"})
    assert storage.tokens is not None
    assert storage.tokens.refresh_token
    async with oauth_gate_factory(_servers(py_streamable_server), port=port, **fields) as gate:
        second = sdk_oauth(url, storage=storage)
        async with streamable_client(url, auth=second.provider) as mcp:
            result = await mcp.call_tool("echo", {"text": "after the restart"})
        client_info = storage.client_info
        assert client_info is not None
        refreshed = await refresh(
            gate.base_url,
            _as_registered(client_info),
            storage.tokens.refresh_token,
        )
    assert result.content[0].text == "after the restart"
    assert second.callbacks == []  # no new login was needed
    assert refreshed.status == 200, refreshed.text


def _as_registered(client_info) -> RegisteredClient:
    return RegisteredClient(
        client_id=client_info.client_id,
        client_secret=client_info.client_secret,
        auth_method=client_info.token_endpoint_auth_method or "client_secret_basic",
        redirect_uri=str(client_info.redirect_uris[0]),
    )


async def test_two_gates_sharing_redis_serve_the_same_user(
    oauth_gate_factory, py_streamable_server, redis_server, redis_key_prefix
):
    """docs/config.md `storage`: replicas behind one baseURL share grants, tokens and clients
    through Redis."""
    fields = _redis_fields(redis_server.store_config(redis_key_prefix))
    async with oauth_gate_factory(_servers(py_streamable_server), **fields) as first:
        config = first.app[CONFIG]
        # The second replica: same config and baseURL, its own listening port.
        replica_port = free_port()
        replica_proxy = replace(
            config.proxy,
            addr=f"127.0.0.1:{replica_port}",
            metrics_addr=free_addr(other_than=(replica_port,)),
        )
        replica_config = replace(config, proxy=replica_proxy)
        async with running_gate(replica_config):
            replica = f"http://127.0.0.1:{replica_port}"
            client = await register(first.base_url)
            tokens = await log_in(first.base_url, client)
            on_replica = await _echo(f"{replica}/py/mcp", tokens.access_token, "on gate 2")
            refreshed = await refresh(replica, client, tokens.refresh_token)
            back_on_first = await _echo(first.url("/py/mcp"), refreshed.access_token, "on gate 1")
            registered_on_replica = await register(replica)
            login_via_first = await log_in(first.base_url, registered_on_replica)
    assert on_replica == "on gate 2"
    assert refreshed.status == 200, refreshed.text
    assert back_on_first == "on gate 1"
    assert login_via_first.status == 200


async def test_redis_down_means_503_with_a_clear_body_and_service_resumes_when_it_returns(
    oauth_gate_factory, py_streamable_server, private_redis_server, redis_key_prefix
):
    """docs/redis.md, When Redis fails: fail closed with 503 while Redis is down; recover by
    itself."""
    fields = _redis_fields(private_redis_server.store_config(redis_key_prefix))
    async with oauth_gate_factory(_servers(py_streamable_server), **fields) as gate:
        client = await register(gate.base_url)
        tokens = await log_in(gate.base_url, client)
        private_redis_server.stop()
        try:
            with capture_logs() as logs:
                on_mcp = await mcp_initialize(gate.url("/py/mcp"), tokens.access_token)
            on_ready = await request("GET", gate.url("/ready"))
            on_authorize = await request(
                "GET", authorization_url(gate.base_url, client, pkce=Pkce.new())
            )
            on_token = await refresh(gate.base_url, client, tokens.refresh_token)
            on_health = await request("GET", gate.url("/health"))
            on_metadata = await request("GET", gate.url("/.well-known/oauth-authorization-server"))
        finally:
            private_redis_server.start()
        ready_again = await request("GET", gate.url("/ready"))
        # This test Redis keeps nothing across a restart, so the client registers anew.
        client_again = await register(gate.base_url)
        tokens_again = await log_in(gate.base_url, client_again, browser=Browser())
        works_again = await _echo(gate.url("/py/mcp"), tokens_again.access_token, "resumed")
    for answer in (on_mcp, on_authorize, on_token):
        assert answer.status == 503
        assert "storage cannot be reached" in answer.text
    [logged] = [entry for entry in logs if entry["event"] == "storage_unavailable"]
    assert "ConnectionError" in logged["reason"]  # why, for the operator
    assert on_ready.status == 503
    assert on_ready.json == {"status": "unavailable", "storage": "unreachable"}
    assert on_health.status == 200  # liveness: the process is fine, do not restart it
    assert on_metadata.status == 200  # discovery needs no storage, and never answers 5xx
    assert ready_again.status == 200
    assert works_again == "resumed"


async def test_token_outlives_a_redis_outage(
    oauth_gate_factory, py_streamable_server, private_redis_server, redis_key_prefix
):
    """docs/redis.md, When Redis fails: a hung Redis gets 503 (bounded), and the same token works
    after."""
    fields = _redis_fields(private_redis_server.store_config(redis_key_prefix))
    async with oauth_gate_factory(_servers(py_streamable_server), **fields) as gate:
        client = await register(gate.base_url)
        tokens = await log_in(gate.base_url, client)
        private_redis_server.freeze()
        try:
            during = await mcp_initialize(gate.url("/py/mcp"), tokens.access_token)
        finally:
            private_redis_server.thaw()
        after = await _echo(gate.url("/py/mcp"), tokens.access_token, "after the outage")
    assert during.status == 503
    assert after == "after the outage"


class Unavailable(Exception):
    """The gate answered 503: its storage could not be reached."""


async def test_token_issued_before_a_sentinel_failover_works_after_it(
    oauth_gate_factory, py_streamable_server, private_redis_sentinel, redis_key_prefix
):
    """docs/redis.md, When Redis fails: the Sentinel primary killed, a running gate answers 503 only
    until the replica is promoted; then the token issued before works and refreshes, no restart."""
    setup = private_redis_sentinel
    fields = _redis_fields(setup.store_config(redis_key_prefix))
    async with oauth_gate_factory(_servers(py_streamable_server), **fields) as gate:
        client = await register(gate.base_url)
        tokens = await log_in(gate.base_url, client)
        await replicated(setup)
        setup.primary.kill()

        async def initialize() -> Answer:
            answer = await mcp_initialize(gate.url("/py/mcp"), tokens.access_token)
            if answer.status == 503 and "storage cannot be reached" in answer.text:
                raise Unavailable
            return answer

        answer, failures = await until_served(initialize)
        echoed = await _echo(gate.url("/py/mcp"), tokens.access_token, "after the failover")
        refreshed = await refresh(gate.base_url, client, tokens.refresh_token)
        ready = await request("GET", gate.url("/ready"))
    assert answer.status == 200
    assert failures  # the gate saw the switch, and answered it with 503s
    assert all(isinstance(failure, Unavailable) for failure in failures)
    assert setup.primary_port() == setup.replica.port
    assert echoed == "after the failover"
    assert refreshed.status == 200, refreshed.text
    assert ready.status == 200
