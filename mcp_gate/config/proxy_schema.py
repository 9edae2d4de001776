"""The `proxy` section: public URL, listen address, sessions, size limits; `auth` is delegated.

Owns the meaning and checks of
`proxy.{name,baseURL,addr,metricsAddr,sessions,limits,maxBodySize,maxMessageSize,
shutdownGrace,admin,workers,cluster,trustedProxies,audit}`;
`proxy.auth` belongs to `auth_schema.py`. Reads no files, opens no sockets.
"""

from __future__ import annotations

import ipaddress
import re

from mcp_gate.config.auth_schema import parse_auth
from mcp_gate.config.model import (
    DEFAULT_LEASE_TTL_SECONDS,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_MESSAGE_BYTES,
    DEFAULT_METRICS_ADDR,
    AuditConfig,
    AuthConfig,
    ClusterConfig,
    LimitsConfig,
    ProxyConfig,
    RateLimit,
    SessionsConfig,
    split_addr,
)
from mcp_gate.config.policy_schema import parse_networks
from mcp_gate.config.section import Section
from mcp_gate.config.values import is_http_url, split_url

_ADDR = re.compile(r"(?:\[(?P<ip6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9.-]*)):(?P<port>\d{1,5})")
PROXY_KEYS = (
    "name", "baseURL", "addr", "metricsAddr", "sessions", "auth", "maxBodySize",
    "maxMessageSize", "shutdownGrace", "admin", "workers", "cluster", "limits",
    "trustedProxies", "audit",
)  # fmt: skip
CLUSTER_KEYS = ("advertiseURL", "internalAddr", "leaseTtl")
LIMITS_KEYS = ("perUser", "tokenPerAddress", "authorizePerAddress")
_ADDR_EXAMPLE = "expected host:port, like 0.0.0.0:8080, :8080 or [::1]:8080"
SESSIONS_KEYS = ("timeout", "cleanupInterval", "maxPerUser", "maxPerAddress")
AUDIT_KEYS = ("sink", "includeArguments")


def parse_proxy(root: Section) -> ProxyConfig:
    section = root.child("proxy", PROXY_KEYS)
    if not root.need("proxy", "the gate's own settings (at least proxy.baseURL)"):
        return ProxyConfig(base_url="")
    base_url = _base_url(section)
    name = section.text("name", "mcp-gate")
    if section.has("name") and not name.strip():
        section.ctx.error(section.at("name"), "must not be empty")
    addr = section.text("addr", ProxyConfig.addr)
    if section.has("addr") and not _is_addr(addr):
        section.ctx.error(section.at("addr"), _ADDR_EXAMPLE)
    metrics_addr = section.text("metricsAddr", DEFAULT_METRICS_ADDR)
    if metrics_addr and not _is_addr(metrics_addr):
        section.ctx.error(section.at("metricsAddr"), _ADDR_EXAMPLE + ', or "" for no metrics')
    admin = section.child("admin", ("enabled", "adminEmails"))
    if admin.boolean("enabled", default=False):
        section.ctx.error(admin.at("enabled"), "mcp-gate has no admin UI; remove proxy.admin")
    auth = parse_auth(section, base_url) if section.has("auth") else None
    workers = section.integer("workers", 1, minimum=1)
    cluster = _cluster(section, addr, auth) if section.has("cluster") else None
    if workers > 1 and (auth is None or auth.storage != "redis"):
        section.ctx.error(
            section.at("workers"),
            "workers > 1 needs proxy.auth.storage: redis (each worker is a replica; "
            "memory storage is one process's own)",
        )
    elif workers > 1 and cluster is None:
        section.ctx.error(
            section.at("workers"),
            "workers > 1 needs proxy.cluster (each worker is a replica the others relay "
            "sessions to, on its own internal port)",
        )
    return ProxyConfig(
        base_url=base_url,
        name=name,
        addr=addr,
        sessions=_sessions(section.child("sessions", SESSIONS_KEYS)),
        limits=_limits(section.child("limits", LIMITS_KEYS)),
        auth=auth,
        workers=workers,
        cluster=cluster,
        max_body_bytes=section.size("maxBodySize", DEFAULT_MAX_BODY_BYTES),
        metrics_addr=metrics_addr,
        max_message_bytes=section.size("maxMessageSize", DEFAULT_MAX_MESSAGE_BYTES),
        shutdown_grace_seconds=section.duration(
            "shutdownGrace", ProxyConfig.shutdown_grace_seconds
        ),
        trusted_proxies=parse_networks(section, "trustedProxies"),
        audit=_audit(section) if section.has("audit") else None,
    )


def _audit(proxy: Section) -> AuditConfig:
    section = proxy.child("audit", AUDIT_KEYS)
    sink = section.text("sink", AuditConfig.sink).strip()
    if section.has("sink") and not sink:
        section.ctx.error(section.at("sink"), "stdout, or the path of a file to append to")
    return AuditConfig(
        sink=sink or AuditConfig.sink,
        include_arguments=section.boolean("includeArguments", default=False),
    )


def _base_url(section: Section) -> str:
    if not section.need("baseURL", "the gate's public URL, like https://mcp.example.com"):
        return ""
    url = section.text("baseURL")
    parts = split_url(url)
    if not is_http_url(url) or parts.query or parts.fragment or parts.username:
        if url:
            section.ctx.error(
                section.at("baseURL"),
                "must be an absolute http(s) URL without query, fragment or user, "
                "like https://mcp.example.com",
            )
        return ""
    return url.rstrip("/")  # policy: one spelling, so every derived URL is base_url + path.


def _is_addr(addr: str) -> bool:
    match = _ADDR.fullmatch(addr)
    if match is None or int(match["port"]) > 65535:
        return False
    if match["ip6"]:
        try:
            ipaddress.IPv6Address(match["ip6"])
        except ValueError:
            return False
    return True


def _limits(section: Section) -> LimitsConfig:
    defaults = LimitsConfig()
    return LimitsConfig(
        per_user=_rate_limit(section, "perUser", defaults.per_user),
        token_per_address=_rate_limit(section, "tokenPerAddress", defaults.token_per_address),
        authorize_per_address=_rate_limit(
            section, "authorizePerAddress", defaults.authorize_per_address
        ),
    )


def _rate_limit(section: Section, key: str, default: RateLimit | None) -> RateLimit | None:
    """`{requests: N, per: DURATION}`; `requests: 0` turns the limit off."""
    if not section.has(key):
        return default
    limit = section.child(key, ("requests", "per"))
    limit.need("requests", "how many requests, like 600 (0: no limit)")
    requests = limit.integer("requests", 0, minimum=0)
    per = limit.duration("per", 60.0)
    return RateLimit(requests, per) if requests else None


def _sessions(section: Section) -> SessionsConfig:
    defaults = SessionsConfig()
    return SessionsConfig(
        timeout_seconds=section.duration("timeout", defaults.timeout_seconds),
        cleanup_interval_seconds=section.duration(
            "cleanupInterval", defaults.cleanup_interval_seconds
        ),
        # As in mcp-front, 0 means no limit.
        max_per_user=section.integer("maxPerUser", defaults.max_per_user, minimum=0),
        max_per_address=section.integer("maxPerAddress", defaults.max_per_address, minimum=0),
    )


def _cluster(proxy: Section, addr: str, auth: AuthConfig | None) -> ClusterConfig | None:
    section = proxy.child("cluster", CLUSTER_KEYS)
    if not section.need("advertiseURL", "how the other replicas reach this one"):
        return None
    url = section.text("advertiseURL")
    parts = split_url(url)
    if not url.startswith("http://") or not parts.hostname or parts.path not in ("", "/"):
        section.ctx.error(
            section.at("advertiseURL"),
            "must be http://host:port of this replica's internal listener, without a path, "
            "like http://10.0.0.5:8081",
        )
        return None
    port = parts.port or 80
    internal_addr = section.text("internalAddr", f"0.0.0.0:{port}")
    if not _is_addr(internal_addr):
        section.ctx.error(section.at("internalAddr"), _ADDR_EXAMPLE)
        return None
    if split_addr(internal_addr)[1] == split_addr(addr)[1]:
        section.ctx.error(
            section.at("internalAddr"),
            "must be another port than proxy.addr's: the internal listener takes only hops "
            "from other replicas",
        )
    if auth is None or auth.jwt_secret is None or auth.storage != "redis":
        section.ctx.error(
            section.path,
            "needs proxy.auth with storage: redis (where replicas find each other's sessions) "
            "and jwtSecret (the internal hops' key derives from it)",
        )
    return ClusterConfig(
        advertise_url=url.rstrip("/"),
        internal_addr=internal_addr,
        lease_ttl_seconds=section.duration("leaseTtl", DEFAULT_LEASE_TTL_SECONDS),
    )
