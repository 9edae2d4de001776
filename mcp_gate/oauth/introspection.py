"""Token introspection (RFC 7662) for the resource servers that use the gate as their AS.

Owns who may introspect (the configured `resourceServers`, each authenticated by its own
client id and secret, RFC 7662 §2.1: the caller MUST be authenticated; the secret is
compared in constant time against its digest) and what the answer says (§2.2). policy: a
resource server learns only about tokens issued for its own resource: any other token,
valid for another server or not, is `{"active": false}`, exactly as an unknown one is, so
introspection tells no one about tokens meant for someone else. Refresh tokens are never
active here: a resource server sees access tokens only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mcp_gate.crypto.digest import secrets_equal, token_digest
from mcp_gate.oauth.access_tokens import AccessClaims
from mcp_gate.oauth.errors import InvalidClient

INACTIVE: dict[str, Any] = {"active": False}


@dataclass(frozen=True)
class IntrospectingServer:
    resource: str
    client_id: str
    secret_digest: str


class ResourceServerRegistry:
    def __init__(self, servers: Iterable[IntrospectingServer]) -> None:
        self._by_id = {server.client_id: server for server in servers}

    def __bool__(self) -> bool:
        return bool(self._by_id)

    @property
    def resources(self) -> frozenset[str]:
        return frozenset(server.resource for server in self._by_id.values())

    def authenticate(self, client_id: str, secret: str | None) -> IntrospectingServer:
        """The resource server these credentials are, else `InvalidClient` (401)."""
        server = self._by_id.get(client_id)
        presented = token_digest(secret or "")
        # The comparison runs for unknown ids too, so timing tells no id apart.
        expected = server.secret_digest if server is not None else token_digest("")
        if server is None or not secret or not secrets_equal(presented, expected):
            raise InvalidClient("resource server authentication failed")
        return server


def introspection_response(claims: AccessClaims | None, issuer: str) -> dict[str, Any]:
    """RFC 7662 §2.2: `active`, and for an active token what the resource server needs."""
    if claims is None:
        return dict(INACTIVE)
    answer: dict[str, Any] = {
        "active": True,
        "scope": claims.scope,
        "client_id": claims.client_id,
        "token_type": "Bearer",
        "exp": claims.expires_at,
        "iat": claims.issued_at,
        "sub": claims.subject,
        "aud": claims.resource,
        "iss": issuer,
        # Beyond RFC 7662's names (§2.2 allows more): whom the token acts for.
        "principal_kind": claims.kind,
    }
    if claims.email:
        answer["email"] = claims.email
    return answer
