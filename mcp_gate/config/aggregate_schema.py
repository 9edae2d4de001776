"""`mcpServers.<name>.type: aggregate`: one endpoint over several of the gate's servers.

Owns the keys only an aggregate has, in mcp-front's shape (`servers`, `delimiter`,
`discovery.{timeout, cacheTtl, maxConnsPerUser}`), and the rules between servers: every
member is a direct server of this config, none twice, never an aggregate (the gate would
have to nest sessions of its own); without `servers`, the members are every direct server.
The keys of a direct backend (`command`, `url`, `headers`, ...) belong to the members, so
an aggregate refuses them. Starts nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import replace

from mcp_gate.config.model import (
    AggregateConfig,
    DiscoveryConfig,
    ServerConfig,
    ServerOptions,
    ServiceAuth,
)
from mcp_gate.config.section import Section
from mcp_gate.config.values import Context, child_path, item_path

SERVER_TYPES = ("direct", "aggregate")
AGGREGATE_KEYS = ("servers", "delimiter", "discovery")
DISCOVERY_KEYS = ("timeout", "cacheTtl", "maxConnsPerUser")
# What a direct server has and an aggregate does not: it reaches no backend of its own.
MEMBER_ONLY_KEYS = (
    "url", "headers", "timeout", "command", "args", "env", "cwd", "requiresUserToken",
    "userAuthentication", "tokenSetup", "identity",
)  # fmt: skip
# policy: mcp-front lets an aggregate name the transport its clients prefer; the gate
# serves both fronts for every server, so the key is accepted and only checked.
AGGREGATE_TRANSPORTS = ("sse", "streamable-http")


def parse_aggregate(
    section: Section,
    name: str,
    *,
    service_auths: tuple[ServiceAuth, ...],
    options: ServerOptions,
) -> tuple[ServerConfig, tuple[str, ...] | None]:
    """The aggregate's config (members still unchecked) and the members it names (None
    when `servers` is absent: every direct server)."""
    section.forbid(MEMBER_ONLY_KEYS, "an aggregate reaches its members; set it on them")
    transport = section.choice("transportType", AGGREGATE_TRANSPORTS, "streamable-http")
    delimiter = section.text("delimiter", ".")
    if section.has("delimiter") and not delimiter:
        section.ctx.error(section.at("delimiter"), "must not be empty")
        delimiter = "."
    discovery = section.child("discovery", DISCOVERY_KEYS)
    settings = DiscoveryConfig(
        timeout_seconds=discovery.duration("timeout", DiscoveryConfig.timeout_seconds),
        cache_ttl_seconds=discovery.duration("cacheTtl", DiscoveryConfig.cache_ttl_seconds),
        max_conns_per_user=discovery.integer("maxConnsPerUser", 0),
    )
    named = section.text_list("servers") if section.has("servers") else None
    server = ServerConfig(
        name=name,
        transport_type="sse" if transport == "sse" else "streamable-http",
        service_auths=service_auths,
        options=options,
        aggregate=AggregateConfig(members=(), delimiter=delimiter, discovery=settings),
    )
    return server, named


def resolve_members(
    ctx: Context,
    path: str,
    servers: Mapping[str, ServerConfig],
    named: Mapping[str, tuple[str, ...] | None],
) -> dict[str, ServerConfig]:
    """Every server, each aggregate with its checked members filled in."""
    direct = tuple(name for name, server in servers.items() if not server.is_aggregate)
    resolved = dict(servers)
    for name, members in named.items():
        server = servers[name]
        assert server.aggregate is not None
        at = child_path(child_path(path, name), "servers")
        if members is None:
            members = direct
            if not members:
                ctx.error(at, "required: no direct server to aggregate; list the members")
        elif not members:
            ctx.error(at, "needs at least one member server")
        checked: list[str] = []
        for index, member in enumerate(members):
            problem = _member_problem(member, name, servers, checked)
            if problem is not None:
                ctx.error(item_path(at, index), problem)
            else:
                checked.append(member)
        aggregate = replace(server.aggregate, members=tuple(checked))
        resolved[name] = replace(server, aggregate=aggregate)
    return resolved


def _member_problem(
    member: str, aggregate: str, servers: Mapping[str, ServerConfig], seen: list[str]
) -> str | None:
    if member == aggregate:
        return "an aggregate cannot contain itself"
    server = servers.get(member)
    if server is None:
        close = difflib.get_close_matches(member, list(servers), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        return f"unknown server {member!r}{hint}"
    if server.is_aggregate:
        return f"{member!r} is an aggregate; an aggregate's members are direct servers"
    if member in seen:
        return f"{member!r} is listed twice"
    return None
