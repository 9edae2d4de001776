"""The in-process store: the `Store` contract over a dict, for one gate process.

Owns entries, their expiry and their purge. Everything is lost when the process exits, and
nothing is shared with other processes: this is the embedded default, not for replicas.

Atomicity comes from the event loop: no method awaits, so each runs to completion before
any other task sees the dict. It must not be used from several threads or event loops.
Time comes from an injected clock so tests advance it instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from mcp_gate.store.protocols import bucket_after_take, verify_kind, verify_ttl

# policy: a full sweep of expired entries at most once a minute keeps memory bounded by
# what is alive plus one minute of writes, at a cost of one pass over the dict.
PURGE_INTERVAL_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class _Entry:
    value: bytes
    expires_at: float | None

    def is_alive(self, now: float) -> bool:
        return self.expires_at is None or now < self.expires_at


class MemoryStore:
    """`Store` in a dict. `clock` returns seconds on a monotonic scale."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        purge_interval_seconds: float = PURGE_INTERVAL_SECONDS,
    ) -> None:
        self._clock = clock
        self._purge_interval_seconds = purge_interval_seconds
        self._entries: dict[tuple[str, str], _Entry] = {}
        # Lease sets: (kind, key) → member → deadline on `clock`.
        self._leases: dict[tuple[str, str], dict[str, float]] = {}
        self._next_purge_at = clock() + purge_interval_seconds

    def __repr__(self) -> str:
        return f"MemoryStore(entries={len(self._entries)})"

    def __len__(self) -> int:
        """Entries held, expired or not (purge not yet run). For tests and metrics."""
        return len(self._entries)

    def _now(self) -> float:
        now = self._clock()
        if now >= self._next_purge_at:
            self._entries = {k: e for k, e in self._entries.items() if e.is_alive(now)}
            for key in list(self._leases):
                self._alive_leases(key, now)
            self._next_purge_at = now + self._purge_interval_seconds
        return now

    def _alive(self, kind: str, key: str, now: float) -> _Entry | None:
        verify_kind(kind)
        entry = self._entries.get((kind, key))
        if entry is None:
            return None
        if not entry.is_alive(now):
            del self._entries[(kind, key)]
            return None
        return entry

    def _write(self, kind: str, key: str, value: bytes, ttl: float | None, now: float) -> None:
        verify_ttl(ttl)
        expires_at = None if ttl is None else now + ttl
        self._entries[(kind, key)] = _Entry(bytes(value), expires_at)

    async def get(self, kind: str, key: str) -> bytes | None:
        entry = self._alive(kind, key, self._now())
        return None if entry is None else entry.value

    async def put(
        self, kind: str, key: str, value: bytes, *, ttl_seconds: float | None = None
    ) -> None:
        verify_kind(kind)
        self._write(kind, key, value, ttl_seconds, self._now())

    async def put_new(self, kind: str, key: str, value: bytes, *, ttl_seconds: float) -> bool:
        now = self._now()
        if self._alive(kind, key, now) is not None:
            return False
        self._write(kind, key, value, ttl_seconds, now)
        return True

    async def take(self, kind: str, key: str) -> bytes | None:
        entry = self._alive(kind, key, self._now())
        if entry is None:
            return None
        del self._entries[(kind, key)]
        return entry.value

    async def delete(self, kind: str, key: str) -> None:
        verify_kind(kind)
        self._entries.pop((kind, key), None)

    async def delete_if_equal(self, kind: str, key: str, value: bytes) -> bool:
        entry = self._alive(kind, key, self._now())
        if entry is None or entry.value != value:
            return False
        del self._entries[(kind, key)]
        return True

    async def incr(self, kind: str, key: str, *, ttl_seconds: float) -> int:
        verify_ttl(ttl_seconds)
        now = self._now()
        entry = self._alive(kind, key, now)
        if entry is None:
            self._write(kind, key, b"1", ttl_seconds, now)
            return 1
        count = int(entry.value) + 1
        expires_at = now + ttl_seconds if entry.expires_at is None else entry.expires_at
        self._entries[(kind, key)] = _Entry(str(count).encode("ascii"), expires_at)
        return count

    async def take_token(
        self, kind: str, key: str, *, capacity: int, refill_seconds: float, now: float
    ) -> float:
        verify_ttl(refill_seconds)
        entry = self._alive(kind, key, self._now())
        bucket = bucket_after_take(
            entry.value if entry is not None else None, capacity, refill_seconds, now
        )
        self._write(kind, key, bucket.stored, refill_seconds + 1.0, self._now())
        return bucket.wait_seconds

    async def ttl(self, kind: str, key: str) -> float | None:
        now = self._now()
        entry = self._alive(kind, key, now)
        if entry is None or entry.expires_at is None:
            return None
        return entry.expires_at - now

    def _alive_leases(self, key: tuple[str, str], now: float) -> dict[str, float]:
        verify_kind(key[0])
        leases = self._leases.get(key, {})
        for member in [m for m, deadline in leases.items() if deadline <= now]:
            del leases[member]
        if not leases:
            self._leases.pop(key, None)
        return leases

    async def lease_add(
        self, kind: str, key: str, member: str, *, ttl_seconds: float, limit: int = 0
    ) -> bool:
        verify_ttl(ttl_seconds)
        now = self._now()
        leases = self._alive_leases((kind, key), now)
        if limit > 0 and member not in leases and len(leases) >= limit:
            return False
        leases[member] = now + ttl_seconds
        self._leases[(kind, key)] = leases
        return True

    async def lease_remove(self, kind: str, key: str, member: str) -> None:
        leases = self._alive_leases((kind, key), self._now())
        leases.pop(member, None)
        if not leases:
            self._leases.pop((kind, key), None)

    async def lease_count(self, kind: str, key: str) -> int:
        return len(self._alive_leases((kind, key), self._now()))

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._entries.clear()
        self._leases.clear()
