"""What the authorization server stores, as frozen dataclasses with their JSON form.

- `Client`: a registered MCP client (DCR, a fetched Client ID Metadata Document, or one
  pre-registered in the config).
- `Grant`: one user's authorization of one client for one resource; the family record of
  its codes and tokens — deleting it revokes them all (store/protocols.py policy).
- `PendingAuthorization`: a validated /authorize request waiting for consent and login
  (carried sealed through the consent page, consent_requests.py; stored once approved).
- `LoginAttempt`: the upstream (IdP) leg of one pending authorization, keyed by its state.
- `AuthorizationCode`, `RefreshToken`: single-use credentials of a grant.
Records hold digests of tokens, never tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

AuthMethod = Literal["none", "client_secret_post", "client_secret_basic", "private_key_jwt"]
# Whom a grant's tokens act for (principal.py): a person, a machine client, a workload.
GrantKind = Literal["user", "client", "workload"]


@dataclass(frozen=True)
class Client:
    client_id: str
    redirect_uris: tuple[str, ...]
    token_endpoint_auth_method: AuthMethod = "none"  # noqa: S105 - a method name
    # SHA-256 digest of the secret (crypto.digest.token_digest); empty for public clients.
    client_secret_digest: str = ""
    client_name: str = ""
    grant_types: tuple[str, ...] = ("authorization_code", "refresh_token")
    response_types: tuple[str, ...] = ("code",)
    scope: str = ""
    application_type: str = "native"
    client_uri: str = ""
    logo_uri: str = ""
    issued_at: int = 0
    # "dcr", "cimd" or "static" (the config's `proxy.auth.clients`): where it came from.
    source: str = "dcr"

    @property
    def display_name(self) -> str:
        return self.client_name or self.client_id


@dataclass(frozen=True)
class PendingAuthorization:
    id: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    state: str | None
    scope: str
    resource: str
    server: str
    created_at: float
    # Set when the user approved it on the consent page (not when consent was remembered).
    approved: bool = False


@dataclass(frozen=True)
class LoginAttempt:
    pending_id: str
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)
    # A CSRF token (cookies.py) sealed against the browser that began the IdP leg: the
    # callback counts only in that browser (RFC 6749 §10.12; RFC 9700 §4.7.1).
    browser_binding: str = field(default="", repr=False)


@dataclass(frozen=True)
class Grant:
    """`subject` is the IdP's `sub` for a user, the client id for a client, the rendered
    principal for a workload. A machine's grant holds one access token and no refresh token
    (RFC 6749 §4.4.3), and expires with it."""

    id: str
    subject: str
    email: str
    client_id: str
    resource: str
    server: str
    scope: str
    created_at: float
    expires_at: float
    kind: GrantKind = "user"
    # Where the client received the code (a user's grant): /my/apps shows its host.
    redirect_uri: str = ""
    # The user's groups at the IdP, as of the login or the last revalidation.
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuthorizationCode:
    grant_id: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    resource: str


@dataclass(frozen=True)
class RefreshToken:
    grant_id: str
    client_id: str
    expires_at: float
    # When it was first exchanged: set once it has been rotated (RFC 9700 §4.14.2).
    used_at: float | None = None
