"""Workload identity: a trusted issuer's JWT exchanged for a gate access token.

Two grants carry the JWT, with the same checks and the same result:
- token exchange (RFC 8693 §2.1): `subject_token` with `subject_token_type`
  `urn:ietf:params:oauth:token-type:jwt` or `...:id_token`; the answer names its
  `issued_token_type` (§2.2.1);
- the JWT bearer grant (RFC 7523 §2.1), as the MCP workload-identity-federation extension
  profiles it: `assertion`.
Owns the request checks (RFC 8693 §2.2.2: `invalid_request`; no delegation, so no
`actor_token`; `audience` only as a second spelling of `resource`) and the subject token's
acceptance: its `iss` is a configured trusted issuer (anything else is refused before any
key is fetched), its signature verifies with that issuer's keys, `aud` names one of the
issuer's configured audiences, `exp` / `nbf` / `iat` hold, every `require`d claim has one
of its values; then the issuer's `principal` template names the workload. Every refusal
is `InvalidGrant` with its reason (the RFCs' code for a subject token or assertion that is
invalid). An external token is never accepted on an MCP route: only the gate's own tokens
are (bearer.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from mcp_gate.config.model import TrustedIssuer
from mcp_gate.oauth.errors import InvalidGrant, InvalidRequest, InvalidTarget
from mcp_gate.oauth.external_jwt import (
    JwtRejected,
    KeyLookup,
    KeysUnavailableError,
    audiences,
    unverified_claims,
    verify_lifetime,
    verify_signature,
)
from mcp_gate.oauth.metadata import JWT_BEARER_GRANT, TOKEN_EXCHANGE_GRANT
from mcp_gate.oauth.resources import canonical_uri
from mcp_gate.principal import render_principal

# RFC 8693 §3: the token types of a subject token the gate reads, and of what it issues.
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"  # noqa: S105 - a URN
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105 - a URN
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 - a URN
SUBJECT_TOKEN_TYPES = (JWT_TOKEN_TYPE, ID_TOKEN_TYPE)


@dataclass(frozen=True)
class WorkloadRequest:
    """A validated request of either grant: the JWT, and the resource asked for."""

    token: str
    resource: str | None
    scope: str | None


def parse_workload_request(form: Mapping[str, str]) -> WorkloadRequest:
    """The JWT and target of a token exchange or JWT bearer request, or `InvalidRequest`."""
    if form.get("grant_type") == JWT_BEARER_GRANT:
        assertion = form.get("assertion")
        if not assertion:
            raise InvalidRequest("assertion is required (RFC 7523 §2.1)")
        return WorkloadRequest(assertion, form.get("resource"), form.get("scope"))
    token = form.get("subject_token")
    if not token:
        raise InvalidRequest("subject_token is required (RFC 8693 §2.1)")
    if form.get("subject_token_type") not in SUBJECT_TOKEN_TYPES:
        raise InvalidRequest(f"subject_token_type must be one of {', '.join(SUBJECT_TOKEN_TYPES)}")
    if "actor_token" in form or "actor_token_type" in form:
        raise InvalidRequest("delegation (actor_token) is not supported; send only the subject")
    requested = form.get("requested_token_type")
    if requested is not None and requested != ACCESS_TOKEN_TYPE:
        raise InvalidRequest(f"requested_token_type must be {ACCESS_TOKEN_TYPE}")
    resource, audience = form.get("resource"), form.get("audience")
    if audience is not None:
        # RFC 8693 §2.1: `audience` names the target logically; ours are resources.
        if resource is not None and canonical_uri(resource) != canonical_uri(audience):
            raise InvalidTarget("audience and resource name different targets")
        resource = resource or audience
    return WorkloadRequest(token, resource, form.get("scope"))


class TrustedIssuers:
    """The configured issuers and their keys; `accept` turns a JWT into a principal."""

    def __init__(
        self,
        issuers: Sequence[TrustedIssuer],
        keys: Mapping[str, KeyLookup],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._issuers = {issuer.issuer: issuer for issuer in issuers}
        self._keys = dict(keys)
        self._clock = clock

    def __bool__(self) -> bool:
        return bool(self._issuers)

    async def accept(self, token: str) -> str:
        """The workload principal of a subject token, or `InvalidGrant` saying why not."""
        claimed = unverified_claims(token)
        iss = claimed.get("iss") if claimed is not None else None
        issuer = self._issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise InvalidGrant("the subject token's issuer (iss) is not a trusted issuer")
        try:
            claims = await verify_signature(token, self._keys[issuer.issuer])
            verify_lifetime(claims, now=self._clock())
        except JwtRejected as exc:
            raise InvalidGrant(f"subject token refused: {exc.reason}") from None
        except KeysUnavailableError:
            raise InvalidGrant("the trusted issuer's keys could not be fetched") from None
        if claims.get("iss") != issuer.issuer:
            raise InvalidGrant("subject token refused: iss changed under its signature")
        if not set(issuer.audiences).intersection(audiences(claims)):
            raise InvalidGrant("subject token refused: aud is not an audience of this gate")
        for claim, accepted in issuer.require.items():
            if _claim_text(claims.get(claim)) not in accepted:
                raise InvalidGrant(f"subject token refused: claim {claim} is not one required")
        try:
            return render_principal(issuer.principal, claims)
        except ValueError as exc:
            raise InvalidGrant(f"subject token refused: {exc}") from None


def _claim_text(value: object) -> str | None:
    """A claim as `require` compares it: strings as they are, JSON true/false and numbers
    as their JSON text; anything else matches nothing."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int):
        return str(value)
    return None


def is_workload_grant(grant_type: str | None) -> bool:
    return grant_type in (TOKEN_EXCHANGE_GRANT, JWT_BEARER_GRANT)
