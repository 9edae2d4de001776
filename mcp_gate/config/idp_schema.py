"""`proxy.auth.idp`: who users log in with, and mcp-front's flat Google keys that stand for it.

Owns the meaning and checks of `proxy.auth.idp.*` and of mcp-front's `googleClientId` /
`googleClientSecret` (mapped onto `provider: google`). docs/identity-providers.md says what
each provider needs. Reads no files, opens no connections.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import cast

from mcp_gate.config.model import GoogleGroupsConfig, IdpConfig, ProviderKind
from mcp_gate.config.section import Section
from mcp_gate.config.values import resolve, split_url
from mcp_gate.loopback import is_loopback_host, is_tls_or_loopback_url

DISCOVERY_SUFFIX = "/.well-known/openid-configuration"  # OIDC Discovery 1.0 §4
GOOGLE_DISCOVERY_URL = "https://accounts.google.com" + DISCOVERY_SUFFIX
_GITHUB_KEYS = ("githubUrl", "githubApiUrl", "allowedOrgs", "allowedTeams")
IDP_KEYS = (
    "provider", "clientId", "clientSecret", "discoveryUrl", "scopes", "emailClaim", "groupsClaim",
    "googleGroups", *_GITHUB_KEYS
)  # fmt: skip
PROVIDERS = ("google", "oidc", "github", "dev")
_PROVIDER_LIST = ", ".join(PROVIDERS[:-1]) + " or " + PROVIDERS[-1]
GITHUB_URL = "https://github.com"
GITHUB_API_URL = "https://api.github.com"
# GitHub: a login or org name is alphanumeric with single hyphens, up to 39 characters; a
# team slug is its name in lower case with hyphens.
_GITHUB_ORG = re.compile(r"[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}")
_GITHUB_TEAM_SLUG = re.compile(r"[A-Za-z0-9_.-]{1,100}")
# OIDC Core 1.0 §5.1 claim names are JSON member names; ours are plain ones (Entra's `upn`,
# `preferred_username`) or namespaced URLs (Auth0's custom claims).
_CLAIM_NAME = re.compile(r"[A-Za-z0-9_.:/~-]{1,128}")


def parse_idp(auth: Section, base_url: str) -> IdpConfig:
    google_keys = [key for key in ("googleClientId", "googleClientSecret") if auth.has(key)]
    if auth.has("idp") and google_keys:
        auth.ctx.error(
            auth.at(google_keys[0]), "use either idp or mcp-front's google* keys, not both"
        )
    if not auth.has("idp") and google_keys:
        for key in ("googleClientId", "googleClientSecret"):
            auth.need(key, "the OAuth client of the gate at Google")
        return IdpConfig(
            provider="google",
            client_id=auth.text("googleClientId"),
            client_secret=auth.secret("googleClientSecret"),
            discovery_url=GOOGLE_DISCOVERY_URL,
        )
    section = auth.child("idp", IDP_KEYS)
    if not auth.need("idp", f"the provider users log in with (provider: {_PROVIDER_LIST})"):
        return IdpConfig(provider="dev")
    section.need("provider", _PROVIDER_LIST)
    provider = cast(ProviderKind, section.choice("provider", PROVIDERS, ""))
    if not provider:  # already reported; a placeholder that adds no more problems
        return IdpConfig(provider="dev")
    if provider != "dev":
        section.need("clientId", f"the gate's OAuth client id at the {provider} provider")
        section.need("clientSecret", f"the gate's OAuth client secret at the {provider} provider")
    if provider == "oidc":
        section.need("discoveryUrl", "the provider's .well-known/openid-configuration URL")
    else:
        section.forbid(("emailClaim", "groupsClaim"), "only with provider: oidc")
    if provider != "google":
        section.forbid(("googleGroups",), "only with provider: google")
    if provider == "github":
        section.forbid(("discoveryUrl",), "GitHub's OAuth is not OpenID Connect; see githubUrl")
    else:
        section.forbid(_GITHUB_KEYS, "only with provider: github")
    discovery_url = section.text("discoveryUrl") or None
    if discovery_url is not None and not (
        is_tls_or_loopback_url(discovery_url) and discovery_url.endswith(DISCOVERY_SUFFIX)
    ):
        # policy: the IdP gets the client secret; only TLS, or a loopback test provider.
        section.ctx.error(
            section.at("discoveryUrl"),
            f"must be an https URL ending in {DISCOVERY_SUFFIX} (http only on loopback)",
        )
    if provider == "dev" and base_url and not is_loopback_host(split_url(base_url).hostname or ""):
        # policy: the dev login asks no password; it must never face a network.
        section.ctx.error(
            section.at("provider"),
            "dev is a loopback-only demo login; baseURL must be on localhost, 127.0.0.1 or [::1]",
        )
    idp = IdpConfig(
        provider=provider,
        client_id=section.text("clientId"),
        client_secret=section.secret("clientSecret"),
        discovery_url=discovery_url or (GOOGLE_DISCOVERY_URL if provider == "google" else None),
        scopes=section.text_list("scopes"),
        email_claim=_email_claim(section),
        groups_claim=_groups_claim(section),
        google_groups=_google_groups(section) if section.has("googleGroups") else None,
    )
    return _github(section, idp) if provider == "github" else idp


def _github(section: Section, idp: IdpConfig) -> IdpConfig:
    """githubUrl (default github.com), githubApiUrl (api.github.com, or `<githubUrl>/api/v3`
    for GitHub Enterprise Server), allowedOrgs, allowedTeams."""
    urls = {}
    for key in ("githubUrl", "githubApiUrl"):
        url = section.text(key).rstrip("/")
        parts = split_url(url)
        if section.has(key) and (
            not is_tls_or_loopback_url(url) or parts.query or parts.fragment or parts.username
        ):
            # policy: GitHub gets the client secret and gives user tokens; only TLS.
            section.ctx.error(
                section.at(key), "must be an https URL without query (http only on loopback)"
            )
        urls[key] = url
    web_url = urls["githubUrl"] or GITHUB_URL
    default_api = GITHUB_API_URL if web_url == GITHUB_URL else f"{web_url}/api/v3"
    orgs = [org for _, org in _names(section, "allowedOrgs", _is_org, "a GitHub organization name")]
    teams = [
        team
        for _, team in _names(section, "allowedTeams", _is_team, "org/team-slug like acme/platform")
    ]
    return replace(
        idp,
        github_url=web_url,
        github_api_url=urls["githubApiUrl"] or default_api,
        allowed_orgs=tuple(orgs),
        allowed_teams=tuple(teams),
    )


def _email_claim(section: Section) -> str:
    claim = section.text("emailClaim", IdpConfig.email_claim)
    if not _CLAIM_NAME.fullmatch(claim):
        section.ctx.error(section.at("emailClaim"), "expected a claim name like upn")
        return IdpConfig.email_claim
    return claim


def _google_groups(idp: Section) -> GoogleGroupsConfig:
    """`{adminEmail, serviceAccountKey | serviceAccountKeyFile, directoryUrl?}`."""
    section = idp.child(
        "googleGroups",
        ("adminEmail", "serviceAccountKey", "serviceAccountKeyFile", "directoryUrl"),
    )
    section.need("adminEmail", "the Workspace admin the service account acts as")
    admin = section.text("adminEmail")
    if admin and "@" not in admin:
        section.ctx.error(section.at("adminEmail"), "expected an email address")
    key = section.secret("serviceAccountKey")
    key_file = section.text("serviceAccountKeyFile")
    if (key is None) == (not key_file):
        section.ctx.error(
            section.at("serviceAccountKey"),
            "give exactly one of serviceAccountKey (the key file's JSON, e.g. {$env: ...}) "
            "and serviceAccountKeyFile (its path)",
        )
    elif key is not None:
        # Imported here: the key's crypto loads only for a config that has one.
        from mcp_gate.idp.service_account_key import (
            ServiceAccountKeyError,
            parse_service_account_key,
        )

        try:
            parse_service_account_key(key.reveal())
        except ServiceAccountKeyError as exc:
            section.ctx.error(section.at("serviceAccountKey"), str(exc))
    directory = section.text("directoryUrl", GoogleGroupsConfig.directory_url).rstrip("/")
    if not is_tls_or_loopback_url(directory):
        section.ctx.error(section.at("directoryUrl"), "must be https (http only on loopback)")
    return GoogleGroupsConfig(
        admin_email=admin,
        service_account_key=key,
        service_account_key_file=key_file,
        directory_url=directory,
    )


def _groups_claim(section: Section) -> str:
    claim = section.text("groupsClaim", "")
    # Auth0's custom claims are namespaced by a URL: https://example.com/groups.
    if claim and not _CLAIM_NAME.fullmatch(claim):
        section.ctx.error(
            section.at("groupsClaim"),
            "expected a claim name like groups, realm_access.roles or https://example.com/groups",
        )
        return ""
    return claim


def _names(
    section: Section, key: str, valid: Callable[[str], bool], expected: str
) -> list[tuple[str, str]]:
    names = []
    for path, raw in section.items(key):
        name = resolve(section.ctx, path, raw)
        if not isinstance(name, str):
            continue
        if not valid(name):
            section.ctx.error(path, f"expected {expected}, got {name!r}")
        names.append((path, name))
    return names


def _is_org(name: str) -> bool:
    return _GITHUB_ORG.fullmatch(name) is not None


def _is_team(name: str) -> bool:
    org, slash, slug = name.partition("/")
    return bool(slash) and _is_org(org) and _GITHUB_TEAM_SLUG.fullmatch(slug) is not None
