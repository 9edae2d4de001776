"""Errors of the upstream login leg, under `mcp_gate.errors.GateError`.

    GateError
    ├── IdpError                 the IdP could not be used: unreachable, bad discovery, bad
    │                            JWKS, token endpoint failure → 502 page, "try again later"
    └── LoginRefusedError        the IdP answered, and we refuse this login → 403 page
        └── IdTokenInvalidError  the ID token failed verification (OIDC Core 1.0 §3.1.3.7)

`message` is written for the person at the browser and never holds a token, code or
secret; `reason` is a stable code for logs and tests; `detail` (IdpError) is for the
operator's log and is just as free of secrets.
"""

from __future__ import annotations

from typing import Literal

from mcp_gate.errors import GateError

RefusalReason = Literal[
    # allowlist.py: policy on a verified identity
    "email_unverified",
    "email_missing",
    "email_invalid",
    "domain_not_allowed",
    "hd_missing",
    "hd_mismatch",
    # github.py: in none of the allowed orgs and teams
    "not_a_member",
    # oidc.py: the token endpoint refused our code (expired, reused, PKCE mismatch)
    "code_rejected",
    # revalidation: the IdP refused the kept refresh token, or the account changed hands
    "upstream_refused",
    "subject_changed",
    # id_token.py: OIDC Core 1.0 §3.1.3.7
    "id_token_malformed",
    "alg_not_allowed",
    "key_unknown",
    "signature_invalid",
    "issuer_mismatch",
    "audience_mismatch",
    "azp_mismatch",
    "token_expired",
    "issued_in_future",
    "nonce_mismatch",
    "subject_missing",
]

IdpFailure = Literal[
    "idp_unreachable",
    "discovery_invalid",
    "jwks_invalid",
    "token_request_failed",
    "api_failed",
]


class IdpError(GateError):
    """The identity provider could not complete the login; nothing about the user is known."""

    status = 502

    def __init__(self, reason: IdpFailure, detail: str) -> None:
        self.reason: IdpFailure = reason
        self.detail = detail
        self.message = (
            "The sign-in service could not be reached or answered unexpectedly. "
            "Try again in a moment; if it keeps failing, tell the gate's operator."
        )
        super().__init__(f"{reason}: {detail}")


class LoginRefusedError(GateError):
    """The login reached us and is refused; `message` tells the user why."""

    status = 403

    def __init__(self, reason: RefusalReason, message: str) -> None:
        self.reason: RefusalReason = reason
        self.message = message
        super().__init__(f"{reason}: {message}")


class IdTokenInvalidError(LoginRefusedError):
    """The ID token did not verify; the user sees one message, the log sees `reason`."""

    def __init__(self, reason: RefusalReason) -> None:
        super().__init__(
            reason,
            "The answer from the sign-in service could not be verified, so nothing was "
            "issued. Start the sign-in again.",
        )
