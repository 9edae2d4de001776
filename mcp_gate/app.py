"""`create_app(config)`: the gate's aiohttp application, assembled in order.

Middlewares (access log outermost, then errors), routes, and the resources the app owns,
each opened and closed by a `cleanup_ctx` generator: the metrics listener (first, so a busy
`metricsAddr` fails before anything else is open), the outgoing HTTP client, the store, this
process as a replica (its lease; in a cluster the hop key and relay), the session registry
with its idle reaper. Nothing here handles a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Callable

import aiohttp
import structlog
from aiohttp import web

from mcp_gate import http1
from mcp_gate.aggregate.fronts import build_all_aggregate_fronts
from mcp_gate.appkeys import (
    AUDIT,
    AUTH,
    AUTHENTICATOR,
    BACKEND_IDENTITIES,
    BINDINGS,
    CLUSTER,
    CONFIG,
    FRONTS,
    HTTP_CLIENT,
    IDENTITY_SIGNER,
    IN_FLIGHT,
    METRICS,
    RATE_LIMITS,
    SESSIONS,
    STANDALONE_STREAMS,
    STORE,
    USER_CREDENTIALS,
)
from mcp_gate.audit import Audit, open_sink
from mcp_gate.backend_identity.backend import build_backend_identities, uses_identity_jwt
from mcp_gate.backend_identity.signer import build_identity_signer
from mcp_gate.browser_logins import BrowserLoginStore
from mcp_gate.cluster.hop import HopKey, HopVerifier
from mcp_gate.cluster.node import ClusterNode
from mcp_gate.cluster.relay import Relay
from mcp_gate.cluster.replica import Replica
from mcp_gate.config.model import AuthConfig, GateConfig, ServerConfig, split_addr
from mcp_gate.cookies import BrowserCookies
from mcp_gate.crypto.aead import sealer_from_config
from mcp_gate.crypto.digest import token_digest
from mcp_gate.errors import StorageUnavailableError
from mcp_gate.idp.dev import verify_dev_provider_allowed
from mcp_gate.idp.provider import build_identity_provider
from mcp_gate.key_sources import client_keys, issuer_keys
from mcp_gate.metrics import Metrics
from mcp_gate.oauth.access_tokens import AccessTokens
from mcp_gate.oauth.bearer import GateTokenVerifier
from mcp_gate.oauth.cimd import CimdResolver, DocumentFetcher, HttpsDocumentFetcher
from mcp_gate.oauth.client_assertions import ClientAssertionVerifier
from mcp_gate.oauth.clients import ClientRepository, build_static_client
from mcp_gate.oauth.consent_requests import ConsentRequests
from mcp_gate.oauth.grants import GrantStore
from mcp_gate.oauth.introspection import IntrospectingServer, ResourceServerRegistry
from mcp_gate.oauth.metadata import ServerFeatures
from mcp_gate.oauth.models import Client
from mcp_gate.oauth.resources import ResourceIndex
from mcp_gate.oauth.revalidation import GrantRevalidation
from mcp_gate.oauth.revocations import RevocationMarks
from mcp_gate.oauth.scopes import ServerScopes
from mcp_gate.oauth.token_endpoint import TokenService
from mcp_gate.oauth.token_exchange import TrustedIssuers
from mcp_gate.offboarding import mark_ttl_seconds
from mcp_gate.policy.engine import PolicyEngine
from mcp_gate.principal import Principal
from mcp_gate.proxy.backends import Backend
from mcp_gate.proxy.bindings import SessionBindings
from mcp_gate.proxy.fronts import FrontParts, build_all_fronts
from mcp_gate.proxy.mcp_sessions import McpSession, SessionRegistry
from mcp_gate.proxy.session_quota import SessionQuota
from mcp_gate.proxy.user_credentials import UserCredentials
from mcp_gate.rate_limits import RateLimits
from mcp_gate.store.factory import open_store
from mcp_gate.store.protocols import Store
from mcp_gate.usertokens.connections import ServiceConnections
from mcp_gate.usertokens.lookup import UserTokenLookup, look_up_user_token
from mcp_gate.usertokens.store import UserTokenStore
from mcp_gate.web.auth_components import AuthComponents
from mcp_gate.web.bearer_auth import Authenticator
from mcp_gate.web.cors import cors_preflight
from mcp_gate.web.mcp_auth import mcp_authentication
from mcp_gate.web.metrics_listener import metrics_listener
from mcp_gate.web.middlewares import (
    access_log,
    error_pages,
    response_headers,
)
from mcp_gate.web.my_tokens_handlers import SERVICE_CALLBACK_PATH
from mcp_gate.web.routes import add_routes
from mcp_gate.web.session_handlers import MY_TOKENS_PATH
from mcp_gate.web.session_relay import internal_hops, session_relay

log = structlog.get_logger()


def create_app(
    config: GateConfig, *, store: Store | None = None, cimd_fetcher: DocumentFetcher | None = None
) -> web.Application:
    """The application for `config`.

    `store` shares one store between apps (tests, two gates on one Redis); `cimd_fetcher`
    replaces the https fetcher of Client ID Metadata Documents (tests cannot reach https).
    Raises ConfigError for what only makes sense at start (the dev login off loopback).
    """
    auth = config.proxy.auth
    if auth is not None and auth.idp.provider == "dev":
        verify_dev_provider_allowed(config.proxy.addr, config.proxy.base_url)
    # Alone (no `proxy.cluster`), a gate neither takes hops nor relays: it skips both steps.
    clustered = config.proxy.cluster is not None
    app = web.Application(
        middlewares=[
            access_log,
            cors_preflight,
            error_pages,
            *([internal_hops] if clustered else []),
            mcp_authentication,
            *([session_relay] if clustered else []),
        ],
        client_max_size=config.proxy.max_body_bytes,
    )
    app[CONFIG] = config
    app[METRICS] = Metrics()
    signer = None
    if auth is not None and uses_identity_jwt(config):
        signer = build_identity_signer(auth, config.proxy.issuer)
        app[IDENTITY_SIGNER] = signer
    app[BACKEND_IDENTITIES] = build_backend_identities(config, signer)
    app[STANDALONE_STREAMS] = set()
    app[IN_FLIGHT] = set()
    app[AUTHENTICATOR] = Authenticator()
    https = config.proxy.base_url.startswith("https://")
    app.on_response_prepare.append(response_headers(https=https))
    add_routes(
        app, config.proxy.base_path, config.servers, oauth=auth is not None, jwks=signer is not None
    )
    app.cleanup_ctx.append(metrics_listener)
    app.cleanup_ctx.append(_audit)
    app.cleanup_ctx.append(_http_client)
    app.cleanup_ctx.append(_store(store))
    app.cleanup_ctx.append(_cluster)
    if auth is not None:
        app.cleanup_ctx.append(_authorization_server(cimd_fetcher))
    app.cleanup_ctx.append(_sessions)
    app.cleanup_ctx.append(_fronts)
    app.on_startup.append(_warn_open_servers)
    app.on_shutdown.append(_end_standalone_streams)
    return app


async def _end_standalone_streams(app: web.Application) -> None:
    """Shutdown: bridged GET streams (no response rides them) end now; the rest drain
    (serve.py gives them the grace; an app stopped otherwise, as in tests, ends these)."""
    streams = app[STANDALONE_STREAMS]
    for task in list(streams):
        task.cancel()


async def _warn_open_servers(app: web.Application) -> None:
    authenticator = app[AUTHENTICATOR]
    for name, server in app[CONFIG].servers.items():
        if authenticator.is_open(server):
            log.warning(
                "server_unauthenticated",
                server=name,
                reason="no OAuth and no serviceAuths: anyone who reaches the gate can use it",
            )


def _static_clients(auth_config: AuthConfig) -> tuple[Client, ...]:
    return tuple(
        build_static_client(
            client.client_id,
            client.client_name,
            client.redirect_uris,
            client.client_secret.reveal() if client.client_secret is not None else None,
            grant_types=client.grant_types,
            has_keys=client.has_keys,
        )
        for client in auth_config.clients
    )


def _features(config: GateConfig, auth_config: AuthConfig) -> ServerFeatures:
    return ServerFeatures(
        client_credentials=any(
            "client_credentials" in client.grant_types for client in auth_config.clients
        ),
        private_key_jwt=any(client.has_keys for client in auth_config.clients),
        token_exchange=bool(auth_config.trusted_issuers),
        introspection=bool(auth_config.resource_servers),
        jwks=uses_identity_jwt(config),
    )


def _authorization_server(
    cimd_fetcher: DocumentFetcher | None,
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def assemble(app: web.Application) -> AsyncIterator[None]:
        config = app[CONFIG]
        auth_config = config.proxy.auth
        assert auth_config is not None
        http, store = app[HTTP_CLIENT], app[STORE]
        base_url = config.proxy.base_url.rstrip("/")
        resources = ResourceIndex(
            base_url, config.servers, (rs.resource for rs in auth_config.resource_servers)
        )
        marks = RevocationMarks(store, mark_ttl_seconds=mark_ttl_seconds(config))
        grants = GrantStore(store, marks)
        secret = auth_config.jwt_secret.reveal().encode() if auth_config.jwt_secret else None
        access_tokens = AccessTokens(secret or os.urandom(32), config.proxy.issuer)
        fetcher = cimd_fetcher or HttpsDocumentFetcher(http)
        sealer = sealer_from_config(auth_config)
        user_tokens = UserTokenStore(store, sealer)
        idp = build_identity_provider(
            auth_config.idp,
            config.proxy.base_url,
            http,
            allowed_domains=auth_config.allowed_domains,
            allowed_emails=auth_config.allowed_emails,
            groups_cache_seconds=auth_config.revalidate_interval_seconds,
        )
        revalidation = GrantRevalidation(
            store, sealer, idp, interval_seconds=auth_config.revalidate_interval_seconds
        )
        scopes = ServerScopes(
            {
                name: PolicyEngine(server.policy, server.options.tool_filter)
                for name, server in config.servers.items()
            }
        )
        components = AuthComponents(
            config=config,
            issuer=config.proxy.issuer,
            endpoint_base=base_url,
            resources=resources,
            clients=ClientRepository(
                store, cimd=CimdResolver(fetcher, store), static=_static_clients(auth_config)
            ),
            grants=grants,
            tokens=TokenService(
                grants,
                access_tokens,
                resources,
                access_ttl_seconds=auth_config.token_ttl_seconds,
                refresh_ttl_seconds=auth_config.refresh_token_ttl_seconds,
                revalidation=revalidation,
                scopes=scopes,
                audit=app[AUDIT],
            ),
            client_assertions=ClientAssertionVerifier(
                client_keys(auth_config.clients, http),
                store,
                # RFC 7523 §3 item 3: the AS's issuer or its token endpoint URL.
                audiences=frozenset({config.proxy.issuer, f"{base_url}/token"}),
            ),
            trusted_issuers=TrustedIssuers(
                auth_config.trusted_issuers, issuer_keys(auth_config.trusted_issuers, http)
            ),
            resource_servers=ResourceServerRegistry(
                IntrospectingServer(
                    rs.resource, rs.client_id, token_digest(rs.client_secret.reveal())
                )
                for rs in auth_config.resource_servers
            ),
            features=_features(config, auth_config),
            verifier=GateTokenVerifier(
                access_tokens,
                grants,
                resources,
                cache_seconds=auth_config.revocation_check_seconds,
            ),
            idp=idp,
            revalidation=revalidation,
            consent_requests=ConsentRequests(sealer),
            cookies=BrowserCookies(sealer, secure=config.proxy.base_url.startswith("https://")),
            browser_logins=BrowserLoginStore(store),
            user_tokens=user_tokens,
            connections=ServiceConnections(
                store, user_tokens, http, base_url + SERVICE_CALLBACK_PATH
            ),
            scopes=scopes,
        )
        app[AUTH] = components
        app[AUTHENTICATOR] = Authenticator(
            verifier=components.verifier, challenge=components.challenges()
        )
        yield

    return assemble


async def _audit(app: web.Application) -> AsyncIterator[None]:
    """The audit log's sink (`proxy.audit`), open for the app's life."""
    settings = app[CONFIG].proxy.audit
    if settings is None:
        app[AUDIT] = Audit()
        yield
        return
    sink = open_sink(settings.sink)
    app[AUDIT] = Audit(sink, include_arguments=settings.include_arguments)
    try:
        yield
    finally:
        if sink is not sys.stdout:
            sink.close()


async def _http_client(app: web.Application) -> AsyncIterator[None]:
    # No total timeout: SSE streams stay open; each request bounds its own wait.
    connector = aiohttp.TCPConnector(limit=0, enable_cleanup_closed=True)
    # No cookie jar: one client serves every user, so a backend's cookie set for one user
    # would ride on everyone's later requests (no cookies upstream).
    async with aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=None),
        cookie_jar=aiohttp.DummyCookieJar(),
    ) as http:
        app[HTTP_CLIENT] = http
        yield


def _store(shared: Store | None) -> Callable[[web.Application], AsyncIterator[None]]:
    async def open_it(app: web.Application) -> AsyncIterator[None]:
        limits = app[CONFIG].proxy.limits
        if shared is not None:
            app[STORE] = shared
            app[RATE_LIMITS] = RateLimits(shared, limits)
            yield
            return
        async with open_store(app[CONFIG].proxy.auth) as store:
            app[STORE] = store
            app[RATE_LIMITS] = RateLimits(store, limits)
            yield

    return open_it


async def _cluster(app: web.Application) -> AsyncIterator[None]:
    """This process as a replica (cluster/): its lease, and, in a cluster, the hop key and
    the relay's own pooled client to the other replicas."""
    config = app[CONFIG].proxy
    cluster, store = config.cluster, app[STORE]
    if cluster is None:
        replica = Replica(store)
        app[CLUSTER] = ClusterNode(replica)
        await replica.start()
        yield
        await replica.withdraw()
        return
    assert config.auth is not None  # the loader's rule: a cluster needs jwtSecret
    assert config.auth.jwt_secret is not None
    key = HopKey.from_secret(config.auth.jwt_secret.reveal().encode())
    replica = Replica(store, cluster.advertise_url, cluster.lease_ttl_seconds)
    async with http1.Client(http1.PoolSettings()) as hop_client:
        app[CLUSTER] = ClusterNode(
            replica,
            Relay(hop_client, key),
            HopVerifier(key, replica.id),
            split_addr(cluster.internal_addr)[1],
        )
        await replica.start()
        yield
        await replica.withdraw()


async def _sessions(app: web.Application) -> AsyncIterator[None]:
    settings = app[CONFIG].proxy.sessions
    replica = app[CLUSTER].replica
    bindings = SessionBindings(app[STORE], replica.id)
    quota = SessionQuota(app[STORE], replica.lease_ttl_seconds)
    replica.add_renewal(quota.renew)
    registry = SessionRegistry(
        audit=app[AUDIT],
        idle_timeout_seconds=settings.timeout_seconds,
        max_per_user=settings.max_per_user,
        max_per_address=settings.max_per_address,
        quota=quota,
        bindings=bindings,
    )
    app[BINDINGS] = bindings
    app[SESSIONS] = registry
    app[METRICS].gauges["mcp_gate_bridged_sessions"] = lambda: float(len(registry))
    auth = app.get(AUTH)
    marks = auth.grants.marks if auth is not None else None
    if auth is not None:
        # A token refused for a revocation mark ends its principal's sessions at once.
        auth.verifier.on_principal_revoked(lambda p: _close_revoked(registry, p))

    async def is_revoked(session: McpSession) -> bool:
        assert marks is not None
        principal = session.principal
        return await marks.is_revoked(
            email=principal.email or "",
            client_id=principal.client_id,
            began_at=session.opened_at,
        )

    async def reap_forever() -> None:
        while True:
            await asyncio.sleep(settings.cleanup_interval_seconds)
            await registry.reap()
            if marks is None:
                continue
            try:
                await registry.close_revoked(is_revoked)
            except StorageUnavailableError as exc:  # the next tick tries again
                log.warning("revocation_check_failed", reason=str(exc))

    reaper = asyncio.create_task(reap_forever(), name="session-reaper")
    yield
    reaper.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reaper
    await registry.close_all()


def _close_revoked(registry: SessionRegistry, principal: Principal) -> None:
    closed = registry.close_principal(principal.id, "revoked")
    if closed:
        log.info("mcp_sessions_revoked", principal=principal.id, sessions=closed)


async def _fronts(app: web.Application) -> AsyncIterator[None]:
    """Each server's fronts (proxy/fronts.py), and the lean client of the pass-throughs."""
    config = app[CONFIG]
    async with http1.Client(http1.PoolSettings()) as upstream_client:
        backends = {
            name: Backend(
                server,
                app[HTTP_CLIENT],
                config.proxy.max_message_bytes,
                identity=app[BACKEND_IDENTITIES].get(name),
            )
            for name, server in config.servers.items()
        }
        aggregates = {name: b for name, b in backends.items() if b.config.is_aggregate}
        parts = FrontParts(
            upstream_client=upstream_client,
            bindings=app[BINDINGS],
            registry=app[SESSIONS],
            standalone_streams=app[STANDALONE_STREAMS],
            base_path=config.proxy.base_path,
            audit=app[AUDIT],
        )
        credentials = _user_credentials(app)
        direct = {name: b for name, b in backends.items() if name not in aggregates}
        fronts = build_all_fronts(direct, parts)
        fronts.update(build_all_aggregate_fronts(aggregates, parts, fronts, credentials))
        app[FRONTS] = fronts
        app[USER_CREDENTIALS] = credentials
        yield


def _user_credentials(app: web.Application) -> UserCredentials:
    auth = app.get(AUTH)
    if auth is None:  # the config allows user tokens only with logins configured
        return UserCredentials(None, "")
    page_url = auth.url(MY_TOKENS_PATH)

    async def look_up(principal: Principal, server: ServerConfig) -> UserTokenLookup:
        return await look_up_user_token(
            auth.user_tokens, auth.connections, principal, server, page_url
        )

    return UserCredentials(look_up, page_url)
