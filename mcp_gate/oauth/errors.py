"""One class per OAuth error code, with the HTTP status its JSON response carries.

RFC 6749 §5.2 (token endpoint), §4.1.2.1 (authorization endpoint), RFC 7591 §3.2.2
(registration), RFC 8707 §2 (`invalid_target`), RFC 7009 §2.2.1 (revocation).
"""

from __future__ import annotations

from mcp_gate.errors import OAuthError


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    # RFC 6749 §5.2: 401 when the client tried to authenticate.
    error = "invalid_client"
    status = 401


class InvalidGrant(OAuthError):
    error = "invalid_grant"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class UnauthorizedClient(OAuthError):
    # RFC 6749 §5.2: the client may not use this grant type.
    error = "unauthorized_client"


class UnsupportedResponseType(OAuthError):
    error = "unsupported_response_type"


class InvalidTarget(OAuthError):
    error = "invalid_target"


class AccessDenied(OAuthError):
    error = "access_denied"
    status = 403


class InvalidRedirectUri(OAuthError):
    error = "invalid_redirect_uri"


class InvalidClientMetadata(OAuthError):
    error = "invalid_client_metadata"


class TooManyRequests(OAuthError):
    # policy: RFC 6585 §4 status, with the closest OAuth code.
    error = "temporarily_unavailable"
    status = 429
