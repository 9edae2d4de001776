"""The `dev` provider: a loopback-only demo login where the user types an email address.

Owns the pure part of it: where the "authorization URL" points (the gate's own
`<baseURL>/oauth/dev-login` page), the callback URL the page's form handler redirects to,
the Identity made from the typed email, and the startup rule that the gate listens and is
reached on loopback only. The HTML form and its route belong to the web layer.

# policy: a dev login proves nothing about the user, so the "code" handed to the callback
# is the typed email itself: forging one is no worse than typing another address into
# the form, and the loopback-only rule keeps both off the network. The callback path is
# then the same for every provider.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import ClassVar, Literal
from urllib.parse import urlencode, urlsplit

from mcp_gate.errors import ConfigError
from mcp_gate.idp.allowlist import verify_identity_allowed
from mcp_gate.idp.errors import LoginRefusedError
from mcp_gate.idp.identity import Identity, Revalidated
from mcp_gate.idp.login_request import build_redirect_uri
from mcp_gate.loopback import is_loopback_host

DEV_LOGIN_PATH = "/oauth/dev-login"
MAX_EMAIL_LENGTH = 254  # RFC 5321 §4.5.3.1.3 path limit, less the angle brackets
_EMAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")


def build_dev_identity(email: str, issuer: str) -> Identity:
    """The Identity of a dev login: the typed email, taken as verified."""
    email = email.strip()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email):
        raise LoginRefusedError("email_invalid", "Type an email address such as alice@example.com.")
    domain = email.rpartition("@")[2].lower()
    return Identity(
        subject=email.lower(),
        email=email,
        email_verified=True,
        hosted_domain=domain,
        name=email.partition("@")[0],
        issuer=issuer,
    )


@dataclass(frozen=True)
class DevProvider:
    """The gate stands in for the IdP; its issuer is the gate's own `baseURL`."""

    base_url: str
    allowed_domains: tuple[str, ...] = ()
    allowed_emails: tuple[str, ...] = ()
    kind: ClassVar[Literal["dev"]] = "dev"

    @property
    def issuer(self) -> str:
        return self.base_url.rstrip("/")

    @property
    def redirect_uri(self) -> str:
        return build_redirect_uri(self.base_url)

    async def build_authorization_url(self, *, state: str, nonce: str, code_challenge: str) -> str:
        """The gate's own dev-login page; only `state` travels (nonce and PKCE are moot)."""
        return f"{self.issuer}{DEV_LOGIN_PATH}?{urlencode({'state': state})}"

    def build_callback_url(self, *, email: str, state: str) -> str:
        """Where the dev-login form handler sends the browser after the user typed `email`."""
        return f"{self.redirect_uri}?{urlencode({'code': email, 'state': state})}"

    async def exchange_code(self, *, code: str, code_verifier: str, nonce: str) -> Identity:
        """The allowed Identity for a dev "code" (the typed email)."""
        identity = build_dev_identity(code, self.issuer)
        verify_identity_allowed(identity, self.allowed_domains, "dev", self.allowed_emails)
        # The typed address is all there is to re-check (against the allowlist).
        return replace(identity, renewal=identity.email)

    async def revalidate(self, renewal: str, subject: str) -> Revalidated:
        identity = build_dev_identity(renewal, self.issuer)
        verify_identity_allowed(identity, self.allowed_domains, "dev", self.allowed_emails)
        return Revalidated(identity, renewal)


def verify_dev_provider_allowed(addr: str, base_url: str) -> None:
    """None if both the listen address and `baseURL` are loopback, else `ConfigError`."""
    problems = []
    listen_host = addr.rpartition(":")[0].strip("[]")
    if not is_loopback_host(listen_host):
        problems.append(
            f"proxy.addr: {addr!r} is not a loopback address; auth.idp.provider 'dev' lets "
            "anyone sign in as anyone, so it listens on 127.0.0.1 or [::1] only"
        )
    base_host = urlsplit(base_url).hostname or ""
    if not is_loopback_host(base_host):
        problems.append(
            f"proxy.baseURL: {base_url!r} is not on a loopback host; auth.idp.provider 'dev' "
            "is served at localhost, 127.0.0.1 or [::1] only"
        )
    if problems:
        raise ConfigError(problems)
