"""Every typed key of the aiohttp application and request state. A leaf: imports types only."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import aiohttp
from aiohttp import web

from mcp_gate.backend_identity.backend import BackendIdentity
from mcp_gate.backend_identity.signer import IdentitySigner
from mcp_gate.config.model import GateConfig
from mcp_gate.metrics import Metrics
from mcp_gate.principal import Principal
from mcp_gate.proxy.backends import Backend
from mcp_gate.proxy.bindings import SessionBindings
from mcp_gate.proxy.mcp_sessions import SessionRegistry
from mcp_gate.store.protocols import Store
from mcp_gate.web.auth_components import AuthComponents
from mcp_gate.web.bearer_auth import Authenticator

CONFIG = web.AppKey("config", GateConfig)
HTTP_CLIENT = web.AppKey("http_client", aiohttp.ClientSession)
STORE = web.AppKey("store", Store)
BACKENDS = web.AppKey("backends", Mapping[str, Backend])
SESSIONS = web.AppKey("sessions", SessionRegistry)
BINDINGS = web.AppKey("bindings", SessionBindings)
AUTHENTICATOR = web.AppKey("authenticator", Authenticator)
AUTH = web.AppKey("auth", AuthComponents)
METRICS = web.AppKey("metrics", Metrics)
# Each server's identity for its backend (backend_identity/backend.py), by server name;
# only servers with an `identity` block are in it.
BACKEND_IDENTITIES = web.AppKey("backend_identities", Mapping[str, BackendIdentity])
# Set when a server has `identity.jwt`: its keys are published at /.well-known/jwks.json.
IDENTITY_SIGNER = web.AppKey("identity_signer", IdentitySigner)
# Handlers of bridged GET streams, ended at shutdown without waiting (mcp_handlers.py).
STANDALONE_STREAMS: web.AppKey[set[asyncio.Task[object]]] = web.AppKey("standalone_streams")

PRINCIPAL = web.RequestKey("principal", Principal)
