"""Which scopes the authorization server grants, for which server, to whom.

Every token holds `mcp` (one coarse scope for using a server). A server may declare scopes
beyond it (`mcpServers.<name>.scopes`), each with who may hold it; a tool rule needing one
makes the resource server answer 403 `insufficient_scope`, and the client authorizes again
asking for it (MCP 2025-11-25 authorization §Scope Challenge Handling, step-up). Here:
- a request's `scope` keeps `mcp` and the extra scopes the server declares; other values
  are dropped (RFC 6749 §3.3: the AS may grant less than asked, and says so in the token
  response's `scope`);
- a grant gets only the extra scopes its principal may hold, decided when the principal is
  known (after the IdP login, or for a machine at /token): a user outside `admins` asking
  for `admin` gets a token without it.
Pure: over each server's compiled policy; no storage, no HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping

from mcp_gate.oauth.resources import MCP_SCOPE
from mcp_gate.policy.engine import PolicyEngine
from mcp_gate.principal import Principal


class ServerScopes:
    def __init__(self, policies: Mapping[str, PolicyEngine] | None = None) -> None:
        self._policies = dict(policies or {})

    def supported(self, server: str | None = None) -> list[str]:
        """`scopes_supported` (RFC 9728 §2, RFC 8414 §2): of one server, or of them all."""
        if server is None:
            engines = list(self._policies.values())
        else:
            engines = [self._policies[server]] if server in self._policies else []
        extra = dict.fromkeys(s for engine in engines for s in engine.extra_scopes)
        return [MCP_SCOPE, *extra]

    def requested(self, server: str, scope: str | None) -> str:
        """The scope an authorization request is taken to ask for at `server`."""
        engine = self._policies.get(server)
        known = engine.extra_scopes if engine is not None else ()
        asked = (scope or "").split()
        return " ".join([MCP_SCOPE, *(s for s in dict.fromkeys(asked) if s in known)])

    def granted(self, server: str, scope: str, principal: Principal) -> str:
        """Of the scope asked for, what `principal` gets: `mcp` and the extras it may hold."""
        engine = self._policies.get(server)
        extra = engine.grantable(principal, scope.split()) if engine is not None else ()
        return " ".join([MCP_SCOPE, *extra])

    @staticmethod
    def beyond_mcp(scope: str) -> list[str]:
        """The scopes of `scope` beyond `mcp` (what the consent page names one by one)."""
        return [s for s in scope.split() if s != MCP_SCOPE]
