"""This process as a replica of the gate: its id, its liveness lease, and where the others are.

Every gate process is a replica with a random id, fresh at each start (a restarted process
owns none of the sessions of the one before it). In a cluster (`proxy.cluster`) it keeps a
lease in the store, `replica:<id>` → its advertised internal URL, written every third of
`leaseTtl` with that TTL: while the lease lives the replica is taken for alive, and other
replicas relay its sessions' requests to that URL. A replica that stops (SIGTERM) deletes
its lease first; one that dies (SIGKILL, a lost node) or hangs is gone once the lease
lapses, and its sessions answer 404 everywhere (MCP transports §Session Management: the
client starts a new session).

Each renewal also runs the renewals others registered (the session quota's leases,
proxy/session_quota.py), so one timer keeps everything this replica holds alive. Knows
nothing of HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Awaitable, Callable

import structlog

from mcp_gate.config.model import DEFAULT_LEASE_TTL_SECONDS
from mcp_gate.errors import StorageUnavailableError
from mcp_gate.store.protocols import Store

log = structlog.get_logger()

_KIND = "replica"
# policy: another replica's liveness is read from the store at most this often per
# replica; a replica that died is noticed sooner anyway, by its refused connection.
LOCATE_CACHE_SECONDS = 1.0

Renewal = Callable[[], Awaitable[None]]


class Replica:
    """This process in the cluster. `advertise_url` is "" when the gate runs alone."""

    def __init__(
        self,
        store: Store,
        advertise_url: str = "",
        lease_ttl_seconds: float = DEFAULT_LEASE_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.id = secrets.token_hex(8)
        self.url = advertise_url
        self.lease_ttl_seconds = lease_ttl_seconds
        self._store = store
        self._clock = clock
        self._renewals: list[Renewal] = []
        self._known: dict[str, tuple[float, str]] = {}  # replica id → (read at, url)
        self._task: asyncio.Task[None] | None = None
        # Set at the start of a stop: no new sessions are opened here from then on.
        self.draining = False

    @property
    def clustered(self) -> bool:
        return bool(self.url)

    def add_renewal(self, renewal: Renewal) -> None:
        self._renewals.append(renewal)

    async def start(self) -> None:
        """Write the lease once (a store that is down does not stop the start), then keep
        renewing it."""
        with contextlib.suppress(StorageUnavailableError):
            await self._renew()
        self._task = asyncio.create_task(self._renew_forever(), name="replica-lease")
        if self.clustered:
            log.info("replica_joined", replica=self.id, url=self.url)

    async def withdraw(self) -> None:
        """Stop renewing and delete the lease: the others stop relaying here at once."""
        self.draining = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.clustered:
            with contextlib.suppress(StorageUnavailableError):
                await self._store.delete(_KIND, self.id)
            log.info("replica_left", replica=self.id)

    async def locate(self, replica_id: str) -> str | None:
        """The internal URL of a live replica, or None when its lease is gone."""
        now = self._clock()
        known = self._known.get(replica_id)
        if known is not None and now - known[0] < LOCATE_CACHE_SECONDS:
            return known[1]
        stored = await self._store.get(_KIND, replica_id)
        if stored is None:
            self._known.pop(replica_id, None)
            return None
        url = stored.decode()
        self._known[replica_id] = (now, url)
        return url

    def forget(self, replica_id: str) -> None:
        """A replica that refused a connection: read its lease again next time."""
        self._known.pop(replica_id, None)

    async def _renew(self) -> None:
        if self.clustered:
            await self._store.put(
                _KIND, self.id, self.url.encode(), ttl_seconds=self.lease_ttl_seconds
            )
        for renewal in self._renewals:
            await renewal()

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.lease_ttl_seconds / 3)
            try:
                await self._renew()
            except StorageUnavailableError as exc:
                # The next renewal tries again; two misses in a row still leave a third.
                log.warning("replica_lease_not_renewed", replica=self.id, error=str(exc))
