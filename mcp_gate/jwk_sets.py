"""JWK Sets (RFC 7517 §5): the signature keys in one, and the key a token's header names.

Owns reading a JWK Set document into the public RSA and P-256 EC signing keys the gate can
verify with, the JWS header of a token it would verify (RFC 7515 §4: an algorithm on the
allowlist, a `kid`), and choosing the key for that header. Pure: whoever holds the
document (an IdP's JWKS cache, a client's configured `jwks`, a trusted issuer's keys)
fetched it; this module never looks at a token's claims.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import structlog
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

log = structlog.get_logger()

VerificationKey = RSAKey | ECKey
# The key types a JWS algorithm needs (RFC 7518 §3.1); policy: asymmetric only, so no key
# the gate shares with anyone (a client secret) can sign what it accepts.
ALGORITHM_KEY_TYPES: Mapping[str, str] = {"RS256": "RSA", "ES256": "EC"}
_PUBLIC_MEMBERS = {"RSA": ("kty", "n", "e"), "EC": ("kty", "crv", "x", "y")}  # RFC 7518 §6


class JwsHeaderError(ValueError):
    """The header does not qualify: `problem` is "malformed" or "alg_not_allowed"."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(problem)


@dataclass(frozen=True)
class JwsHeader:
    alg: str
    kid: str | None

    @property
    def kty(self) -> str:
        return ALGORITHM_KEY_TYPES[self.alg]


def read_jws_header(token: str) -> JwsHeader:
    """The protected header of a compact JWS, its `alg` on the allowlist, else
    `JwsHeaderError` (RFC 8725 §3.1: the verifier, not the token, picks the algorithms)."""
    try:
        header = jws.extract_compact(token.encode("ascii")).protected
    except (JoseError, ValueError, UnicodeError):
        raise JwsHeaderError("malformed") from None
    alg, kid = header.get("alg"), header.get("kid")
    if not isinstance(alg, str) or alg not in ALGORITHM_KEY_TYPES:
        raise JwsHeaderError("alg_not_allowed")
    if kid is not None and not isinstance(kid, str):
        raise JwsHeaderError("malformed")
    return JwsHeader(alg, kid)


@dataclass(frozen=True)
class JwkEntry:
    kid: str | None
    kty: str
    key: VerificationKey


def parse_jwk_set(document: Mapping[str, object]) -> tuple[JwkEntry, ...]:
    """The signature keys of a JWK Set the gate can use (RSA, EC P-256).

    Raises ValueError when the document has no `keys` array; a single key it cannot use is
    skipped (logged), so one odd key does not take its set's other keys down with it.
    """
    keys = document.get("keys")  # RFC 7517 §5.1: REQUIRED
    if not isinstance(keys, list):
        raise ValueError("the JWK Set has no keys array")
    entries = []
    for jwk in keys:
        if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":  # RFC 7517 §4.2
            continue
        kid = jwk.get("kid")
        try:
            if jwk.get("kty") == "RSA":
                entries.append(JwkEntry(_kid(kid), "RSA", RSAKey.import_key(public_part(jwk))))
            elif jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
                entries.append(JwkEntry(_kid(kid), "EC", ECKey.import_key(public_part(jwk))))
        except (JoseError, ValueError, TypeError):
            log.warning("jwk_skipped", kid=kid if isinstance(kid, str) else None)
    return tuple(entries)


def public_part(jwk: Mapping[str, object]) -> dict[str, str | list[str]]:
    """The public members of an RSA (RFC 7518 §6.3.1) or EC (§6.2.1) key, all strings."""
    public: dict[str, str | list[str]] = {}
    for name in _PUBLIC_MEMBERS[str(jwk["kty"])]:
        value = jwk.get(name)
        if not isinstance(value, str):
            raise ValueError(f"JWK member {name} is not a string")
        public[name] = value
    return public


def select_key(entries: Sequence[JwkEntry], kid: str | None, kty: str) -> VerificationKey | None:
    """The one key for a header's `kid` and key type, or None."""
    candidates = [entry for entry in entries if entry.kty == kty]
    if kid is not None:
        candidates = [entry for entry in candidates if entry.kid == kid]
    # OIDC Core 1.0 §10.1 (and RFC 7515 §4.1.4): without a `kid`, only an unambiguous key.
    return candidates[0].key if len(candidates) == 1 else None


def _kid(kid: object) -> str | None:
    if kid is not None and not isinstance(kid, str):
        raise ValueError("kid is not a string")
    return kid
