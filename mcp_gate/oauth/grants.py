"""Storage of the authorization server's short- and long-lived records, over a `Store`.

Owns the store kinds, keys and TTLs of: pending authorizations, login attempts (keyed by
the state sent to the IdP), consents, grants, authorization codes (and the marker a used
code leaves behind), refresh tokens. Tokens and codes are stored under their SHA-256
digest, never in the clear (RFC 6819 §5.1.4.1.3). Single-use records are taken atomically.
Every revocation in this process, whoever asks for it (the revocation endpoint, a replayed
code, a reused refresh token), is announced to the `on_revoke` listeners, so that caches of
live grants (bearer.py) drop it at once.
A grant that began before a revocation mark of its user or client (revocations.py) loads
as absent, so offboarding reaches every reader of grants at once. Each user's grants are
also listed under their email (`user_grants`), for /my/apps and `mcp-gate revoke`, with
when each was last used; the list is rewritten under a short lock (`put_new`), and pruned
of grants that are gone whenever it is read.
Knows nothing of HTTP or of how tokens are minted.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass

from mcp_gate.crypto.digest import new_token, token_digest
from mcp_gate.oauth.models import (
    AuthorizationCode,
    Grant,
    LoginAttempt,
    PendingAuthorization,
    RefreshToken,
)
from mcp_gate.oauth.revocations import RevocationMarks
from mcp_gate.store.protocols import Store
from mcp_gate.store.records import from_json, to_json

# policy: the user has this long to consent and log in (MCP security best practices
# §Confused Deputy Problem: the IdP state is short-lived).
PENDING_TTL_SECONDS = 600.0
# OAuth 2.1 §4.1.2: codes are short-lived; 60 s is ample for a client's token request.
AUTH_CODE_TTL_SECONDS = 60.0
# policy: a used code is remembered this long, so a replay can revoke what it issued.
USED_CODE_TTL_SECONDS = 600.0
# policy: remembered consent lasts as long as a refresh token would.
CONSENT_TTL_SECONDS = 720 * 3600.0
# policy: the user's grant list is rewritten by one request at a time; a holder that
# crashed frees it after this; a writer waits at most LIST_LOCK_WAIT_SECONDS, then writes
# anyway (a lost list entry hides a grant from /my/apps, never keeps one alive: the marks
# of `mcp-gate revoke` need no list).
LIST_LOCK_TTL_SECONDS = 5.0
LIST_LOCK_WAIT_SECONDS = 1.0
_LIST_LOCK_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class ListedGrant:
    """One entry of a user's grant list, with when it was last used (None: never)."""

    grant: Grant
    last_used_at: float | None


class GrantStore:
    def __init__(self, store: Store, marks: RevocationMarks | None = None) -> None:
        self._store = store
        self.marks = marks or RevocationMarks(store)
        self._revoke_listeners: list[Callable[[str], None]] = []

    def on_revoke(self, listener: Callable[[str], None]) -> None:
        """Call `listener(grant_id)` after every revocation made through this object."""
        self._revoke_listeners.append(listener)

    # Pending authorizations and login attempts: the browser leg.

    async def save_pending(self, pending: PendingAuthorization) -> None:
        await self._store.put(
            "pending", pending.id, to_json(pending), ttl_seconds=PENDING_TTL_SECONDS
        )

    async def load_pending(self, pending_id: str) -> PendingAuthorization | None:
        data = await self._store.get("pending", pending_id)
        return from_json(PendingAuthorization, data)

    async def delete_pending(self, pending_id: str) -> None:
        await self._store.delete("pending", pending_id)

    async def save_login(self, state: str, attempt: LoginAttempt) -> None:
        key = token_digest(state)
        await self._store.put("login", key, to_json(attempt), ttl_seconds=PENDING_TTL_SECONDS)

    async def take_login(self, state: str) -> LoginAttempt | None:
        """The attempt for this IdP state, once (MCP security best practices §Confused Deputy
        Problem: the state is single-use)."""
        data = await self._store.take("login", token_digest(state))
        return from_json(LoginAttempt, data)

    # Consent: remembered per (user, client).

    async def save_consent(self, subject: str, client_id: str) -> None:
        key = token_digest(f"{subject}\n{client_id}")
        await self._store.put("consent", key, b"1", ttl_seconds=CONSENT_TTL_SECONDS)

    async def has_consent(self, subject: str, client_id: str) -> bool:
        return await self._store.get("consent", token_digest(f"{subject}\n{client_id}")) is not None

    # Grants: the family record of codes and tokens.

    async def save_grant(self, grant: Grant, *, now: float) -> None:
        ttl = max(grant.expires_at - now, 1.0)
        await self._store.put("grant", grant.id, to_json(grant), ttl_seconds=ttl)
        if grant.kind == "user" and grant.email:
            await self._update_list(grant.email, lambda ids: [*ids, grant.id])

    async def load_grant(self, grant_id: str) -> Grant | None:
        """The grant, or None when it is gone or a revocation mark covers it."""
        grant = from_json(Grant, await self._store.get("grant", grant_id))
        if grant is None:
            return None
        if await self.marks.is_revoked(
            email=grant.email, client_id=grant.client_id, began_at=grant.created_at
        ):
            await self.revoke_grant(grant_id)
            return None
        return grant

    async def revoke_grant(self, grant_id: str) -> None:
        await self._store.delete("grant", grant_id)
        await self._store.delete("grant_used", grant_id)
        await self._store.delete("upstream", grant_id)  # its sealed IdP renewal (revalidation.py)
        for listener in self._revoke_listeners:
            listener(grant_id)

    # Each user's grants, by email: what /my/apps shows and `mcp-gate revoke` ends.

    async def save_last_used(self, grant: Grant, *, now: float) -> None:
        ttl = max(grant.expires_at - now, 1.0)
        await self._store.put("grant_used", grant.id, repr(now).encode(), ttl_seconds=ttl)

    async def list_user_grants(self, email: str) -> list[ListedGrant]:
        """The user's live grants, oldest first; forgets listed grants that are gone."""
        listed: list[ListedGrant] = []
        for grant_id in await self._load_list(email):
            grant = await self.load_grant(grant_id)
            if grant is None or grant.email.lower() != email.lower():
                continue
            used = await self._store.get("grant_used", grant_id)
            listed.append(ListedGrant(grant, float(used) if used else None))
        alive = {entry.grant.id for entry in listed}
        if len(alive) < len(await self._load_list(email)):
            await self._update_list(email, lambda ids: [i for i in ids if i in alive])
        return listed

    async def revoke_user_grants(self, email: str, client_id: str | None = None) -> list[Grant]:
        """Revoke the user's grants (only those of `client_id` when given); returns them."""
        revoked = []
        for entry in await self.list_user_grants(email):
            if client_id is None or entry.grant.client_id == client_id:
                await self.revoke_grant(entry.grant.id)
                revoked.append(entry.grant)
        gone = {grant.id for grant in revoked}
        await self._update_list(email, lambda ids: [i for i in ids if i not in gone])
        return revoked

    async def _load_list(self, email: str) -> list[str]:
        data = await self._store.get("user_grants", token_digest(email.strip().lower()))
        try:
            ids = json.loads(data) if data else []
        except ValueError:
            return []
        return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []

    async def _update_list(self, email: str, change: Callable[[list[str]], list[str]]) -> None:
        key = token_digest(email.strip().lower())
        holder = new_token()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LIST_LOCK_WAIT_SECONDS
        while not await self._store.put_new(
            "user_grants_lock", key, holder.encode(), ttl_seconds=LIST_LOCK_TTL_SECONDS
        ):
            if loop.time() >= deadline:
                break
            await asyncio.sleep(_LIST_LOCK_POLL_SECONDS)
        try:
            ids = list(dict.fromkeys(change(await self._load_list(email))))
            if ids:
                data = json.dumps(ids).encode()
                await self._store.put("user_grants", key, data, ttl_seconds=CONSENT_TTL_SECONDS)
            else:
                await self._store.delete("user_grants", key)
        finally:
            await self._store.delete_if_equal("user_grants_lock", key, holder.encode())

    # Authorization codes.

    async def save_code(self, code: str, record: AuthorizationCode) -> None:
        await self._store.put(
            "code", token_digest(code), to_json(record), ttl_seconds=AUTH_CODE_TTL_SECONDS
        )

    async def take_code(self, code: str) -> AuthorizationCode | None:
        """The code's record, once; the first taker leaves a used-code marker behind."""
        key = token_digest(code)
        record = from_json(AuthorizationCode, await self._store.take("code", key))
        if record is None:
            return None
        await self._store.put(
            "code_used", key, record.grant_id.encode(), ttl_seconds=USED_CODE_TTL_SECONDS
        )
        return record

    async def grant_of_used_code(self, code: str) -> str | None:
        data = await self._store.get("code_used", token_digest(code))
        return data.decode() if data else None

    # Refresh tokens.

    async def save_refresh(self, token: str, record: RefreshToken, *, now: float) -> None:
        ttl = max(record.expires_at - now, 1.0)
        await self._store.put("refresh", token_digest(token), to_json(record), ttl_seconds=ttl)

    async def load_refresh(self, token: str) -> RefreshToken | None:
        data = await self._store.get("refresh", token_digest(token))
        return from_json(RefreshToken, data)

    async def delete_refresh(self, token: str) -> None:
        await self._store.delete("refresh", token_digest(token))

    # The answer a refresh token got when it was rotated, kept (sealed by the caller) for
    # the reuse grace window, so a concurrent refresh gets the same tokens, not a fork.

    async def save_successor(self, token: str, sealed: bytes, *, ttl_seconds: float) -> bool:
        """Keep the answer of `token`'s rotation; False if another rotation was first."""
        return await self._store.put_new(
            "refresh_next", token_digest(token), sealed, ttl_seconds=ttl_seconds
        )

    async def load_successor(self, token: str) -> bytes | None:
        return await self._store.get("refresh_next", token_digest(token))
