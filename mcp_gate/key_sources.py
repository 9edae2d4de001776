"""Where the keys of the parties the AS trusts come from, as the `KeyLookup`s oauth/ uses.

Owns turning configuration into key lookups: a client's `jwks` (a JWK Set in the config)
or `jwksUrl`, a trusted issuer's `jwksUrl` or its discovery document's `jwks_uri` (OIDC
Discovery 1.0 §3, §4.3: the document must name the issuer it was fetched for). Keys behind
a URL are cached and follow rotation (`idp/jwks.py`); a fetch that fails becomes
`KeysUnavailableError`, so no IdP error leaks into the token endpoint's answers. Verifies
nothing itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

import aiohttp

from mcp_gate.config.model import StaticClient, TrustedIssuer
from mcp_gate.idp.discovery import WELL_KNOWN_SUFFIX
from mcp_gate.idp.errors import IdpError
from mcp_gate.idp.jwks import JwksCache
from mcp_gate.idp.upstream import get_json, is_allowed_idp_url
from mcp_gate.jwk_sets import VerificationKey, parse_jwk_set, select_key
from mcp_gate.oauth.external_jwt import KeyLookup, KeysUnavailableError


def static_keys(document: Mapping[str, object]) -> KeyLookup:
    """The keys of a JWK Set given in the config (read once, here)."""
    entries = parse_jwk_set(document)

    async def lookup(kid: str | None, kty: str) -> VerificationKey | None:
        return select_key(entries, kid, kty)

    return lookup


def keys_at_url(http: aiohttp.ClientSession, url: str) -> KeyLookup:
    """The keys of the JWK Set at `url`, fetched on first use and kept fresh."""
    cache = JwksCache(http)

    async def lookup(kid: str | None, kty: str) -> VerificationKey | None:
        try:
            return await cache.find_key(url, kid, kty)
        except IdpError:
            raise KeysUnavailableError(url) from None

    return lookup


def keys_of_issuer(http: aiohttp.ClientSession, issuer: str) -> KeyLookup:
    """The keys named by `<issuer>/.well-known/openid-configuration`'s `jwks_uri`."""
    cache = JwksCache(http)
    lock = asyncio.Lock()
    found: list[str] = []

    async def jwks_uri() -> str:
        async with lock:
            if not found:
                url = issuer.rstrip("/") + WELL_KNOWN_SUFFIX  # OIDC Discovery 1.0 §4.1
                document = await get_json(http, url, "discovery_invalid")
                uri = document.get("jwks_uri")
                if document.get("issuer") != issuer or not (
                    isinstance(uri, str) and is_allowed_idp_url(uri)
                ):
                    raise IdpError(
                        "discovery_invalid", f"{url} names another issuer or no jwks_uri"
                    )
                found.append(uri)
            return found[0]

    async def lookup(kid: str | None, kty: str) -> VerificationKey | None:
        try:
            return await cache.find_key(await jwks_uri(), kid, kty)
        except IdpError:
            raise KeysUnavailableError(issuer) from None

    return lookup


def client_keys(
    clients: Iterable[StaticClient], http: aiohttp.ClientSession
) -> dict[str, KeyLookup]:
    """The key lookup of every pre-registered client that authenticates by private_key_jwt."""
    lookups = {}
    for client in clients:
        if client.jwks is not None:
            lookups[client.client_id] = static_keys(client.jwks)
        elif client.jwks_url:
            lookups[client.client_id] = keys_at_url(http, client.jwks_url)
    return lookups


def issuer_keys(
    issuers: Iterable[TrustedIssuer], http: aiohttp.ClientSession
) -> dict[str, KeyLookup]:
    """The key lookup of every trusted issuer: its `jwksUrl`, or its discovery document."""
    return {
        issuer.issuer: keys_at_url(http, issuer.jwks_url)
        if issuer.jwks_url
        else keys_of_issuer(http, issuer.issuer)
        for issuer in issuers
    }
