"""The sealed records of each user's credentials for servers, one per (user, server).

Owns two store kinds, their keys and their sealing:
- `user_token`: a token the user pasted at /my/tokens (`userAuthentication: manual`);
- `service_token`: the tokens the gate holds for the user at a service's OAuth server
  (`userAuthentication: oauth`): access token, refresh token, expiry.
Both are JSON sealed with AES-256-GCM (crypto/aead.py); the associated data names the
kind, the user and the server, so a sealed value copied under another user's (or server's)
key does not open (docs/THREAT_MODEL.md, Assets). A record that does not open (tampered,
moved, or sealed under a key no longer configured) reads as absent: the user sets it again.
Keys are digests of (user, server), so the store's key list names nobody.
Knows nothing of HTTP or OAuth; never logs a value, and the reprs hide them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import structlog

from mcp_gate.crypto.aead import Sealer
from mcp_gate.crypto.digest import token_digest
from mcp_gate.errors import CryptoError
from mcp_gate.store.protocols import Store

log = structlog.get_logger()

USER_TOKEN_KIND: Final = "user_token"  # noqa: S105 - a store kind
SERVICE_TOKEN_KIND: Final = "service_token"  # noqa: S105 - a store kind
RecordKind = Literal["user_token", "service_token"]

_AAD_PREFIX = b"mcp-gate user credential v1\x00"
# policy: a hint shows the last HINT_CHARS characters only of a value of at least
# HINT_MIN_LENGTH, so at least 12 characters stay unknown; a shorter value shows none.
HINT_CHARS = 4
HINT_MIN_LENGTH = 16
HIDDEN = "••••"


@dataclass(frozen=True)
class SavedToken:
    """A token the user pasted, and when."""

    value: str = field(repr=False)
    saved_at: float

    @property
    def hint(self) -> str:
        return masked_hint(self.value)


@dataclass(frozen=True)
class ServiceTokens:
    """What the gate holds for one user at one service's OAuth server."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    # Seconds since the epoch; None when the service did not say (RFC 6749 §5.1 expires_in).
    expires_at: float | None = None
    saved_at: float = 0.0


def masked_hint(value: str) -> str:
    """What the page may show of a stored value: `••••x4Qa`, or `••••` for a short one."""
    if len(value) < HINT_MIN_LENGTH:
        return HIDDEN
    return HIDDEN + value[-HINT_CHARS:]


def token_fingerprint(value: str) -> str:
    """Names a token value in memory (which token a child was started with); not stored."""
    return token_digest(value)


def record_key(subject: str, server: str) -> str:
    """The store key of the records of (user, server)."""
    return token_digest(json.dumps([subject, server]))


def _associated_data(kind: RecordKind, subject: str, server: str) -> bytes:
    return _AAD_PREFIX + json.dumps([kind, subject, server]).encode()


class UserTokenStore:
    def __init__(
        self, store: Store, sealer: Sealer, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._sealer = sealer
        self._clock = clock

    # Pasted tokens.

    async def save(self, subject: str, server: str, value: str) -> None:
        record = {"value": value, "saved_at": self._clock()}
        await self._put(USER_TOKEN_KIND, subject, server, record)

    async def load(self, subject: str, server: str) -> SavedToken | None:
        record = await self._get(USER_TOKEN_KIND, subject, server)
        if record is None:
            return None
        return SavedToken(str(record["value"]), float(record["saved_at"]))

    async def delete(self, subject: str, server: str) -> None:
        await self._store.delete(USER_TOKEN_KIND, record_key(subject, server))

    # Service connections.

    async def save_service_tokens(self, subject: str, server: str, tokens: ServiceTokens) -> None:
        record = {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_at": tokens.expires_at,
            "saved_at": tokens.saved_at or self._clock(),
        }
        await self._put(SERVICE_TOKEN_KIND, subject, server, record)

    async def load_service_tokens(self, subject: str, server: str) -> ServiceTokens | None:
        record = await self._get(SERVICE_TOKEN_KIND, subject, server)
        if record is None:
            return None
        expires_at = record.get("expires_at")
        return ServiceTokens(
            access_token=str(record["access_token"]),
            refresh_token=record.get("refresh_token"),
            expires_at=float(expires_at) if expires_at is not None else None,
            saved_at=float(record["saved_at"]),
        )

    async def delete_service_tokens(self, subject: str, server: str) -> None:
        await self._store.delete(SERVICE_TOKEN_KIND, record_key(subject, server))

    # Sealing.

    async def _put(
        self, kind: RecordKind, subject: str, server: str, record: dict[str, Any]
    ) -> None:
        plaintext = json.dumps(record, separators=(",", ":")).encode()
        sealed = self._sealer.seal(plaintext, _associated_data(kind, subject, server))
        await self._store.put(kind, record_key(subject, server), sealed)

    async def _get(self, kind: RecordKind, subject: str, server: str) -> dict[str, Any] | None:
        sealed = await self._store.get(kind, record_key(subject, server))
        if sealed is None:
            return None
        try:
            record = json.loads(self._sealer.open(sealed, _associated_data(kind, subject, server)))
        except (CryptoError, ValueError):
            # Tampered, moved from another user or server, or sealed under a retired key.
            log.warning("user_token_unreadable", kind=kind, server=server, subject=subject)
            return None
        return record if isinstance(record, dict) else None
