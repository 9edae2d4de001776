"""The provider's ID token signing keys (a JWK Set, RFC 7517 §5), cached and refreshed.

Owns fetching `jwks_uri`, keeping the RSA and P-256 EC signing keys, and following key
rotation: an unknown `kid` triggers one refetch (OIDC Core 1.0 §10.1.1), rate-limited so a
stream of bad tokens cannot make us hammer the IdP. Does not verify anything itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import aiohttp
import structlog
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from mcp_gate.idp.errors import IdpError
from mcp_gate.idp.upstream import get_json

log = structlog.get_logger()

# policy: keys the IdP withdrew stop being trusted within an hour even without a new kid.
JWKS_MAX_AGE_SECONDS = 3600.0
# policy: at most one unknown-kid refetch a minute; rotation needs one, an attack gets one.
JWKS_REFETCH_MIN_INTERVAL_SECONDS = 60.0

Clock = Callable[[], float]
VerificationKey = RSAKey | ECKey


@dataclass(frozen=True)
class _Entry:
    kid: str | None
    kty: str
    key: VerificationKey


def parse_jwks(document: Mapping[str, object]) -> tuple[_Entry, ...]:
    """The signature keys of a JWK Set that the gate can use (RSA, EC P-256)."""
    keys = document.get("keys")  # RFC 7517 §5.1: REQUIRED
    if not isinstance(keys, list):
        raise IdpError("jwks_invalid", "JWK Set has no keys array")
    entries = []
    for jwk in keys:
        if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":  # RFC 7517 §4.2
            continue
        kid = jwk.get("kid")
        try:
            if jwk.get("kty") == "RSA":
                entries.append(_Entry(kid, "RSA", RSAKey.import_key(_public_part(jwk))))
            elif jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
                entries.append(_Entry(kid, "EC", ECKey.import_key(_public_part(jwk))))
        except (JoseError, ValueError, TypeError):
            # policy: one unusable key does not take the provider's other keys down with it.
            log.warning("idp_jwk_skipped", kid=kid if isinstance(kid, str) else None)
    return tuple(entries)


def _public_part(jwk: Mapping[str, object]) -> dict[str, str | list[str]]:
    """The public members of an RSA (RFC 7518 §6.3.1) or EC (§6.2.1) key, all strings."""
    names = {"RSA": ("kty", "n", "e"), "EC": ("kty", "crv", "x", "y")}[str(jwk["kty"])]
    public: dict[str, str | list[str]] = {}
    for name in names:
        value = jwk.get(name)
        if not isinstance(value, str):
            raise ValueError(f"JWK member {name} is not a string")
        public[name] = value
    return public


class JwksCache:
    """The JWK Set at one `jwks_uri`, fetched on first use."""

    def __init__(self, http: aiohttp.ClientSession, *, clock: Clock = time.time) -> None:
        self._http = http
        self._clock = clock
        self._uri: str | None = None
        self._entries: tuple[_Entry, ...] = ()
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
        candidates = [entry for entry in self._entries if entry.kty == kty]
        if kid is not None:
            candidates = [entry for entry in candidates if entry.kid == kid]
        # OIDC Core 1.0 §10.1: without a `kid`, only an unambiguous key may be used.
        return candidates[0].key if len(candidates) == 1 else None
