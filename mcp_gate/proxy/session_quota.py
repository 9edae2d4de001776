"""`sessions.maxPerUser` (and `maxPerAddress`) counted over every replica, in the store.

Each principal's (or anonymous address's) live bridged sessions are one lease set in the
store (`session_quota:<digest of the quota key>`, members: digests of session ids). A
session takes its place before its backend starts (`lease_add` with the limit: atomic, so
concurrent opens on several replicas cannot overshoot it) and gives it back when it
closes. The replica holding it renews its lease with its own (cluster/replica.py), so the
sessions of a replica that died stop counting once their lease lapses.
"""

from __future__ import annotations

from mcp_gate.crypto.digest import token_digest
from mcp_gate.store.protocols import Store

_KIND = "session_quota"


class SessionQuota:
    """The places this replica's sessions hold in their owners' quotas."""

    def __init__(self, store: Store, lease_ttl_seconds: float) -> None:
        self._store = store
        self._ttl = lease_ttl_seconds
        self._held: dict[str, str] = {}  # session id → quota key

    async def reserve(self, quota_key: str, session_id: str, limit: int) -> bool:
        """Take a place for the session; False when `limit` (> 0) sessions hold them all."""
        taken = await self._store.lease_add(
            _KIND, token_digest(quota_key), token_digest(session_id), ttl_seconds=self._ttl,
            limit=max(limit, 0),
        )  # fmt: skip
        if taken:
            self._held[session_id] = quota_key
        return taken

    async def release(self, session_id: str) -> None:
        quota_key = self._held.pop(session_id, None)
        if quota_key is not None:
            await self._store.lease_remove(_KIND, token_digest(quota_key), token_digest(session_id))

    async def renew(self) -> None:
        """Extend every held place by another lease (a renewal is never refused)."""
        for session_id, quota_key in list(self._held.items()):
            await self._store.lease_add(
                _KIND, token_digest(quota_key), token_digest(session_id), ttl_seconds=self._ttl
            )
