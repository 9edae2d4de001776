"""The discovery documents: RFC 8414 AS metadata and RFC 9728 protected-resource metadata.

Values follow reference §6: issuer = the origin of `baseURL` with no path and no trailing
slash, byte-identical in PRM `authorization_servers`, AS `issuer` and the RFC 9207 `iss`
(reference §2.4 item 18). `offline_access` is not advertised (MCP authorization §Refresh
Tokens), only the one coarse scope `mcp` (reference §2.10 item 49).
"""

from __future__ import annotations

from typing import Any

from mcp_gate.oauth.resources import SCOPES_SUPPORTED


def authorization_server_metadata(issuer: str, endpoint_base: str) -> dict[str, Any]:
    """`endpoint_base` is `baseURL` without a trailing slash (it may carry a path)."""
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{endpoint_base}/authorize",
        "token_endpoint": f"{endpoint_base}/token",
        "registration_endpoint": f"{endpoint_base}/register",
        "revocation_endpoint": f"{endpoint_base}/revoke",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        # reference §2.5 item 4: Claude uses CIMD only when "none" is listed too.
        "token_endpoint_auth_methods_supported": [
            "none",
            "client_secret_post",
            "client_secret_basic",
        ],
        "revocation_endpoint_auth_methods_supported": [
            "none",
            "client_secret_post",
            "client_secret_basic",
        ],
        "client_id_metadata_document_supported": True,
        "authorization_response_iss_parameter_supported": True,  # RFC 9207 §3
        "scopes_supported": list(SCOPES_SUPPORTED),
    }


def protected_resource_metadata(resource: str, issuer: str, name: str) -> dict[str, Any]:
    return {
        "resource": resource,
        "authorization_servers": [issuer],
        "scopes_supported": list(SCOPES_SUPPORTED),
        "bearer_methods_supported": ["header"],  # MCP authorization §Token Requirements
        "resource_name": name,
    }
