"""The discovery documents: RFC 8414 AS metadata and RFC 9728 protected-resource metadata.

Grant types, client authentication methods and endpoints beyond the authorization code
flow are listed only when the configuration turns them on (`ServerFeatures`).

Issuer = the origin of `baseURL` with no path and no trailing slash (claude.ai has
mishandled issuers with a path), byte-identical in PRM `authorization_servers`, AS
`issuer` and the RFC 9207 `iss` (RFC 8414 §3.3: clients compare the strings exactly).
`offline_access` is not advertised (MCP authorization §Refresh Tokens); `scopes_supported`
is the coarse scope `mcp` and the extra scopes servers declare for step-up
(oauth/scopes.py; MCP 2025-11-25 authorization §Scope Challenge Handling).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcp_gate.jwk_sets import ALGORITHM_KEY_TYPES
from mcp_gate.oauth.resources import SCOPES_SUPPORTED

# The grant types of a workload's JWT: RFC 8693 §2.1 token exchange, RFC 7523 §2.1.
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True)
class ServerFeatures:
    """What the configuration turns on beyond the authorization code flow, so metadata
    advertises only what a client can use."""

    client_credentials: bool = False  # a pre-registered client has that grant type
    private_key_jwt: bool = False  # a pre-registered client authenticates with keys
    token_exchange: bool = False  # `trustedIssuers` is set
    introspection: bool = False  # `resourceServers` is set
    jwks: bool = False  # identity JWTs are signed: /.well-known/jwks.json


def authorization_server_metadata(
    issuer: str,
    endpoint_base: str,
    features: ServerFeatures = ServerFeatures(),
    scopes_supported: list[str] | None = None,
) -> dict[str, Any]:
    """`endpoint_base` is `baseURL` without a trailing slash (it may carry a path)."""
    grant_types = ["authorization_code", "refresh_token"]
    # Claude uses a Client ID Metadata Document only when "none" is listed too.
    auth_methods = ["none", "client_secret_post", "client_secret_basic"]
    document: dict[str, Any] = {
        "issuer": issuer,
        "authorization_endpoint": f"{endpoint_base}/authorize",
        "token_endpoint": f"{endpoint_base}/token",
        "registration_endpoint": f"{endpoint_base}/register",
        "revocation_endpoint": f"{endpoint_base}/revoke",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": grant_types,
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": list(auth_methods),
        "client_id_metadata_document_supported": True,
        "authorization_response_iss_parameter_supported": True,  # RFC 9207 §3
        # RFC 8414 §2: `mcp` and every server's extra scopes (oauth/scopes.py).
        "scopes_supported": scopes_supported or list(SCOPES_SUPPORTED),
    }
    if features.client_credentials:
        grant_types.append("client_credentials")  # RFC 6749 §4.4
    if features.token_exchange:
        grant_types.append(TOKEN_EXCHANGE_GRANT)  # RFC 8693 §2.1
        # MCP workload-identity-federation extension §Authorization Server Metadata.
        grant_types.append(JWT_BEARER_GRANT)
    if features.private_key_jwt:
        # MCP client-credentials extension §Server Metadata Requirements; RFC 8414 §2.
        auth_methods.append("private_key_jwt")
        document["revocation_endpoint_auth_methods_supported"].append("private_key_jwt")
        document["token_endpoint_auth_signing_alg_values_supported"] = list(ALGORITHM_KEY_TYPES)
    if features.introspection:
        document["introspection_endpoint"] = f"{endpoint_base}/introspect"  # RFC 8414 §2
        document["introspection_endpoint_auth_methods_supported"] = [
            "client_secret_basic",
            "client_secret_post",
        ]
    if features.jwks:
        document["jwks_uri"] = f"{issuer}/.well-known/jwks.json"
    return document


def protected_resource_metadata(
    resource: str, issuer: str, name: str, scopes_supported: list[str] | None = None
) -> dict[str, Any]:
    return {
        "resource": resource,
        "authorization_servers": [issuer],
        "scopes_supported": scopes_supported or list(SCOPES_SUPPORTED),  # RFC 9728 §2
        "bearer_methods_supported": ["header"],  # MCP authorization §Token Requirements
        "resource_name": name,
    }
