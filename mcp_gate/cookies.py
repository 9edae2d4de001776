"""The gate's browser cookies: their names, their flags, and sealing their values.

Two cookies, both AES-256-GCM sealed (crypto/aead.py) so the browser can neither read nor
forge them:
- the login session: who signed in at this gate, until when (docs/THREAT_MODEL.md, Assets);
- the CSRF cookie: a random browser secret that every form token, and every sign-in's
  binding to the browser that began it, is sealed against.
Flags (MCP security best practices §Confused Deputy, consent cookies): `__Host-` prefix
on https (bound to this origin, path `/`, no Domain), Secure on https, HttpOnly,
SameSite=Lax (a cross-site POST carries no cookie, so it cannot pass a CSRF check).
A cookie that is missing, tampered with, sealed under a retired key or expired reads as
absent: the user logs in again, never sees an error page.
This is the only module that sets cookies.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from mcp_gate.crypto.aead import Sealer
from mcp_gate.crypto.digest import secrets_equal
from mcp_gate.errors import CryptoError

# policy: a browser stays signed in for a working day.
LOGIN_SESSION_SECONDS = 12 * 3600
_SESSION_AAD = b"mcp-gate login session v1"
_CSRF_AAD_PREFIX = b"mcp-gate csrf v1\x00"
_LOGIN_PURPOSE = "idp-login:"
# The CSRF secret minted for a browser that had none, so that every form of one response
# is sealed against the one secret the response sets.
_MINTED_CSRF_SECRET = web.RequestKey("minted_csrf_secret", str)


@dataclass(frozen=True)
class LoginSession:
    subject: str
    email: str
    expires_at: float


class BrowserCookies:
    def __init__(
        self, sealer: Sealer, *, secure: bool, clock: Callable[[], float] = time.time
    ) -> None:
        self._sealer = sealer
        self._secure = secure
        self._clock = clock
        prefix = "__Host-" if secure else ""
        self.session_name = f"{prefix}mcp-gate-session"
        self.csrf_name = f"{prefix}mcp-gate-csrf"

    def _set(
        self, response: web.StreamResponse, name: str, value: str, max_age: int | None
    ) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            secure=self._secure,
            httponly=True,
            samesite="Lax",
        )

    # Login session.

    def read_session(self, request: web.Request) -> LoginSession | None:
        sealed = request.cookies.get(self.session_name)
        if not sealed:
            return None
        try:
            record = json.loads(self._sealer.open_text(sealed, _SESSION_AAD))
            session = LoginSession(record["sub"], record["email"], float(record["exp"]))
        except (CryptoError, ValueError, KeyError, TypeError):
            return None
        return session if session.expires_at > self._clock() else None

    def start_session(self, response: web.StreamResponse, subject: str, email: str) -> None:
        expires_at = self._clock() + LOGIN_SESSION_SECONDS
        record = json.dumps({"sub": subject, "email": email, "exp": expires_at}).encode()
        sealed = self._sealer.seal_text(record, _SESSION_AAD)
        self._set(response, self.session_name, sealed, LOGIN_SESSION_SECONDS)

    def end_session(self, response: web.StreamResponse) -> None:
        response.del_cookie(self.session_name, path="/", secure=self._secure, samesite="Lax")

    # CSRF: a form token is the purpose sealed against this browser's CSRF cookie.

    def csrf_token(self, request: web.Request, response: web.StreamResponse, purpose: str) -> str:
        """A token for one form; sets the browser's CSRF cookie if it has none yet."""
        browser_secret = request.cookies.get(self.csrf_name) or request.get(_MINTED_CSRF_SECRET)
        if not browser_secret:
            browser_secret = secrets.token_urlsafe(32)
            request[_MINTED_CSRF_SECRET] = browser_secret
            self._set(response, self.csrf_name, browser_secret, None)
        return self._sealer.seal_text(purpose.encode(), _CSRF_AAD_PREFIX + browser_secret.encode())

    # The IdP leg of a sign-in, bound to the browser that began it (RFC 6749 §10.12 login
    # CSRF; RFC 9700 §4.7.1): a callback URL carried to another browser does not count.

    def bind_login(self, request: web.Request, response: web.StreamResponse, state: str) -> str:
        """A token to keep with the login `state`; only this browser can show it again."""
        return self.csrf_token(request, response, _LOGIN_PURPOSE + state)

    def is_login_from_here(self, request: web.Request, binding: str, state: str) -> bool:
        """True when the login of `state` began in the browser making this request."""
        return self.verify_csrf(request, binding, _LOGIN_PURPOSE + state)

    def verify_csrf(self, request: web.Request, token: str | None, purpose: str) -> bool:
        """True only for a token made for this purpose in this browser."""
        browser_secret = request.cookies.get(self.csrf_name)
        if not browser_secret or not token:
            return False
        try:
            sealed_purpose = self._sealer.open_text(
                token, _CSRF_AAD_PREFIX + browser_secret.encode()
            )
        except CryptoError:
            return False
        return secrets_equal(sealed_purpose, purpose.encode())
