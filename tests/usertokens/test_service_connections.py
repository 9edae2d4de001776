"""Connecting a service over OAuth (a second oidc-provider plays the service), and keeping
its access token fresh: refresh before expiry, refused refresh, outage, one at a time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

import aiohttp
import pytest
from structlog.testing import capture_logs
from yarl import URL

from mcp_gate.appkeys import AUTH
from mcp_gate.config.model import RedisConfig, Secret, ServerConfig, UserAuthentication
from mcp_gate.store.redis import RedisStore
from mcp_gate.usertokens.connections import REFRESH_MARGIN_SECONDS, ServiceConnectionLostError
from mcp_gate.usertokens.service_oauth import ServiceUnavailableError
from mcp_gate.web.auth_components import AuthComponents
from tests.fixtures.gate import RunningGate
from tests.fixtures.oidc_provider import OidcTestProvider
from tests.fixtures.ports import free_port
from tests.fixtures.process_table import wait_until
from tests.fixtures.user_tokens import (
    SERVICE_CLIENT_SECRET,
    TokenPage,
    TokenRelay,
    new_encryption_key,
    post_mcp,
    register_service_client,
    running_token_relay,
    service_server,
    sign_in_mcp_user,
    token_page,
)

SERVER = "linear"
CALLBACK = "/my/tokens/oauth/callback"
CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "issues"}}


@dataclass
class Connected:
    gate: RunningGate
    page: TokenPage
    relay: TokenRelay
    server: ServerConfig
    html: str
    subject: str
    client_id: str

    @property
    def auth(self) -> AuthComponents:
        return self.gate.app[AUTH]

    @property
    def authentication(self) -> UserAuthentication:
        assert self.server.user_authentication is not None
        return self.server.user_authentication

    async def access_token(self) -> str | None:
        return await self.auth.connections.access_token(self.subject, SERVER, self.authentication)

    async def expire_soon(self) -> None:
        """Make the stored access token one that expires within the refresh margin."""
        tokens = await self.auth.user_tokens.load_service_tokens(self.subject, SERVER)
        assert tokens is not None
        soon = replace(tokens, expires_at=time.time() + REFRESH_MARGIN_SECONDS / 2)
        await self.auth.user_tokens.save_service_tokens(self.subject, SERVER, soon)


async def alice_subject(oidc_provider: OidcTestProvider) -> str:
    return await oidc_provider.set_next_user(email="alice@example.com", hd="example.com")


@asynccontextmanager
async def connected_gate(
    oauth_gate_factory, backend_url: str, service: OidcTestProvider, subject: str
) -> AsyncIterator[Connected]:
    """A gate with one OAuth-type server, and alice's browser that connected it."""
    port = free_port()
    client_id = await register_service_client(service, port)
    async with running_token_relay(f"{service.issuer}/token") as relay:
        server = service_server(backend_url, service, client_id, relay.url)
        async with (
            oauth_gate_factory({SERVER: server}, port=port) as gate,
            token_page(gate) as page,
        ):
            await page.open()
            html = await page.connect(SERVER)
            yield Connected(gate, page, relay, server, html, subject, client_id)


async def refresh_at_the_service(
    service: OidcTestProvider, client_id: str, refresh_token: str
) -> int:
    """Use a refresh token outside the gate (the service rotates it, so the gate's dies)."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    headers = {"Authorization": aiohttp.encode_basic_auth(client_id, SERVICE_CLIENT_SECRET)}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{service.issuer}/token", data=form, headers=headers) as response,
    ):
        return response.status


async def test_connect_stores_the_service_tokens_and_the_page_says_connected(
    oauth_gate_factory, echo_headers_server, service_provider, oidc_provider
):
    """Issue 5 §5: "Connect" runs the authorization code + PKCE flow and stores the tokens."""
    subject = await alice_subject(oidc_provider)
    async with connected_gate(
        oauth_gate_factory, echo_headers_server.url + "/mcp", service_provider, subject
    ) as connected:
        tokens = await connected.auth.user_tokens.load_service_tokens(subject, SERVER)
        page_url = connected.page.url
    assert page_url.path == "/my/tokens"
    assert "Linear is connected." in connected.html
    assert tokens is not None
    assert tokens.refresh_token
    assert tokens.expires_at is not None
    assert tokens.expires_at > time.time() + REFRESH_MARGIN_SECONDS
    assert tokens.access_token not in connected.html
    assert connected.relay.refreshes == 0


async def test_access_token_expiring_soon_is_refreshed_once_and_the_rotated_token_kept(
    oauth_gate_factory, echo_headers_server, service_provider, oidc_provider
):
    """Issue 5 §5: refreshed before expiry; RFC 6749 §6: a rotated refresh token is kept."""
    subject = await alice_subject(oidc_provider)
    async with connected_gate(
        oauth_gate_factory, echo_headers_server.url + "/mcp", service_provider, subject
    ) as connected:
        before = await connected.auth.user_tokens.load_service_tokens(subject, SERVER)
        assert before is not None
        assert await connected.access_token() == before.access_token
        await connected.expire_soon()
        refreshed = await connected.access_token()
        after = await connected.auth.user_tokens.load_service_tokens(subject, SERVER)
        again = await connected.access_token()
        await connected.expire_soon()
        second = await connected.access_token()
    assert after is not None
    assert refreshed == after.access_token != before.access_token
    assert after.refresh_token != before.refresh_token
    assert again == refreshed
    assert second not in (None, refreshed)  # the rotated refresh token worked in its turn
    assert connected.relay.refreshes == 2


async def test_refresh_refused_by_the_service_clears_the_connection(
    oauth_gate_factory, echo_headers_server, service_provider, oidc_provider
):
    """Issue 5 §5: a refresh refused with a 4xx clears the connection; the user reconnects."""
    subject = await alice_subject(oidc_provider)
    async with connected_gate(
        oauth_gate_factory, echo_headers_server.url + "/mcp", service_provider, subject
    ) as connected:
        tokens = await connected.auth.user_tokens.load_service_tokens(subject, SERVER)
        assert tokens is not None
        assert tokens.refresh_token is not None
        used = await refresh_at_the_service(
            service_provider, connected.client_id, tokens.refresh_token
        )
        await connected.expire_soon()
        with pytest.raises(ServiceConnectionLostError):
            await connected.access_token()
        left = await connected.auth.user_tokens.load_service_tokens(subject, SERVER)
        html = await connected.page.open()
        after = await connected.access_token()
    assert used == 200
    assert left is None
    assert "Not connected" in html
    assert after is None


async def test_refresh_failing_with_a_5xx_keeps_the_connection_for_the_next_try(
    oauth_gate_factory, echo_headers_server, service_provider, oidc_provider
):
    """Issue 5 §5: a 5xx fails this request and keeps the connection."""
    subject = await alice_subject(oidc_provider)
    async with connected_gate(
        oauth_gate_factory, echo_headers_server.url + "/mcp", service_provider, subject
    ) as connected:
        await connected.expire_soon()
        connected.relay.outage_status = 503
        with pytest.raises(ServiceUnavailableError):
            await connected.access_token()
        kept = await connected.auth.user_tokens.load_service_tokens(subject, SERVER)
        connected.relay.outage_status = None
        recovered = await connected.access_token()
    assert kept is not None
    assert recovered is not None
    assert recovered != kept.access_token
    assert connected.relay.refreshes == 2


async def test_one_refresh_at_a_time_across_two_gates_sharing_redis(
    oauth_gate_factory,
    echo_headers_server,
    service_provider,
    oidc_provider,
    redis_server,
    redis_key_prefix,
):
    """Issue 5 §5: one refresh per user and service, also across processes sharing Redis."""
    subject = await alice_subject(oidc_provider)
    key = Secret(new_encryption_key())
    redis = RedisConfig(Secret(redis_server.url), redis_key_prefix)
    store = RedisStore.from_config(redis)
    port = free_port()
    client_id = await register_service_client(service_provider, port)
    try:
        async with running_token_relay(f"{service_provider.issuer}/token") as relay:
            server = service_server(
                echo_headers_server.url + "/mcp", service_provider, client_id, relay.url
            )
            servers = {SERVER: server}
            async with (
                oauth_gate_factory(servers, port=port, store=store, encryption_keys=(key,)) as one,
                oauth_gate_factory(servers, store=store, encryption_keys=(key,)) as two,
                token_page(one) as page,
            ):
                await page.open()
                await page.connect(SERVER)
                first = Connected(one, page, relay, server, "", subject, client_id)
                second = Connected(two, page, relay, server, "", subject, client_id)
                await first.expire_soon()
                relay.hold = asyncio.Event()
                with capture_logs() as logs:
                    calls = [
                        asyncio.create_task(connected.access_token())
                        for connected in (first, second, first, second, second, first)
                    ]
                    await asyncio.wait_for(relay.refresh_arrived.wait(), timeout=15)

                    def waiting() -> int:
                        return sum(e["event"] == "service_token_refresh_waiting" for e in logs)

                    await wait_until(lambda: waiting() == 5, "five requests waiting")
                    relay.hold.set()
                    tokens = await asyncio.gather(*calls)
    finally:
        await store.close()
    assert relay.refreshes == 1
    assert len(set(tokens)) == 1
    assert tokens[0] is not None


async def test_service_callback_is_single_use_and_only_for_the_user_who_started_it(
    oauth_gate_factory, echo_headers_server, service_provider, oidc_provider
):
    """RFC 6749 §10.12: the state binds the answer to the request, the session to the user."""
    subject = await alice_subject(oidc_provider)
    port = free_port()
    client_id = await register_service_client(service_provider, port)
    server = service_server(
        echo_headers_server.url + "/mcp",
        service_provider,
        client_id,
        f"{service_provider.issuer}/token",
    )
    async with (
        oauth_gate_factory({SERVER: server}, port=port) as gate,
        token_page(gate) as alice,
        token_page(gate) as bob,
    ):
        await alice.open()
        await oidc_provider.set_next_user(email="bob@example.com", hd="example.com")
        await bob.open()
        connect = f"/my/tokens/{SERVER}/connect"
        csrf = alice.csrf(connect)
        status, location = await alice.post_no_follow(connect, {"csrf": csrf})
        answer = await service_provider.follow_login(location, redirect_uri=gate.url(CALLBACK))
        refused = await bob.open(f"{CALLBACK}?{answer.query_string}")
        bob_status = bob.status
        replayed = await alice.open(f"{CALLBACK}?{answer.query_string}")
        alice_status = alice.status
        connected = await gate.app[AUTH].user_tokens.load_service_tokens(subject, SERVER)
        _, location = await alice.post_no_follow(connect, {"csrf": csrf})
        state = URL(location).query["state"]
        cancelled = await alice.open(f"{CALLBACK}?state={state}&error=access_denied")
    assert status == 303
    assert URL(location).query["code_challenge_method"] == "S256"
    assert bob_status == 403
    assert "started by another sign-in" in refused
    assert alice_status == 400
    assert "Connection not recognised" in replayed
    assert connected is None
    assert "Connecting Linear was cancelled" in cancelled


async def test_backend_gets_the_connected_users_access_token_then_the_refreshed_one(
    oauth_gate_factory, echo_headers_server, service_provider, oidc_provider
):
    """Issue 5 §4-5: the service's access token fills `$userToken`, refreshed before expiry."""
    subject = await alice_subject(oidc_provider)
    async with connected_gate(
        oauth_gate_factory, echo_headers_server.url + "/mcp", service_provider, subject
    ) as connected:
        bearer_token = await sign_in_mcp_user(connected.gate, SERVER)
        stored = await connected.auth.user_tokens.load_service_tokens(subject, SERVER)
        _, first = await post_mcp(connected.gate, SERVER, bearer_token, CALL)
        await connected.expire_soon()
        _, second = await post_mcp(connected.gate, SERVER, bearer_token, CALL)
        refreshed = await connected.auth.user_tokens.load_service_tokens(subject, SERVER)
    assert stored is not None
    assert refreshed is not None
    assert first["headers"]["authorization"] == f"Bearer {stored.access_token}"
    assert second["headers"]["authorization"] == f"Bearer {refreshed.access_token}"
    assert refreshed.access_token != stored.access_token


async def test_mcp_user_whose_refresh_is_refused_is_told_to_reconnect(
    oauth_gate_factory, echo_headers_server, service_provider, oidc_provider
):
    """Issue 5 §5: a refused refresh clears the connection and tells the user to reconnect."""
    subject = await alice_subject(oidc_provider)
    async with connected_gate(
        oauth_gate_factory, echo_headers_server.url + "/mcp", service_provider, subject
    ) as connected:
        bearer_token = await sign_in_mcp_user(connected.gate, SERVER)
        tokens = await connected.auth.user_tokens.load_service_tokens(subject, SERVER)
        assert tokens is not None
        assert tokens.refresh_token is not None
        await refresh_at_the_service(service_provider, connected.client_id, tokens.refresh_token)
        await connected.expire_soon()
        _, lost = await post_mcp(connected.gate, SERVER, bearer_token, CALL)
        connected.relay.outage_status = 503
        _, after = await post_mcp(connected.gate, SERVER, bearer_token, CALL)
    assert "reconnect" in lost["error"]["message"]
    assert connected.gate.url("/my/tokens") in lost["error"]["message"]
    assert "not connected" in after["error"]["message"]


async def test_mcp_user_during_a_service_outage_keeps_the_connection(
    oauth_gate_factory, echo_headers_server, service_provider, oidc_provider
):
    """Issue 5 §5: a 5xx on refresh fails this request only; the next one works."""
    subject = await alice_subject(oidc_provider)
    async with connected_gate(
        oauth_gate_factory, echo_headers_server.url + "/mcp", service_provider, subject
    ) as connected:
        bearer_token = await sign_in_mcp_user(connected.gate, SERVER)
        await connected.expire_soon()
        connected.relay.outage_status = 502
        _, failed = await post_mcp(connected.gate, SERVER, bearer_token, CALL)
        connected.relay.outage_status = None
        _, recovered = await post_mcp(connected.gate, SERVER, bearer_token, CALL)
    assert "Try again in a moment" in failed["error"]["message"]
    assert recovered["headers"]["authorization"].startswith("Bearer ")
