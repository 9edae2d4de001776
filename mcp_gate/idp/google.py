"""Google as the OpenID Provider: what differs from any other OIDC provider.

Owns Google's issuer and discovery URL, its extra authorization parameters (`hd`,
`prompt`, `access_type`), its legacy issuer spelling, and where users' groups come from
(`idp.googleGroups`: google_groups.py); everything else is `oidc.py`. The `hd` claim
check itself is policy and lives in `allowlist.py`. Source: Google's OpenID Connect guide
and reference (developers.google.com/identity/openid-connect).
"""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp

from mcp_gate.config.model import GoogleGroupsConfig, IdpConfig, Secret
from mcp_gate.errors import ConfigError
from mcp_gate.idp.discovery import WELL_KNOWN_SUFFIX, build_issuer_from_discovery_url
from mcp_gate.idp.google_groups import DirectoryGroups
from mcp_gate.idp.jwks import Clock
from mcp_gate.idp.oidc import OidcProvider
from mcp_gate.idp.service_account_key import ServiceAccountKeyError, parse_service_account_key

GOOGLE_ISSUER = "https://accounts.google.com"
GOOGLE_DISCOVERY_URL = GOOGLE_ISSUER + WELL_KNOWN_SUFFIX
# Google's reference: ID tokens carry `iss` "https://accounts.google.com" or, for legacy
# implementations, "accounts.google.com".
GOOGLE_LEGACY_ISSUER = "accounts.google.com"


def build_google_authorization_params(allowed_domains: tuple[str, ...]) -> dict[str, str]:
    """Google's extra authorization request parameters for this allowlist."""
    # policy: people often have a personal and a work Google account; let them pick.
    # `access_type=offline` asks for a refresh token, which revalidation refreshes.
    params = {"prompt": "select_account", "access_type": "offline"}
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
    groups_cache_seconds: float = 3600.0,
    clock: Clock = time.time,
    allowed_emails: tuple[str, ...] = (),
) -> OidcProvider:
    """Google, or a stand-in for it found at `discoveryUrl` (the tests' local provider);
    with `idp.googleGroups`, users' groups come from the Directory API (ConfigError when
    its key file cannot be read)."""
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
        groups_source=_directory_groups(
            idp_config.google_groups, http, groups_cache_seconds, clock
        ),
        clock=clock,
    )


def _directory_groups(
    config: GoogleGroupsConfig | None,
    http: aiohttp.ClientSession,
    cache_seconds: float,
    clock: Clock,
) -> DirectoryGroups | None:
    if config is None:
        return None
    where = "auth.idp.googleGroups.serviceAccountKeyFile"
    if config.service_account_key is not None:
        text, where = config.service_account_key.reveal(), "auth.idp.googleGroups.serviceAccountKey"
    else:
        try:
            text = Path(config.service_account_key_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                [f"{where}: cannot read the key file ({type(exc).__name__})"]
            ) from None
    try:
        key = parse_service_account_key(text)
    except ServiceAccountKeyError as exc:
        raise ConfigError([f"{where}: {exc}"]) from None
    return DirectoryGroups(
        http,
        key,
        config.admin_email,
        directory_url=config.directory_url,
        cache_seconds=cache_seconds,
        clock=clock,
    )
