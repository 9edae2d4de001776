"""The identity JWT a backend gets (`identity.jwt`), and the keys it is signed with.

Owns the token: a JWS (RFC 7515) with ES256 (RFC 7518 §3.4), header `typ`
`mcp-gate-identity+jwt` (RFC 8725 §3.11 explicit typing: it can pass for no other JWT),
and claims `iss` the gate's issuer, `aud` the backend, `sub` the principal's id, `kind`,
`email`, `groups`, `client_id`, `iat`, `nbf`, `exp` (a minute by default) and `jti`. Owns
the key ring too: the keys derived from `auth.identityKeys` (or from `jwtSecret`, or from a
per-process secret, when none is set), the first of which signs and all of which are
published at `/.well-known/jwks.json` (RFC 7517 §5), each under its RFC 7638 thumbprint as
`kid`: rotation as with `encryptionKey` (put a new key first, drop the old one once the
tokens it signed have expired: a minute later).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey

from mcp_gate.config.model import AuthConfig
from mcp_gate.crypto.aead import decode_key
from mcp_gate.crypto.signing_keys import derive_p256_pem
from mcp_gate.principal import Principal

IDENTITY_JWT_TYPE = "mcp-gate-identity+jwt"


class IdentitySigner:
    """Signs identity JWTs with the first key; publishes every key."""

    def __init__(
        self, issuer: str, keys: Sequence[ECKey], *, clock: Callable[[], float] = time.time
    ) -> None:
        if not keys:
            raise ValueError("an identity signer needs at least one key")
        self.issuer = issuer
        self._keys = tuple(keys)
        self._kids = tuple(key.thumbprint() for key in keys)
        self._clock = clock

    def __repr__(self) -> str:
        return f"IdentitySigner(kids={self._kids!r})"

    def sign(self, principal: Principal, audience: str, ttl_seconds: float) -> tuple[str, float]:
        """The identity JWT of `principal` for `audience`, and when it expires."""
        now = int(self._clock())
        exp = now + int(ttl_seconds)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": audience,
            "sub": principal.id,
            "kind": principal.kind,
            "iat": now,
            "nbf": now,
            "exp": exp,
            "jti": secrets.token_urlsafe(12),
        }
        if principal.email:
            claims["email"] = principal.email
        if principal.groups:
            claims["groups"] = list(principal.groups)
        if principal.client_id:
            claims["client_id"] = principal.client_id  # RFC 8693 §4.3
        header = {"alg": "ES256", "kid": self._kids[0], "typ": IDENTITY_JWT_TYPE}
        return jwt.encode(header, claims, self._keys[0]), float(exp)

    def public_jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The JWK Set backends verify with (RFC 7517 §5): public parts only."""
        return {
            "keys": [
                key.as_dict(private=False) | {"kid": kid, "use": "sig", "alg": "ES256"}
                for key, kid in zip(self._keys, self._kids, strict=True)
            ]
        }


def build_identity_signer(
    auth: AuthConfig, issuer: str, *, clock: Callable[[], float] = time.time
) -> IdentitySigner:
    """The signer of `auth.identityKeys`, or of one key derived from `jwtSecret` (a
    per-process random secret without one: the memory store's rule for `jwtSecret`)."""
    if auth.identity_keys:
        seeds = [decode_key(secret.reveal()) for secret in auth.identity_keys]
    elif auth.jwt_secret is not None:
        seeds = [auth.jwt_secret.reveal().encode()]
    else:
        seeds = [os.urandom(32)]
    keys = [ECKey.import_key(derive_p256_pem(seed)) for seed in seeds]
    return IdentitySigner(issuer, keys, clock=clock)
