"""JWTs others sign for the authorization server: client assertions (RFC 7523 §2.2) and
trusted issuers' tokens (RFC 8693 subject tokens). Pure.

Owns the checks such a JWT gets whoever signed it: the JWS header (RFC 7515 §4; an
algorithm on the allowlist), the signature against a key its signer published (looked up
by the caller's `KeyLookup`), and the time claims `exp`, `nbf`, `iat` (RFC 7519 §4.1.4-6).
Who may sign, for which audience, and what the other claims must say belongs to the
callers (`client_assertions.py`, `token_exchange.py`). Every failure is a `JwtRejected`
whose `reason` names the check, never a claim's value; fetching keys is the lookup's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from typing import TypeGuard

from joserfc import jws, jwt
from joserfc.errors import JoseError

from mcp_gate.jwk_sets import (
    ALGORITHM_KEY_TYPES,
    JwsHeader,
    JwsHeaderError,
    VerificationKey,
    read_jws_header,
)

# (kid, kty) → the key, None when the signer publishes none such; raises
# `KeysUnavailableError` when the signer's keys cannot be had just now.
KeyLookup = Callable[[str | None, str], Awaitable[VerificationKey | None]]
# policy: a minute of clock skew between us and whoever signed.
JWT_LEEWAY_SECONDS = 60.0


class KeysUnavailableError(Exception):
    """The signer's keys could not be fetched (its JWKS URL is down or answers badly)."""


class JwtRejected(Exception):
    """The JWT fails a check; `reason` says which, in words fit for an error response."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def read_header(token: str) -> JwsHeader:
    """The protected header, with an algorithm on the allowlist (RS256, ES256)."""
    try:
        return read_jws_header(token)
    except JwsHeaderError as exc:
        if exc.problem == "alg_not_allowed":
            raise JwtRejected(f"alg must be one of {', '.join(ALGORITHM_KEY_TYPES)}") from None
        raise JwtRejected("not a signed JWT") from None


def unverified_claims(token: str) -> dict[str, object] | None:
    """The payload as it claims, before any check: only to find whose keys to check with."""
    try:
        payload = jws.extract_compact(token.encode("ascii")).payload
        claims = json.loads(payload)
    except (JoseError, ValueError, UnicodeError, RecursionError):
        return None
    return claims if isinstance(claims, dict) else None


async def verify_signature(token: str, lookup: KeyLookup) -> dict[str, object]:
    """The claims, once the signature verifies with a key of the signer's (RFC 7515 §5.2)."""
    header = read_header(token)
    key = await lookup(header.kid, header.kty)
    if key is None:
        raise JwtRejected("no key of the signer matches the JWT's kid and algorithm")
    try:
        decoded = jwt.decode(token, key, algorithms=[header.alg])
    except JoseError:
        raise JwtRejected("the signature does not verify") from None
    except ValueError:
        raise JwtRejected("not a signed JWT") from None
    return dict(decoded.claims)


def verify_lifetime(
    claims: dict[str, object],
    *,
    now: float,
    max_lifetime_seconds: float | None = None,
    leeway: float = JWT_LEEWAY_SECONDS,
) -> float:
    """`exp` (required), `nbf` and `iat` against `now`; returns `exp`.

    `max_lifetime_seconds` bounds how far in the future `exp` may lie (RFC 7523 §3 item 4:
    the AS MAY refuse an `exp` unreasonably far away).
    """
    exp = claims.get("exp")
    if not _is_number(exp):
        raise JwtRejected("exp is required")
    if now >= exp + leeway:  # RFC 7519 §4.1.4
        raise JwtRejected("the JWT has expired")
    if max_lifetime_seconds is not None and exp > now + max_lifetime_seconds + leeway:
        raise JwtRejected(f"exp is more than {int(max_lifetime_seconds)} seconds away")
    nbf = claims.get("nbf")
    if nbf is not None and (not _is_number(nbf) or nbf > now + leeway):  # RFC 7519 §4.1.5
        raise JwtRejected("the JWT is not valid yet (nbf)")
    iat = claims.get("iat")
    if iat is not None and (not _is_number(iat) or iat > now + leeway):  # RFC 7519 §4.1.6
        raise JwtRejected("the JWT was issued in the future (iat)")
    return exp


def audiences(claims: dict[str, object]) -> tuple[str, ...]:
    """`aud` as a tuple (RFC 7519 §4.1.3: one string, or an array of strings)."""
    aud = claims.get("aud")
    if isinstance(aud, str):
        return (aud,)
    if isinstance(aud, list):
        return tuple(item for item in aud if isinstance(item, str))
    return ()


def _is_number(value: object) -> TypeGuard[int | float]:
    """A JSON number that is a time: finite (Python's JSON reader lets NaN and 1e400 in)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
