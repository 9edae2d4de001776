"""ID token validation (OIDC Core 1.0 §3.1.3.7) and the Identity it yields. Pure.

Owns the header checks (algorithm allowlist, `kid`), the signature check with joserfc
against a key the caller found, the claim checks (`iss`, `aud`, `azp`, `exp`, `iat`,
`nonce`, `sub`) and the mapping of verified claims to an `Identity`. Fetches nothing: the
caller (`oidc.py`) looks keys up in the JWKS. Every failure is an `IdTokenInvalidError`
with its own reason; no message carries the token or any claim value.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import TypeGuard

from joserfc import jwt
from joserfc.errors import JoseError

from mcp_gate.idp.errors import IdTokenInvalidError, LoginRefusedError
from mcp_gate.idp.identity import Identity
from mcp_gate.jwk_sets import (
    ALGORITHM_KEY_TYPES,
    JwsHeader,
    JwsHeaderError,
    VerificationKey,
    read_jws_header,
)

# OIDC Core 1.0 §3.1.3.7 item 7: the alg must be the one agreed (RS256 by default, §15.1).
# policy: asymmetric only (jwk_sets.py). `none` and HS* (keyed with our client secret,
# which the token endpoint's answer would not need) are refused before any key is looked at.
ALLOWED_ALGORITHMS = ALGORITHM_KEY_TYPES
# policy: a minute of clock skew between us and the IdP.
ID_TOKEN_LEEWAY_SECONDS = 60.0
IdTokenHeader = JwsHeader


def parse_id_token_header(id_token: str) -> IdTokenHeader:
    """The JWS protected header (RFC 7515 §4), with the algorithm on our allowlist."""
    try:
        return read_jws_header(id_token)
    except JwsHeaderError as exc:
        if exc.problem == "alg_not_allowed":
            raise IdTokenInvalidError("alg_not_allowed") from None
        raise IdTokenInvalidError("id_token_malformed") from None


def verify_id_token_signature(
    id_token: str, header: IdTokenHeader, key: VerificationKey
) -> dict[str, object]:
    """The claims, once the signature verifies with `key` (OIDC Core 1.0 §3.1.3.7 item 6)."""
    try:
        token = jwt.decode(id_token, key, algorithms=[header.alg])
    except JoseError:
        raise IdTokenInvalidError("signature_invalid") from None
    except ValueError:
        raise IdTokenInvalidError("id_token_malformed") from None
    return dict(token.claims)


def verify_id_token_claims(
    claims: dict[str, object],
    *,
    issuers: frozenset[str],
    client_id: str,
    nonce: str | None,
    now: float,
    leeway: float = ID_TOKEN_LEEWAY_SECONDS,
) -> None:
    """None if the claims are acceptable for this login, else `IdTokenInvalidError`.

    `nonce` None: an ID token from a refresh (OIDC Core 1.0 §12.2), which carries no nonce
    of a request of ours to compare with."""
    if claims.get("iss") not in issuers:  # §3.1.3.7 item 2
        raise IdTokenInvalidError("issuer_mismatch")

    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    # §3.1.3.7 item 3: must list us; policy: we trust no other audience, so it must be
    # only us (Google issues single-audience ID tokens to web clients).
    if audiences != [client_id]:
        raise IdTokenInvalidError("audience_mismatch")
    azp = claims.get("azp")
    if azp is not None and azp != client_id:  # §3.1.3.7 items 4-5
        raise IdTokenInvalidError("azp_mismatch")

    exp = claims.get("exp")
    if not _is_number(exp):
        raise IdTokenInvalidError("id_token_malformed")
    if now >= exp + leeway:  # §3.1.3.7 item 9
        raise IdTokenInvalidError("token_expired")
    iat = claims.get("iat")
    if not _is_number(iat):
        raise IdTokenInvalidError("id_token_malformed")
    if iat > now + leeway:  # §3.1.3.7 item 10: not issued in the future
        raise IdTokenInvalidError("issued_in_future")

    token_nonce = claims.get("nonce")
    # §3.1.3.7 item 11: the nonce we sent, compared in constant time.
    if nonce is not None and (
        not isinstance(token_nonce, str)
        or not hmac.compare_digest(token_nonce.encode(), nonce.encode())
    ):
        raise IdTokenInvalidError("nonce_mismatch")

    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:  # §2: sub is REQUIRED
        raise IdTokenInvalidError("subject_missing")


# policy: a user in more groups than this is cut to this many (a token and a header carry
# them); Entra sends at most 200 before its "overage" indirection anyway.
MAX_GROUPS = 500
MAX_GROUP_CHARS = 256


def parse_groups(claims: Mapping[str, object], groups_claim: str) -> tuple[str, ...]:
    """The groups in claim `groups_claim`: a list of strings (Okta, Keycloak, Entra, an
    Auth0 namespaced claim), or one string; a dotted name also reads a nested claim
    (Keycloak's `realm_access.roles`) when no claim has the whole name. Anything that is
    not a short visible string is left out; absent means no groups."""
    value: object = claims.get(groups_claim)
    if value is None and "." in groups_claim:
        value = claims
        for part in groups_claim.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    groups = [
        item
        for item in items
        if isinstance(item, str) and 0 < len(item) <= MAX_GROUP_CHARS and item.isprintable()
    ]
    return tuple(dict.fromkeys(groups))[:MAX_GROUPS]


def parse_identity(
    claims: dict[str, object],
    issuer: str,
    *,
    email_claim: str = "email",
    groups_claim: str = "",
) -> Identity:
    """The Identity in verified claims (OIDC Core 1.0 §5.1 standard claims, Google's `hd`).

    `email_claim` (`idp.emailClaim`) names the claim that holds the address,
    `groups_claim` (`idp.groupsClaim`, "" for none) the one that holds the groups. `email` is
    verified only by `email_verified: true` (OIDC Core 1.0 §5.1). Another claim (Entra's
    `upn` or `preferred_username`) has no such flag: naming it is the operator's word that
    the provider vouches for its domain (docs/identity-providers.md says for which).
    """
    email = claims.get(email_claim)
    if not isinstance(email, str) or "@" not in email:
        raise LoginRefusedError(
            "email_missing",
            "The sign-in service did not share your email address, which the gate needs "
            "to decide whether you may enter. Allow access to your email and try again.",
        )
    hosted_domain = claims.get("hd")
    name = claims.get("name")
    # policy: only a JSON true counts as verified; a string "true" does not.
    verified = claims.get("email_verified") is True if email_claim == "email" else True
    return Identity(
        subject=str(claims["sub"]),
        email=email,
        email_verified=verified,
        hosted_domain=hosted_domain if isinstance(hosted_domain, str) and hosted_domain else None,
        name=name if isinstance(name, str) else "",
        issuer=issuer,
        groups=parse_groups(claims, groups_claim) if groups_claim else (),
    )


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
