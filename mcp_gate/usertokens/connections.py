"""Users' connections to services over OAuth: connecting, and a fresh access token on use.

A connection is the `ServiceTokens` record (store.py) the gate holds for (user, server).

Connecting: `start` parks {user, server, PKCE verifier} under a fresh `state` (single-use,
CONNECT_TTL_SECONDS) and returns the service's authorization URL; the service sends the
browser back with that state, `take_pending` hands the record over once, and `finish`
exchanges the code (service_oauth.py) and saves the tokens. The web layer checks that the
browser's user is the one who started (RFC 6749 §10.12: the state binds the answer to
the request; the login session binds it to the user).

Using: `access_token` returns the stored access token, refreshed first when it expires
within REFRESH_MARGIN_SECONDS. One refresh at a time per (user, server), across every
process sharing the store: the refresher holds a lock entry (`put_new` with a TTL, so a
crashed holder frees it; released with `delete_if_equal`, so only by its holder), re-reads
the record under it, and refreshes only if still needed; the others poll the record until
it is fresh. A refresh the service refuses (4xx) deletes the connection and raises
`ServiceConnectionLostError` (the user reconnects); one it fails (5xx, unreachable) keeps
the connection and fails only this request (`ServiceUnavailableError`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
import structlog

from mcp_gate.config.model import UserAuthentication
from mcp_gate.crypto.digest import new_token, token_digest
from mcp_gate.errors import GateError
from mcp_gate.idp.login_request import build_s256_challenge
from mcp_gate.store.protocols import Store
from mcp_gate.store.records import from_json, to_json
from mcp_gate.usertokens import service_oauth
from mcp_gate.usertokens.service_oauth import (
    ServiceRefusedError,
    ServiceUnavailableError,
    TokenAnswer,
)
from mcp_gate.usertokens.store import ServiceTokens, UserTokenStore, record_key

log = structlog.get_logger()

CONNECT_KIND = "service_connect"
REFRESH_LOCK_KIND = "service_refresh"
# policy: the user has ten minutes at the service to approve (as for the gate's own login).
CONNECT_TTL_SECONDS = 600.0
# policy: refresh a minute early, so a token never expires between the gate and the backend.
REFRESH_MARGIN_SECONDS = 60.0
# Longer than a refresh can take (the token request times out after 10 s), so the lock
# outlives its holder's work but not a crashed holder by much.
REFRESH_LOCK_SECONDS = 30.0
# policy: how long a request waits for another's refresh before failing (503-like).
REFRESH_WAIT_SECONDS = 20.0
REFRESH_POLL_SECONDS = 0.05


class ServiceConnectionLostError(GateError):
    """The service refused the refresh (or the connection is gone): the user reconnects."""

    def __init__(self, server: str) -> None:
        self.server = server
        super().__init__(f"the connection to {server!r} is gone; the user must reconnect")


@dataclass(frozen=True)
class PendingConnect:
    subject: str
    server: str
    code_verifier: str = field(repr=False)


class ServiceConnections:
    def __init__(
        self,
        store: Store,
        tokens: UserTokenStore,
        http: aiohttp.ClientSession,
        redirect_uri: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._tokens = tokens
        self._http = http
        self.redirect_uri = redirect_uri
        self._clock = clock

    # Connecting.

    async def start(self, subject: str, server: str, authentication: UserAuthentication) -> str:
        """Park a connect attempt; the URL to send the browser to."""
        state, verifier = new_token(), new_token()  # RFC 7636 §4.1: 43 chars, 256 bits
        pending = PendingConnect(subject, server, verifier)
        await self._store.put(
            CONNECT_KIND,
            token_digest(state),
            to_json(pending),
            ttl_seconds=CONNECT_TTL_SECONDS,
        )
        return service_oauth.build_authorization_url(
            authentication,
            redirect_uri=self.redirect_uri,
            state=state,
            code_challenge=build_s256_challenge(verifier),
        )

    async def take_pending(self, state: str) -> PendingConnect | None:
        """The attempt this state names, once."""
        data = await self._store.take(CONNECT_KIND, token_digest(state))
        return from_json(PendingConnect, data)

    async def finish(
        self, pending: PendingConnect, authentication: UserAuthentication, code: str
    ) -> None:
        """Exchange the code and save the connection; ServiceOAuthError if it fails."""
        answer = await service_oauth.exchange_code(
            self._http,
            pending.server,
            authentication,
            code=code,
            code_verifier=pending.code_verifier,
            redirect_uri=self.redirect_uri,
        )
        await self._save(pending.subject, pending.server, answer, previous_refresh=None)
        log.info("service_connected", server=pending.server, subject=pending.subject)

    async def disconnect(self, subject: str, server: str) -> None:
        await self._tokens.delete_service_tokens(subject, server)

    # Using.

    async def access_token(
        self, subject: str, server: str, authentication: UserAuthentication
    ) -> str | None:
        """A usable access token; None when not connected.

        Raises ServiceConnectionLostError when the service refused the refresh, and
        ServiceUnavailableError when it could not refresh now.
        """
        tokens = await self._tokens.load_service_tokens(subject, server)
        if tokens is None:
            return None
        if self._is_fresh(tokens):
            return tokens.access_token
        return await self._refresh_once(subject, server, authentication)

    def _is_fresh(self, tokens: ServiceTokens) -> bool:
        if tokens.expires_at is None:
            return True
        return tokens.expires_at - self._clock() > REFRESH_MARGIN_SECONDS

    async def _refresh_once(
        self, subject: str, server: str, authentication: UserAuthentication
    ) -> str:
        key = record_key(subject, server)
        deadline = time.monotonic() + REFRESH_WAIT_SECONDS
        waiting = False
        while True:
            holder = new_token(16).encode()
            if await self._store.put_new(
                REFRESH_LOCK_KIND, key, holder, ttl_seconds=REFRESH_LOCK_SECONDS
            ):
                try:
                    return await self._refresh_holding_lock(subject, server, authentication)
                finally:
                    await self._store.delete_if_equal(REFRESH_LOCK_KIND, key, holder)
            if not waiting:
                waiting = True
                log.info("service_token_refresh_waiting", server=server, subject=subject)
            if time.monotonic() > deadline:
                raise ServiceUnavailableError(server, "another refresh did not finish in time")
            await asyncio.sleep(REFRESH_POLL_SECONDS)  # the holder is in another task or process
            current = await self._tokens.load_service_tokens(subject, server)
            if current is None:
                raise ServiceConnectionLostError(server)  # the holder's refresh was refused
            if self._is_fresh(current):
                return current.access_token

    async def _refresh_holding_lock(
        self, subject: str, server: str, authentication: UserAuthentication
    ) -> str:
        # Read again under the lock: another process may have refreshed since our read.
        current = await self._tokens.load_service_tokens(subject, server)
        if current is None:
            raise ServiceConnectionLostError(server)
        if self._is_fresh(current):
            return current.access_token
        if current.refresh_token is None:
            if current.expires_at is not None and current.expires_at > self._clock():
                return current.access_token  # nothing to refresh with; usable until it expires
            await self._tokens.delete_service_tokens(subject, server)
            log.info("service_connection_expired", server=server, subject=subject)
            raise ServiceConnectionLostError(server)
        try:
            answer = await service_oauth.refresh(
                self._http, server, authentication, current.refresh_token
            )
        except ServiceRefusedError as exc:
            await self._tokens.delete_service_tokens(subject, server)
            log.warning(
                "service_connection_refused", server=server, subject=subject, reason=exc.reason
            )
            raise ServiceConnectionLostError(server) from None
        await self._save(subject, server, answer, previous_refresh=current.refresh_token)
        log.info("service_token_refreshed", server=server, subject=subject)
        return answer.access_token

    async def _save(
        self, subject: str, server: str, answer: TokenAnswer, *, previous_refresh: str | None
    ) -> None:
        now = self._clock()
        tokens = ServiceTokens(
            access_token=answer.access_token,
            # RFC 6749 §6: without a new refresh token, the old one stays valid.
            refresh_token=answer.refresh_token or previous_refresh,
            expires_at=now + answer.expires_in if answer.expires_in is not None else None,
            saved_at=now,
        )
        await self._tokens.save_service_tokens(subject, server, tokens)
