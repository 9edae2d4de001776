"""The authorization server's parts, assembled once from the config for the web layer.

One frozen object in `app[AUTH]` so handlers reach every AS piece through one key. Built in
a `cleanup_ctx` because the IdP client needs the app's outgoing HTTP session. It also holds
what exists only with logins: browser logins for the gate's pages and users' own tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from mcp_gate.browser_logins import BrowserLoginStore
from mcp_gate.config.model import GateConfig
from mcp_gate.cookies import LOGIN_SESSION_SECONDS, BrowserCookies, LoginSession
from mcp_gate.idp.provider import IdentityProvider
from mcp_gate.oauth.bearer import GateTokenVerifier
from mcp_gate.oauth.client_assertions import ClientAssertionVerifier
from mcp_gate.oauth.clients import ClientRepository
from mcp_gate.oauth.consent_requests import ConsentRequests
from mcp_gate.oauth.grants import GrantStore
from mcp_gate.oauth.introspection import ResourceServerRegistry
from mcp_gate.oauth.metadata import ServerFeatures
from mcp_gate.oauth.resources import MCP_SCOPE, ResourceIndex
from mcp_gate.oauth.revalidation import GrantRevalidation
from mcp_gate.oauth.scopes import ServerScopes
from mcp_gate.oauth.token_endpoint import TokenService
from mcp_gate.oauth.token_exchange import TrustedIssuers
from mcp_gate.usertokens.connections import ServiceConnections
from mcp_gate.usertokens.store import UserTokenStore
from mcp_gate.web.bearer_auth import ChallengeInfo


@dataclass(frozen=True)
class AuthComponents:
    config: GateConfig
    issuer: str
    endpoint_base: str
    resources: ResourceIndex
    clients: ClientRepository
    grants: GrantStore
    consent_requests: ConsentRequests
    tokens: TokenService
    client_assertions: ClientAssertionVerifier
    trusted_issuers: TrustedIssuers
    resource_servers: ResourceServerRegistry
    features: ServerFeatures
    verifier: GateTokenVerifier
    idp: IdentityProvider
    revalidation: GrantRevalidation
    cookies: BrowserCookies
    browser_logins: BrowserLoginStore
    user_tokens: UserTokenStore
    connections: ServiceConnections
    # Each server's extra scopes and who may hold them (step-up).
    scopes: ServerScopes = field(default_factory=ServerScopes)

    @property
    def gate_name(self) -> str:
        return self.config.proxy.name

    async def signed_in(self, request: web.Request) -> LoginSession | None:
        """The browser's login session, unless it is missing, expired or was revoked
        (`mcp-gate revoke --user` ends browser sessions too: oauth/revocations.py)."""
        session = self.cookies.read_session(request)
        if session is None:
            return None
        began_at = session.expires_at - LOGIN_SESSION_SECONDS
        if await self.grants.marks.is_revoked(email=session.email, client_id="", began_at=began_at):
            return None
        return session

    def url(self, path: str) -> str:
        """An absolute URL of the gate (published URLs derive from baseURL, never Host)."""
        return f"{self.endpoint_base}{path}"

    def path(self, path: str) -> str:
        return f"{self.config.proxy.base_path}{path}"

    def resource_metadata_url(self, resource: str) -> str:
        """RFC 9728 §3.1: the well-known suffix inserted between host and path."""
        path = resource.removeprefix(self.issuer)
        return f"{self.issuer}/.well-known/oauth-protected-resource{path}"

    def challenges(self) -> dict[str, ChallengeInfo]:
        return {
            name: ChallengeInfo(
                self.resource_metadata_url(r.mcp), self.resource_metadata_url(r.sse), MCP_SCOPE
            )
            for name, r in self.resources.servers.items()
        }
