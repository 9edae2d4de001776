"""What the web layer needs from an identity provider, and the factory that picks one.

Owns the `IdentityProvider` protocol (the two steps of a login) and the mapping from
`auth.idp` config to an implementation: `google.py`, generic `oidc.py`, `github.py` (plain
OAuth and the REST API), or `dev.py`.

A login, as the web layer drives it:

    login = LoginRequest()                          # keep it with the pending login
    url = await idp.build_authorization_url(state=login.state, nonce=login.nonce,
                                            code_challenge=login.code_challenge)
    ... browser → IdP → `<baseURL>/oauth/callback?code=…&state=…` (look `state` up) ...
    identity = await idp.exchange_code(code=code, code_verifier=login.code_verifier,
                                       nonce=login.nonce)
    # identity is verified AND allowed; or IdpError / LoginRefusedError was raised.
"""

from __future__ import annotations

import time
from typing import Protocol

import aiohttp

from mcp_gate.config.model import IdpConfig, ProviderKind
from mcp_gate.errors import ConfigError
from mcp_gate.idp.dev import DevProvider
from mcp_gate.idp.discovery import build_issuer_from_discovery_url
from mcp_gate.idp.github import GitHubProvider
from mcp_gate.idp.google import build_google_provider
from mcp_gate.idp.identity import Identity, Revalidated
from mcp_gate.idp.jwks import Clock
from mcp_gate.idp.login_request import build_redirect_uri
from mcp_gate.idp.oidc import OidcProvider


class IdentityProvider(Protocol):
    @property
    def kind(self) -> ProviderKind: ...

    @property
    def issuer(self) -> str: ...

    @property
    def redirect_uri(self) -> str: ...

    async def build_authorization_url(
        self, *, state: str, nonce: str, code_challenge: str
    ) -> str: ...

    async def exchange_code(self, *, code: str, code_verifier: str, nonce: str) -> Identity: ...

    async def revalidate(self, renewal: str, subject: str) -> Revalidated:
        """Re-check the account a login's `Identity.renewal` belongs to (at most every
        `revalidateInterval`, at a refresh): `LoginRefusedError` if it may no longer enter,
        `IdpError` if the IdP cannot be asked."""
        ...


def build_identity_provider(
    idp_config: IdpConfig,
    base_url: str,
    http: aiohttp.ClientSession,
    *,
    allowed_domains: tuple[str, ...],
    groups_cache_seconds: float = 3600.0,
    allowed_emails: tuple[str, ...] = (),
    clock: Clock = time.time,
) -> IdentityProvider:
    """The provider `auth.idp` describes; `ConfigError` if it lacks what that needs.

    `allowed_domains` is `auth.allowedDomains`: Google's `hd` hint is built from it, and
    `exchange_code` refuses users outside it and outside `allowed_emails`
    (`auth.allowedEmails`). Makes no request: discovery happens on the
    first login. For `dev`, the app must also call `verify_dev_provider_allowed` at
    startup (it needs the listen address, which this factory does not see).
    """
    if idp_config.provider == "dev":
        return DevProvider(
            base_url=base_url, allowed_domains=allowed_domains, allowed_emails=allowed_emails
        )

    problems = []
    if not idp_config.client_id:
        problems.append("auth.idp.clientId: required for provider " + idp_config.provider)
    if idp_config.client_secret is None or not idp_config.client_secret.reveal():
        problems.append("auth.idp.clientSecret: required for provider " + idp_config.provider)
    if idp_config.provider == "oidc" and not idp_config.discovery_url:
        problems.append("auth.idp.discoveryUrl: required for provider oidc")
    if problems:
        raise ConfigError(problems)
    assert idp_config.client_secret is not None

    redirect_uri = build_redirect_uri(base_url)
    if idp_config.provider == "github":
        return GitHubProvider(
            client_id=idp_config.client_id,
            client_secret=idp_config.client_secret,
            redirect_uri=redirect_uri,
            web_url=idp_config.github_url,
            api_url=idp_config.github_api_url,
            http=http,
            allowed_domains=allowed_domains,
            allowed_emails=allowed_emails,
            allowed_orgs=idp_config.allowed_orgs,
            allowed_teams=idp_config.allowed_teams,
            extra_scopes=idp_config.scopes,
        )
    if idp_config.provider == "google":
        return build_google_provider(
            idp_config,
            client_secret=idp_config.client_secret,
            redirect_uri=redirect_uri,
            allowed_domains=allowed_domains,
            allowed_emails=allowed_emails,
            http=http,
            groups_cache_seconds=groups_cache_seconds,
            clock=clock,
        )
    assert idp_config.discovery_url is not None
    return OidcProvider(
        kind="oidc",
        issuer=build_issuer_from_discovery_url(idp_config.discovery_url),
        discovery_url=idp_config.discovery_url,
        client_id=idp_config.client_id,
        client_secret=idp_config.client_secret,
        redirect_uri=redirect_uri,
        allowed_domains=allowed_domains,
        allowed_emails=allowed_emails,
        http=http,
        extra_scopes=idp_config.scopes,
        email_claim=idp_config.email_claim,
        groups_claim=idp_config.groups_claim,
        clock=clock,
    )
