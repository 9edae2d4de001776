"""The storage contract: a key → bytes map with expiry and a few atomic operations.

Owns the `Store` protocol that `memory.py` and `redis.py` implement, and the rule for kind
names. It knows nothing about what is stored: clients, grants, codes, tokens, consents, MCP
session bindings and user tokens are serialized (JSON, sealed where secret) by the modules
that own them, which pick a `kind` per record type and a key per record (an id or a token
digest, never a raw token).

Semantics every implementation keeps (tests/contracts/test_store_contract.py holds them):
- Values are bytes, returned byte-exact. `kind` is a namespace: the same key under two
  kinds names two entries.
- `ttl_seconds` is how long an entry lives from the write; `None` means no expiry. An entry
  is gone once its time is up, for every operation.
- `put_new`, `take`, `delete_if_equal`, `incr`, `take_token` and `lease_add` are atomic
  across every process sharing the store: of 50 concurrent `take`s of one key, exactly one
  gets the value.
- A lease set (`lease_*`) is one entry holding members, each alive until its own deadline;
  the entry lives as long as its longest lease. Deadlines are on the store's clock (Redis:
  the server's `TIME`), so replicas whose clocks differ still agree on who is alive.
- When the backend cannot be reached, every method raises `StorageUnavailableError` (never
  a driver exception), and the store recovers by itself once the backend is back.

# policy: no sets or secondary indexes. "Revoke everything of a grant / token family" is
# done by the owner keeping one family record (the grant) that each member record names;
# a member whose family record is gone is invalid, so deleting the grant revokes codes,
# access and refresh tokens at once. Members then expire on their own TTLs. The one
# set-like record is the lease set, which counts what replicas hold alive (MCP sessions
# against `maxPerUser`): a replica that dies stops renewing, and its members lapse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

_KIND = re.compile(r"[a-z][a-z0-9_]{0,31}")


def verify_kind(kind: str) -> None:
    """Raise ValueError unless `kind` is a short lowercase name (it never holds a colon)."""
    if not _KIND.fullmatch(kind):
        raise ValueError(f"store kind must match {_KIND.pattern}, got {kind!r}")


def verify_ttl(ttl_seconds: float | None) -> None:
    """Raise ValueError unless the TTL is None (no expiry) or a positive number of seconds."""
    if ttl_seconds is not None and not ttl_seconds > 0:
        raise ValueError(f"ttl_seconds must be positive or None, got {ttl_seconds!r}")


@dataclass(frozen=True)
class Bucket:
    """A token bucket after one `take_token`: what to store, and the wait (0.0: taken)."""

    stored: bytes
    wait_seconds: float


def bucket_after_take(
    stored: bytes | None, capacity: int, refill_seconds: float, now: float
) -> Bucket:
    """`take_token` over a stored value "<tokens> <updated at, ms>" (the Redis script's
    form, so both stores read each other's values the same way), for stores that hold a
    lock or a loop turn while they compute it."""
    now_ms, refill_ms = now * 1000, refill_seconds * 1000
    tokens, updated = float(capacity), now_ms
    try:
        text_tokens, text_updated = (stored or b"").decode().split(" ")
        tokens, updated = float(text_tokens), float(text_updated)
    except ValueError:
        pass  # absent or unreadable: a full bucket
    tokens = min(capacity, tokens + max(now_ms - updated, 0.0) * capacity / refill_ms)
    wait_ms = 0.0
    if tokens >= 1:
        tokens -= 1
    else:
        wait_ms = (1 - tokens) * refill_ms / capacity
    value = f"{tokens:.6f} {max(now_ms, updated):.3f}".encode()
    return Bucket(value, round(wait_ms, 3) / 1000)


class Store(Protocol):
    """What the gate needs from its storage. Every method may raise StorageUnavailableError."""

    async def get(self, kind: str, key: str) -> bytes | None:
        """The value, or None when absent or expired."""
        ...

    async def put(
        self, kind: str, key: str, value: bytes, *, ttl_seconds: float | None = None
    ) -> None:
        """Write the value, replacing any previous value and expiry."""
        ...

    async def put_new(self, kind: str, key: str, value: bytes, *, ttl_seconds: float) -> bool:
        """Write only if absent; True when written. For locks, single-use markers, idempotency.

        The TTL is required so that a crashed holder never blocks a key forever.
        """
        ...

    async def take(self, kind: str, key: str) -> bytes | None:
        """Atomically read and delete: of concurrent takes, exactly one gets the value."""
        ...

    async def delete(self, kind: str, key: str) -> None:
        """Remove the entry; absent is fine."""
        ...

    async def delete_if_equal(self, kind: str, key: str, value: bytes) -> bool:
        """Remove the entry only if it still holds `value` (release a lock if still ours)."""
        ...

    async def incr(self, kind: str, key: str, *, ttl_seconds: float) -> int:
        """Add one to a counter and return it; the first increment starts a window of
        `ttl_seconds`, after which the counter starts again at 1. For rate limits.

        The counter reads back through `get` as ASCII digits; `incr` on an entry that holds
        anything else is a caller bug.
        """
        ...

    async def take_token(
        self, kind: str, key: str, *, capacity: int, refill_seconds: float, now: float
    ) -> float:
        """Take one token from a token bucket of `capacity` tokens that refills fully in
        `refill_seconds`, at `now` (seconds, the caller's wall clock: replicas share it).
        Returns 0.0 when a token was taken, else the seconds until one will be there (and
        takes nothing). A bucket never used, or left alone `refill_seconds`, is full; its
        entry then expires. For per-user rate limits (several replicas, one bucket).
        """
        ...

    async def ttl(self, kind: str, key: str) -> float | None:
        """Seconds left before the entry expires; None when absent or without expiry."""
        ...

    async def lease_add(
        self, kind: str, key: str, member: str, *, ttl_seconds: float, limit: int = 0
    ) -> bool:
        """Add `member` to the lease set, or renew it, alive for `ttl_seconds` from now.

        With `limit > 0`, a member not yet in the set is added only while fewer than `limit`
        members are alive; False when refused. Renewing a member is never refused.
        """
        ...

    async def lease_remove(self, kind: str, key: str, member: str) -> None:
        """Drop `member` from the lease set; absent is fine."""
        ...

    async def lease_count(self, kind: str, key: str) -> int:
        """How many members of the lease set are alive now."""
        ...

    async def ping(self) -> None:
        """Return when the backend answers (readiness); raise StorageUnavailableError if not."""
        ...

    async def close(self) -> None:
        """Release connections. The store is not used afterwards."""
        ...
