"""The `proxy` section: public URL, listen address, sessions, size limits; `auth` is delegated.

Owns the meaning and checks of
`proxy.{name,baseURL,addr,metricsAddr,sessions,maxBodySize,maxMessageSize,shutdownGrace,
admin,trustedProxies,audit}`;
`proxy.auth` belongs to `auth_schema.py`. Reads no files, opens no sockets.
"""

from __future__ import annotations

import ipaddress
import re

from mcp_gate.config.auth_schema import parse_auth
from mcp_gate.config.model import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_MESSAGE_BYTES,
    DEFAULT_METRICS_ADDR,
    AuditConfig,
    ProxyConfig,
    SessionsConfig,
)
from mcp_gate.config.policy_schema import parse_networks
from mcp_gate.config.section import Section
from mcp_gate.config.values import is_http_url, split_url

_ADDR = re.compile(r"(?:\[(?P<ip6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9.-]*)):(?P<port>\d{1,5})")
PROXY_KEYS = (
    "name", "baseURL", "addr", "metricsAddr", "sessions", "auth", "maxBodySize",
    "maxMessageSize", "shutdownGrace", "admin", "trustedProxies", "audit",
)  # fmt: skip
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
    return ProxyConfig(
        base_url=base_url,
        name=name,
        addr=addr,
        sessions=_sessions(section.child("sessions", SESSIONS_KEYS)),
        auth=parse_auth(section, base_url) if section.has("auth") else None,
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
