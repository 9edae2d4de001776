"""`mcp-gate revoke`: end everything a user (or a client) holds, on every replica.

What it writes, and how each replica hears of it (oauth/revocations.py):

    revoke --user alice@example.com    a mark for the email; the user's listed grants deleted
    revoke --client ID                 a mark for the client id

Grants, access and refresh tokens, and browser login sessions that began before the mark
are refused at the next check that reads them (`proxy.auth.revocationCheckInterval` on
the bearer path); a replica whose request is refused for a mark, or whose session reaper
finds one, closes that principal's MCP sessions and stops their stdio children. The
shared store is the only channel, so this needs `storage: redis`: a memory store lives
inside one running gate, out of reach of this command.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import structlog

from mcp_gate.audit import Audit, open_sink
from mcp_gate.config.model import AuthConfig, GateConfig
from mcp_gate.cookies import LOGIN_SESSION_SECONDS
from mcp_gate.errors import ConfigError
from mcp_gate.oauth.grants import GrantStore
from mcp_gate.oauth.revocations import RevocationMarks
from mcp_gate.store.factory import open_store

log = structlog.get_logger()


@dataclass(frozen=True)
class RevocationResult:
    what: str
    grants_deleted: int


def mark_ttl_seconds(config: GateConfig) -> float:
    """How long a mark must live: past every grant and login session it may end."""
    auth = config.proxy.auth
    refresh_ttl = auth.refresh_token_ttl_seconds if auth is not None else 0.0
    return max(refresh_ttl, LOGIN_SESSION_SECONDS) + 3600.0


async def revoke(
    config: GateConfig, *, user: str | None = None, client: str | None = None
) -> RevocationResult:
    """Write the revocation mark of `user` or `client`; ConfigError without shared storage."""
    auth = config.proxy.auth
    if auth is None or auth.storage != "redis":
        raise ConfigError(
            [
                "proxy.auth.storage: revoke needs storage: redis (the store every replica "
                "shares); with memory storage, restart the gate to end every grant"
            ]
        )
    audit_settings = config.proxy.audit
    sink = open_sink(audit_settings.sink) if audit_settings is not None else None
    audit = Audit(sink)
    try:
        return await _revoke(auth, config, audit, user=user, client=client)
    finally:
        if sink is not None and sink is not sys.stdout:
            sink.close()


async def _revoke(
    auth: AuthConfig, config: GateConfig, audit: Audit, *, user: str | None, client: str | None
) -> RevocationResult:
    async with open_store(auth) as store:
        marks = RevocationMarks(store, mark_ttl_seconds=mark_ttl_seconds(config))
        grants = GrantStore(store, marks)
        if user is not None:
            email = user.strip().lower()
            await marks.mark_user(email)
            deleted = await grants.revoke_user_grants(email)
            log.warning("user_revoked", email=email, grants=len(deleted))
            audit.emit("principal_revoked", email=email, grants=len(deleted), by="mcp-gate revoke")
            return RevocationResult(f"user {email}", len(deleted))
        assert client is not None
        await marks.mark_client(client)
        log.warning("client_revoked", client_id=client)
        audit.emit("principal_revoked", client_id=client, by="mcp-gate revoke")
        return RevocationResult(f"client {client}", 0)
