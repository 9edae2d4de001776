"""Revocation marks: "everything of this user (or this client) issued before T is dead".

Offboarding (`mcp-gate revoke --user` / `--client`) must end a user's grants, tokens,
browser sessions, MCP sessions and stdio children on every replica, though the store keeps
no index of who holds what (store/protocols.py policy). So it writes one mark per user
(by email, lower-cased) or per client id, holding the time of the revocation; every
check that reads a grant, a login session or a live MCP session compares the time it
began with the marks of its user and its client, and anything that began at or before a
mark is revoked. A new login after the mark starts afresh (the IdP and the allowlist
decide whether it may). Marks live as long as anything they can end: the longest grant
or login session. Keys are digests: an email never appears in a store key.

Reads and writes only its own store kind; knows nothing of grants or HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from mcp_gate.crypto.digest import token_digest
from mcp_gate.store.protocols import Store

MARK_KIND = "revoked"
# policy: a mark outlives the longest grant (refreshTokenTtl's default, 720 h) and the
# browser login session (12 h) it may have to end; app.py passes the configured lifetime.
DEFAULT_MARK_TTL_SECONDS = (720 + 12) * 3600.0


def _user_key(email: str) -> str:
    return "user:" + token_digest(email.strip().lower())


def _client_key(client_id: str) -> str:
    return "client:" + token_digest(client_id)


class RevocationMarks:
    def __init__(
        self,
        store: Store,
        *,
        mark_ttl_seconds: float = DEFAULT_MARK_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._ttl = mark_ttl_seconds
        self._clock = clock

    async def mark_user(self, email: str) -> float:
        """End everything `email` holds now; returns the mark's time."""
        return await self._mark(_user_key(email))

    async def mark_client(self, client_id: str) -> float:
        """End every grant and session of `client_id` (every user's, and its own)."""
        return await self._mark(_client_key(client_id))

    async def _mark(self, key: str) -> float:
        now = self._clock()
        await self._store.put(MARK_KIND, key, repr(now).encode(), ttl_seconds=self._ttl)
        return now

    async def is_revoked(self, *, email: str, client_id: str, began_at: float) -> bool:
        """Whether something of `email` and `client_id` that began at `began_at` (seconds
        since the epoch) was revoked since; "" for either skips its mark."""
        for key in (_user_key(email) if email else "", _client_key(client_id) if client_id else ""):
            if not key:
                continue
            stored = await self._store.get(MARK_KIND, key)
            if stored is not None and _as_time(stored) >= began_at:
                return True
        return False


def _as_time(stored: bytes) -> float:
    try:
        return float(stored)
    except ValueError:
        # policy: a mark that does not read as a time still revokes (fail closed).
        return float("inf")
