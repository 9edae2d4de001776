"""One upstream login's request: its secrets and the gate's redirect URI.

Owns the generation of `state`, `nonce` and the PKCE verifier with its S256 challenge
(RFC 7636 §4.1, §4.2; OIDC Core 1.0 §3.1.2.1), and the callback URL every provider sends
the browser back to. Where the secrets are kept between the redirect and the callback is
the web layer's business; this module stores nothing.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field

CALLBACK_PATH = "/oauth/callback"  # docs/routes.md, under baseURL's path
# 32 random bytes → 43 base64url characters, the RFC 7636 §4.1 minimum length, 256 bits.
LOGIN_SECRET_BYTES = 32


def build_s256_challenge(code_verifier: str) -> str:
    """BASE64URL(SHA256(ASCII(code_verifier))) without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def build_redirect_uri(base_url: str) -> str:
    """The gate's `redirect_uri` at the IdP: `<baseURL>/oauth/callback`."""
    return base_url.rstrip("/") + CALLBACK_PATH


def _random_token() -> str:
    return secrets.token_urlsafe(LOGIN_SECRET_BYTES)


@dataclass(frozen=True)
class LoginRequest:
    """Fresh, unguessable values for one authorization request; never logged."""

    state: str = field(default_factory=_random_token, repr=False)
    nonce: str = field(default_factory=_random_token, repr=False)
    code_verifier: str = field(default_factory=_random_token, repr=False)

    @property
    def code_challenge(self) -> str:
        return build_s256_challenge(self.code_verifier)
