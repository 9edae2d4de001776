"""A JWK Set (RFC 7517 §5) at a URL, cached and refreshed: an IdP's ID token signing keys,
and likewise a trusted issuer's or a client's keys (key_sources.py).

Owns fetching `jwks_uri`, keeping its keys (read by `jwk_sets.py`), and following key
rotation: an unknown `kid` triggers one refetch (OIDC Core 1.0 §10.1.1), rate-limited so a
stream of bad tokens cannot make us hammer the key's owner. Does not verify anything itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

import aiohttp
import structlog

from mcp_gate.idp.errors import IdpError
from mcp_gate.idp.upstream import get_json
from mcp_gate.jwk_sets import JwkEntry, VerificationKey, parse_jwk_set, select_key

log = structlog.get_logger()

# policy: keys the IdP withdrew stop being trusted within an hour even without a new kid.
JWKS_MAX_AGE_SECONDS = 3600.0
# policy: at most one unknown-kid refetch a minute; rotation needs one, an attack gets one.
JWKS_REFETCH_MIN_INTERVAL_SECONDS = 60.0

Clock = Callable[[], float]
__all__ = ["Clock", "JwksCache", "VerificationKey", "parse_jwks"]


def parse_jwks(document: Mapping[str, object]) -> tuple[JwkEntry, ...]:
    """The usable signature keys of the provider's JWK Set, or `IdpError` without any."""
    try:
        return parse_jwk_set(document)
    except ValueError as exc:
        raise IdpError("jwks_invalid", str(exc)) from None


class JwksCache:
    """The JWK Set at one `jwks_uri`, fetched on first use."""

    def __init__(self, http: aiohttp.ClientSession, *, clock: Clock = time.time) -> None:
        self._http = http
        self._clock = clock
        self._uri: str | None = None
        self._entries: tuple[JwkEntry, ...] = ()
        self._fetched_at = 0.0
        self._last_unknown_kid_refetch: float | None = None
        self._lock = asyncio.Lock()

    async def find_key(self, jwks_uri: str, kid: str | None, kty: str) -> VerificationKey | None:
        """The key for a token header's `kid` and key type, or None if the IdP has none."""
        async with self._lock:
            now = self._clock()
            if self._uri != jwks_uri or now - self._fetched_at >= JWKS_MAX_AGE_SECONDS:
                await self._fetch(jwks_uri, now)
            key = self._select(kid, kty)
            if key is None and self._may_refetch_for_unknown_kid(now):
                self._last_unknown_kid_refetch = now
                await self._fetch(jwks_uri, now)
                log.info("idp_jwks_refetched", reason="unknown_kid")
                key = self._select(kid, kty)
            return key

    def _may_refetch_for_unknown_kid(self, now: float) -> bool:
        last = self._last_unknown_kid_refetch
        return last is None or now - last >= JWKS_REFETCH_MIN_INTERVAL_SECONDS

    async def _fetch(self, jwks_uri: str, now: float) -> None:
        self._entries = parse_jwks(await get_json(self._http, jwks_uri, "jwks_invalid"))
        self._uri = jwks_uri
        self._fetched_at = now

    def _select(self, kid: str | None, kty: str) -> VerificationKey | None:
        return select_key(self._entries, kid, kty)
