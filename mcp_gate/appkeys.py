"""Every typed key of the aiohttp application and request state. A leaf: imports types only."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import aiohttp
from aiohttp import web

from mcp_gate.audit import Audit
from mcp_gate.backend_identity.backend import BackendIdentity
from mcp_gate.backend_identity.signer import IdentitySigner
from mcp_gate.cluster.node import ClusterNode
from mcp_gate.config.model import GateConfig
from mcp_gate.metrics import Metrics
from mcp_gate.policy.engine import Caller
from mcp_gate.principal import Principal
from mcp_gate.proxy.bindings import SessionBindings
from mcp_gate.proxy.fronts import ServerFronts
from mcp_gate.proxy.mcp_sessions import SessionRegistry
from mcp_gate.proxy.user_credentials import UserCredentials
from mcp_gate.rate_limits import RateLimits
from mcp_gate.store.protocols import Store
from mcp_gate.web.auth_components import AuthComponents
from mcp_gate.web.bearer_auth import Authenticator

CONFIG = web.AppKey("config", GateConfig)
# The audit log (audit.py); does nothing without `proxy.audit`.
AUDIT = web.AppKey("audit", Audit)
HTTP_CLIENT = web.AppKey("http_client", aiohttp.ClientSession)
STORE = web.AppKey("store", Store)
RATE_LIMITS = web.AppKey("rate_limits", RateLimits)
SESSIONS = web.AppKey("sessions", SessionRegistry)
# Who owns each MCP session, and on which replica (proxy/bindings.py).
BINDINGS = web.AppKey("bindings", SessionBindings)
# This process in the cluster: replica, hop key, relay (cluster/node.py).
CLUSTER = web.AppKey("cluster", ClusterNode)
AUTHENTICATOR = web.AppKey("authenticator", Authenticator)
AUTH = web.AppKey("auth", AuthComponents)
METRICS = web.AppKey("metrics", Metrics)
# Each server's identity for its backend (backend_identity/backend.py), by server name;
# only servers with an `identity` block are in it.
BACKEND_IDENTITIES = web.AppKey("backend_identities", Mapping[str, BackendIdentity])
# Set when a server has `identity.jwt`: its keys are published at /.well-known/jwks.json.
IDENTITY_SIGNER = web.AppKey("identity_signer", IdentitySigner)
# Each server's fronts (proxy/fronts.py), chosen at start.
FRONTS = web.AppKey("fronts", Mapping[str, ServerFronts])
USER_CREDENTIALS = web.AppKey("user_credentials", UserCredentials)
# Handlers of bridged GET streams, ended at shutdown without waiting (bridged_fronts.py).
STANDALONE_STREAMS: web.AppKey[set[asyncio.Task[object]]] = web.AppKey("standalone_streams")
# Every request handler running now (web/middlewares.py), for the shutdown's grace (serve.py).
IN_FLIGHT: web.AppKey[set[asyncio.Task[object]]] = web.AppKey("in_flight")

# Set on MCP routes by the authentication middleware (web/mcp_auth.py).
SERVER_NAME = web.RequestKey("server_name", str)
SERVER_FRONTS = web.RequestKey("server_fronts", ServerFronts)
PRINCIPAL = web.RequestKey("principal", Principal)
# Set on a request that came as an authenticated internal hop (web/session_relay.py).
HOP_CALLER = web.RequestKey("hop_caller", Caller)
# The principal with its client address and token scopes, as the access policy reads it.
CALLER = web.RequestKey("caller", Caller)
