"""Rate limits: per principal on MCP requests, per client address on the OAuth endpoints.

- `proxy.limits.perUser` (off unless set): a token bucket per principal (`principal.id`;
  anonymous callers per client address) in the store (`Store.take_token`, atomic in Redis),
  so every replica draws from one bucket. `requests` tokens, refilled over `per`: bursts up
  to `requests`, a sustained `requests / per`. Keyed by identity, not by address: hosted
  MCP clients share egress addresses (many users, one IP).
- `/register`, `/token` and `/authorize` count per client address in fixed windows
  (`Store.incr`): `/register` 30 an hour (against registration floods), the other two by
  `proxy.limits.tokenPerAddress` / `authorizePerAddress`.
A refusal names how long to wait (RFC 6585 §4 429 with `Retry-After`, RFC 9110 §10.2.3);
the caller renders it (a JSON-RPC error on MCP routes, an OAuth error on the AS's).
Knows nothing of HTTP.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from mcp_gate.config.model import LimitsConfig, RateLimit
from mcp_gate.crypto.digest import token_digest
from mcp_gate.principal import Principal
from mcp_gate.store.protocols import Store

# policy: registrations one address may make per hour (claude.ai registers on every fresh
# connection, so not too tight).
REGISTRATIONS_PER_ADDRESS = RateLimit(requests=30, per_seconds=3600.0)


@dataclass(frozen=True)
class Refusal:
    """Over a limit: what was limited, and the whole seconds to wait (>= 1)."""

    what: str
    retry_after_seconds: int


def _seconds(wait: float) -> int:
    return max(1, math.ceil(wait))


class RateLimits:
    def __init__(
        self, store: Store, config: LimitsConfig, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._config = config
        self._clock = clock

    @property
    def limits_principals(self) -> bool:
        """Whether `perUser` is set: without it `check_principal` always admits."""
        return self._config.per_user is not None

    async def check_principal(self, principal: Principal, address: str | None) -> Refusal | None:
        """One MCP request of `principal`: None when within `perUser`, else the refusal."""
        limit = self._config.per_user
        if limit is None:
            return None
        who = principal.id if principal.kind != "anonymous" else f"address:{address}"
        wait = await self._store.take_token(
            "user_bucket",
            token_digest(who),
            capacity=limit.requests,
            refill_seconds=limit.per_seconds,
            now=self._clock(),
        )
        return Refusal("requests", _seconds(wait)) if wait > 0 else None

    async def check_address(self, endpoint: str, address: str | None) -> Refusal | None:
        """One request to `endpoint` (register, token, authorize) from `address`."""
        limit = {
            "register": REGISTRATIONS_PER_ADDRESS,
            "token": self._config.token_per_address,
            "authorize": self._config.authorize_per_address,
        }[endpoint]
        if limit is None:
            return None
        key = f"{endpoint}:{address or 'unknown'}"
        count = await self._store.incr("address_rate", key, ttl_seconds=limit.per_seconds)
        if count <= limit.requests:
            return None
        left = await self._store.ttl("address_rate", key)
        return Refusal(endpoint, _seconds(left if left is not None else limit.per_seconds))
