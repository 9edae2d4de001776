"""The gate as an OpenID Connect relying party toward Google or another OIDC provider,
and as an OAuth client of GitHub.

Owns the upstream login leg: discovery, the authorization request (state, nonce, PKCE),
the code exchange, ID token verification and the domain allowlist. Knows nothing about
MCP clients, the gate's own authorization server or its tokens (that is `oauth/`); never
forwards anything an MCP client sent (an RFC 8707 `resource` would make OIDC providers
refuse the login; MCP security best practices §Token Passthrough).

    build_identity_provider(...) → IdentityProvider   provider.py
        ├── OidcProvider   oidc.py (generic OIDC; google.py configures it for Google)
        ├── GitHubProvider github.py (OAuth, not OIDC: the account from the REST API)
        └── DevProvider    dev.py (loopback-only demo login)
    Identity                identity.py
    LoginRequest            login_request.py (state, nonce, PKCE verifier for one login)
    verify_identity_allowed allowlist.py
    IdpError, LoginRefusedError, IdTokenInvalidError   errors.py
"""

from mcp_gate.idp.allowlist import verify_identity_allowed
from mcp_gate.idp.dev import DevProvider, verify_dev_provider_allowed
from mcp_gate.idp.errors import IdpError, IdTokenInvalidError, LoginRefusedError
from mcp_gate.idp.identity import Identity
from mcp_gate.idp.login_request import LoginRequest
from mcp_gate.idp.oidc import OidcProvider
from mcp_gate.idp.provider import IdentityProvider, build_identity_provider

__all__ = [
    "DevProvider",
    "IdTokenInvalidError",
    "Identity",
    "IdentityProvider",
    "IdpError",
    "LoginRefusedError",
    "LoginRequest",
    "OidcProvider",
    "build_identity_provider",
    "verify_dev_provider_allowed",
    "verify_identity_allowed",
]
