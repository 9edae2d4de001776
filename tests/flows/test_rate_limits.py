"""Rate limits (docs/config.md#proxylimits): `proxy.limits.perUser` as a token bucket in
the store shared by replicas, and per-address limits on /token and /authorize; 429 with
`Retry-After`.

Buckets are small here (a handful of requests a minute) so the request past the limit
comes quickly; the mechanism is the one a `{requests: 600, per: 1m}` bucket uses.
"""

from __future__ import annotations

import pytest

from mcp_gate.config.model import LimitsConfig, RateLimit
from mcp_gate.web.limits import RATE_LIMITED
from tests.fixtures.gate import remote
from tests.fixtures.oauth_client import (
    Pkce,
    authorization_url,
    log_in,
    mcp_initialize,
    refresh,
    register,
    request,
)
from tests.fixtures.replicas import second_replica, shared_auth_fields

pytestmark = pytest.mark.usefixtures("oidc_provider")

PER_USER = 5


def _servers(backend):
    return {"py": remote("py", "streamable-http", backend.url)}


def _limits(**fields: object) -> dict[str, object]:
    return {"limits": LimitsConfig(**fields)}  # type: ignore[arg-type]


async def test_the_request_past_the_per_user_bucket_gets_429_with_retry_after(
    oauth_gate_factory, oidc_provider, py_streamable_server
):
    """With `perUser: {requests: 5, per: 1m}`, alice's 6th MCP request in the minute gets
    429, `Retry-After` and a JSON-RPC error body; bob, on the same gate, is not limited."""
    limits = _limits(per_user=RateLimit(PER_USER, 60.0))
    async with oauth_gate_factory(_servers(py_streamable_server), proxy_fields=limits) as gate:
        alice = await log_in(gate.base_url, await register(gate.base_url))
        await oidc_provider.set_next_user(email="bob@example.com", hd="example.com")
        bob = await log_in(gate.base_url, await register(gate.base_url))
        url = gate.url("/py/mcp")
        within = [(await mcp_initialize(url, alice.access_token)).status for _ in range(PER_USER)]
        over = await mcp_initialize(url, alice.access_token)
        for_bob = await mcp_initialize(url, bob.access_token)
    assert within == [200] * PER_USER
    assert over.status == 429
    # One token every 60 / 5 = 12 s.
    assert 1 <= int(over.headers["Retry-After"]) <= 12
    assert over.json["jsonrpc"] == "2.0"
    assert over.json["error"]["code"] == RATE_LIMITED
    assert over.json["error"]["data"]["retryAfterSeconds"] == int(over.headers["Retry-After"])
    assert for_bob.status == 200


async def test_two_replicas_on_one_redis_share_the_bucket(
    oauth_gate_factory, py_streamable_server, redis_server, redis_key_prefix
):
    """Three requests on replica 1 and two on replica 2 empty one bucket of five: the next
    request, on either, gets 429."""
    shared = shared_auth_fields(redis_server.store_config(redis_key_prefix))
    limits = _limits(per_user=RateLimit(PER_USER, 60.0))
    servers = _servers(py_streamable_server)
    gate = oauth_gate_factory(servers, proxy_fields=limits, **shared)
    async with gate as first, second_replica(first) as second:
        tokens = await log_in(first.base_url, await register(first.base_url))
        on_first = first.url("/py/mcp")
        on_second = second.url("/py/mcp")
        statuses = [(await mcp_initialize(on_first, tokens.access_token)).status for _ in "abc"]
        statuses += [(await mcp_initialize(on_second, tokens.access_token)).status for _ in "ab"]
        over_on_second = await mcp_initialize(on_second, tokens.access_token)
        over_on_first = await mcp_initialize(on_first, tokens.access_token)
    assert statuses == [200] * PER_USER
    assert over_on_second.status == 429
    assert over_on_first.status == 429


async def test_token_requests_past_the_per_address_limit_get_429_with_retry_after(
    oauth_gate_factory, py_streamable_server
):
    """`tokenPerAddress: {requests: 3, per: 1m}`: the code exchange and two refreshes pass,
    the next /token request from that address gets an OAuth 429 with `Retry-After`."""
    limits = _limits(token_per_address=RateLimit(3, 60.0))
    async with oauth_gate_factory(_servers(py_streamable_server), proxy_fields=limits) as gate:
        client = await register(gate.base_url)
        tokens = await log_in(gate.base_url, client)
        second = await refresh(gate.base_url, client, tokens.refresh_token)
        third = await refresh(gate.base_url, client, second.refresh_token)
        refused = await refresh(gate.base_url, client, third.refresh_token)
    assert third.status == 200
    assert refused.status == 429
    assert refused.error == "temporarily_unavailable"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


async def test_authorize_requests_past_the_per_address_limit_get_429(
    oauth_gate_factory, py_streamable_server
):
    """`authorizePerAddress: {requests: 2, per: 1m}`: the third /authorize gets 429."""
    limits = _limits(authorize_per_address=RateLimit(2, 60.0))
    async with oauth_gate_factory(_servers(py_streamable_server), proxy_fields=limits) as gate:
        client = await register(gate.base_url)
        url = authorization_url(gate.base_url, client, pkce=Pkce.new())
        statuses = [(await request("GET", url)).status for _ in range(2)]
        refused = await request("GET", url)
    assert 429 not in statuses
    assert refused.status == 429
    assert "Retry-After" in refused.headers
