"""Google as the OpenID Provider: what differs from any other OIDC provider.

Owns Google's issuer and discovery URL, its extra authorization parameters (`hd`,
`prompt`) and its legacy issuer spelling; everything else is `oidc.py`. The `hd` claim
check itself is policy and lives in `allowlist.py`. Source: Google's OpenID Connect guide
and reference (developers.google.com/identity/openid-connect).
"""

from __future__ import annotations

import time

import aiohttp

from mcp_gate.config.model import IdpConfig, Secret
from mcp_gate.idp.discovery import WELL_KNOWN_SUFFIX, build_issuer_from_discovery_url
from mcp_gate.idp.jwks import Clock
from mcp_gate.idp.oidc import OidcProvider

GOOGLE_ISSUER = "https://accounts.google.com"
GOOGLE_DISCOVERY_URL = GOOGLE_ISSUER + WELL_KNOWN_SUFFIX
# Google's reference: ID tokens carry `iss` "https://accounts.google.com" or, for legacy
# implementations, "accounts.google.com".
GOOGLE_LEGACY_ISSUER = "accounts.google.com"


def build_google_authorization_params(allowed_domains: tuple[str, ...]) -> dict[str, str]:
    """Google's extra authorization request parameters for this allowlist."""
    # policy: people often have a personal and a work Google account; let them pick.
    params = {"prompt": "select_account"}
    # Google: `hd` only tunes the account chooser (one domain, or "*" for Workspace
    # accounts in general); the signed `hd` claim is what allowlist.py checks.
    if len(allowed_domains) == 1:
        params["hd"] = allowed_domains[0]
    elif allowed_domains:
        params["hd"] = "*"
    return params


def build_google_provider(
    idp_config: IdpConfig,
    *,
    client_secret: Secret,
    redirect_uri: str,
    allowed_domains: tuple[str, ...],
    http: aiohttp.ClientSession,
    clock: Clock = time.time,
    allowed_emails: tuple[str, ...] = (),
) -> OidcProvider:
    """Google, or a stand-in for it found at `discoveryUrl` (the tests' local provider)."""
    discovery_url = idp_config.discovery_url or GOOGLE_DISCOVERY_URL
    issuer = build_issuer_from_discovery_url(discovery_url)
    return OidcProvider(
        kind="google",
        issuer=issuer,
        discovery_url=discovery_url,
        client_id=idp_config.client_id,
        client_secret=client_secret,
        redirect_uri=redirect_uri,
        allowed_domains=allowed_domains,
        allowed_emails=allowed_emails,
        http=http,
        extra_scopes=idp_config.scopes,
        # policy: with `allowedEmails` a listed personal account must reach the chooser,
        # which the `hd` hint would narrow to the domain.
        extra_authorization_params=build_google_authorization_params(
            () if allowed_emails else allowed_domains
        ),
        extra_issuers=frozenset({GOOGLE_LEGACY_ISSUER}) if issuer == GOOGLE_ISSUER else frozenset(),
        clock=clock,
    )
