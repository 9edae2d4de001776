"""OpenID Provider discovery (OIDC Discovery 1.0 §4): fetch, check and cache the metadata.

Owns the expected issuer of a discovery URL, the checks on the document and its cache for
the life of the process. Does not fetch keys (`jwks.py`) or talk to other endpoints.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp
import structlog

from mcp_gate.errors import ConfigError
from mcp_gate.idp.errors import IdpError
from mcp_gate.idp.upstream import get_json, is_allowed_idp_url

log = structlog.get_logger()

WELL_KNOWN_SUFFIX = "/.well-known/openid-configuration"  # OIDC Discovery 1.0 §4


@dataclass(frozen=True)
class ProviderMetadata:
    """The parts of an OpenID Provider's metadata the gate uses (OIDC Discovery 1.0 §3)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    # OIDC Discovery 1.0 §3: when omitted, the default is client_secret_basic.
    token_endpoint_auth_methods: tuple[str, ...] = ("client_secret_basic",)


def build_issuer_from_discovery_url(discovery_url: str) -> str:
    """The issuer a discovery URL must describe (OIDC Discovery 1.0 §4.1, §4.3).

    Raises `ConfigError` for a URL that is not `<issuer>/.well-known/openid-configuration`
    or that the gate may not talk to (see `upstream.is_allowed_idp_url`).
    """
    problems = []
    if not discovery_url.endswith(WELL_KNOWN_SUFFIX):
        problems.append(
            f"auth.idp.discoveryUrl: {discovery_url!r} must end with {WELL_KNOWN_SUFFIX} "
            "(OpenID Connect Discovery 1.0 §4)"
        )
    if not is_allowed_idp_url(discovery_url):
        problems.append(
            f"auth.idp.discoveryUrl: {discovery_url!r} must use https "
            "(plain http is accepted for localhost only)"
        )
    if problems:
        raise ConfigError(problems)
    return discovery_url.removesuffix(WELL_KNOWN_SUFFIX)


def parse_provider_metadata(document: dict[str, object], expected_issuer: str) -> ProviderMetadata:
    """Check a discovery document and keep what the gate needs, or raise `IdpError`.

    OIDC Discovery 1.0 §4.3: the document's `issuer` is exactly the issuer the URL was made
    from. §4.1 drops an issuer's terminating `/` before appending the well-known path, so
    `<expected>/` (Auth0's form, `https://tenant.auth0.com/`) made the same URL and is
    accepted too; the document's spelling is kept, since ID tokens carry exactly that.
    """
    issuer = document.get("issuer")
    if issuer not in (expected_issuer, expected_issuer + "/"):
        raise IdpError(
            "discovery_invalid",
            f"discovery document issuer {issuer!r} is not the expected {expected_issuer!r}",
        )
    assert isinstance(issuer, str)
    endpoints = {}
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = document.get(name)  # OIDC Discovery 1.0 §3: REQUIRED (token: unless implicit)
        if not isinstance(value, str) or not is_allowed_idp_url(value):
            raise IdpError("discovery_invalid", f"discovery document has no usable {name}")
        endpoints[name] = value
    auth_methods = document.get("token_endpoint_auth_methods_supported")
    if auth_methods is None:
        auth_methods = ["client_secret_basic"]
    if not isinstance(auth_methods, list) or not all(isinstance(m, str) for m in auth_methods):
        raise IdpError(
            "discovery_invalid", "token_endpoint_auth_methods_supported is not a string list"
        )
    return ProviderMetadata(
        issuer=issuer,
        token_endpoint_auth_methods=tuple(auth_methods),
        **endpoints,
    )


class ProviderDiscovery:
    """The metadata of one provider, fetched on first use and then kept.

    # policy: kept for the life of the process; a failed fetch is not kept, so the next
    # login tries again. Key rotation does not need a new document (`jwks.py` refetches).
    """

    def __init__(
        self, http: aiohttp.ClientSession, discovery_url: str, expected_issuer: str
    ) -> None:
        self._http = http
        self.discovery_url = discovery_url
        self.expected_issuer = expected_issuer
        self._metadata: ProviderMetadata | None = None
        self._lock = asyncio.Lock()

    async def load(self) -> ProviderMetadata:
        if self._metadata is not None:
            return self._metadata
        async with self._lock:
            if self._metadata is None:
                document = await get_json(self._http, self.discovery_url, "discovery_invalid")
                self._metadata = parse_provider_metadata(document, self.expected_issuer)
                log.info("idp_discovery_loaded", issuer=self.expected_issuer)
            return self._metadata
