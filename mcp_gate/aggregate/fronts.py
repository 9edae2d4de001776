"""The fronts of each aggregate, built once at start beside the direct servers' fronts.

An aggregate is served by the same bridged fronts as a stdio server (streamable HTTP on
`/<name>/mcp`, HTTP+SSE on `/<name>/sse`), whose sessions' channel is an
`AggregateSession` instead of a backend: every session property of the gate holds for
it. Each aggregate has one discovery cache, shared by its sessions and keyed by
principal (discovery.py), and reaches its members through their own bridged sessions
(members.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from mcp_gate.aggregate.discovery import DiscoveryCache
from mcp_gate.aggregate.members import FrontMembers, MemberOpener
from mcp_gate.aggregate.session import AggregateSession
from mcp_gate.principal import Principal
from mcp_gate.proxy.backends import Backend
from mcp_gate.proxy.bridged_fronts import BridgedLegacy, BridgedSessions, BridgedStreamable
from mcp_gate.proxy.channels import Channel
from mcp_gate.proxy.fronts import FrontParts, ServerFronts
from mcp_gate.proxy.user_credentials import UserCredential, UserCredentials


def build_aggregate_fronts(
    backend: Backend, parts: FrontParts, open_member: MemberOpener
) -> ServerFronts:
    aggregate = backend.config.aggregate
    assert aggregate is not None, "only aggregates are built here"
    cache = DiscoveryCache(aggregate.discovery.cache_ttl_seconds)

    async def open_channel(principal: Principal, _: UserCredential) -> Channel:
        return AggregateSession(backend.name, principal, aggregate, open_member, cache)

    sessions = BridgedSessions(backend, parts.registry, open_channel)
    message_path = f"{parts.base_path}/{backend.name}/message"
    return ServerFronts(
        backend,
        BridgedStreamable(sessions, parts.standalone_streams),
        BridgedLegacy(sessions, message_path),
        sessions,
    )


def build_all_aggregate_fronts(
    aggregates: Mapping[str, Backend],
    parts: FrontParts,
    direct: Mapping[str, ServerFronts],
    credentials: UserCredentials,
) -> dict[str, ServerFronts]:
    """The fronts of every aggregate over the direct servers' fronts."""
    fronts = {}
    for name, backend in aggregates.items():
        aggregate = backend.config.aggregate
        assert aggregate is not None
        open_member = FrontMembers(
            name,
            {member: direct[member].bridged for member in aggregate.members},
            credentials,
            aggregate.discovery.max_conns_per_user,
        )
        fronts[name] = build_aggregate_fronts(backend, parts, open_member)
    return fronts
