"""Gate access tokens: short-lived JWTs (RFC 9068 profile) signed with `jwtSecret`.

Signed rather than opaque so that checking one on every MCP request is a local HMAC and
a clock comparison, not a storage round trip (README: token checks never call the IdP;
they should not cost a Redis call either). Revocation still works: every token names its
grant (`gid`), and the bearer check confirms the grant exists (bearer.py caches that for a
few seconds). Typed with `typ: at+jwt` (RFC 9068 §2.1) so nothing else we sign, and no
refresh token (opaque, never a JWT), can pass as an access token.

A token that verified once is remembered until it expires, so the check
on every later request is a dictionary lookup and a clock comparison rather than a
signature check and two JSON decodings (the costliest step of the gate's own code per
`tools/call`, by the benchmark's profile: docs/performance.md).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from mcp_gate.oauth.models import Grant, GrantKind

_ALGORITHM = "HS256"
_TYPE = "at+jwt"
# policy: enough for every token in use at once on one gate; the oldest entry goes first.
VERIFIED_CACHE_ENTRIES = 4096


@dataclass(frozen=True)
class AccessClaims:
    subject: str
    email: str
    resource: str
    grant_id: str
    client_id: str
    scope: str
    expires_at: int
    kind: GrantKind = "user"
    issued_at: int = 0
    groups: tuple[str, ...] = ()


class AccessTokens:
    def __init__(
        self, secret: bytes, issuer: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        if len(secret) < 32:
            raise ValueError("the access-token signing key must be at least 32 bytes")
        self._key = OctKey.import_key(secret)
        self._issuer = issuer
        self._clock = clock
        # token → its claims; only tokens that verified are kept. Keyed by the token itself,
        # not a digest (a SHA-256 per request was the costliest step left here): a reader
        # of this process's memory would find the signing key beside them anyway.
        self._verified: dict[str, AccessClaims] = {}

    def issue(self, grant: Grant, ttl_seconds: int) -> str:
        now = int(self._clock())
        claims = {
            "iss": self._issuer,
            "sub": grant.subject,
            "aud": grant.resource,  # RFC 8707 §2: bound to the one requested resource
            "client_id": grant.client_id,
            "scope": grant.scope,
            "email": grant.email,
            "gid": grant.id,
            "iat": now,
            "exp": now + ttl_seconds,
            "jti": secrets.token_urlsafe(12),
        }
        if grant.kind != "user":
            claims["kind"] = grant.kind  # whom it acts for: principal.py
        if grant.groups:
            claims["groups"] = list(grant.groups)  # RFC 9068 §2.2.3.1
        return jwt.encode({"alg": _ALGORITHM, "typ": _TYPE}, claims, self._key)

    def parse(self, token: str) -> AccessClaims | None:
        """The claims of a valid, unexpired access token of ours; None for anything else."""
        key = token
        claims = self._verified.get(key)
        if claims is None:
            claims = self._verify(token)
            if claims is None:
                return None
            if len(self._verified) >= VERIFIED_CACHE_ENTRIES:
                del self._verified[next(iter(self._verified))]
            self._verified[key] = claims
        if claims.expires_at <= self._clock():
            self._verified.pop(key, None)
            return None
        return claims

    def _verify(self, token: str) -> AccessClaims | None:
        try:
            decoded = jwt.decode(token, self._key, algorithms=[_ALGORITHM])
        except (JoseError, ValueError):
            return None
        if decoded.header.get("typ") != _TYPE:
            return None
        claims = decoded.claims
        kind = claims.get("kind", "user")
        if kind not in ("user", "client", "workload"):
            return None
        groups = claims.get("groups", [])
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            return None
        try:
            expires_at = int(claims["exp"])
            if claims["iss"] != self._issuer or expires_at <= self._clock():
                return None
            return AccessClaims(
                subject=str(claims["sub"]),
                email=str(claims.get("email", "")),
                resource=str(claims["aud"]),
                grant_id=str(claims["gid"]),
                client_id=str(claims["client_id"]),
                scope=str(claims.get("scope", "")),
                expires_at=expires_at,
                kind=kind,
                issued_at=int(claims.get("iat", 0)),
                groups=tuple(groups),
            )
        except (KeyError, TypeError, ValueError):
            return None
