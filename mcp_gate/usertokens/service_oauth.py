"""The gate as an OAuth client of a service (`userAuthentication: {type: oauth}`).

Owns the three requests toward the service's own OAuth server, per RFC 6749 with PKCE:
the authorization request URL (§4.1.1; RFC 7636 §4.3, S256 only), the code exchange
(§4.1.3; RFC 7636 §4.5) and the refresh (§6), and how their answers are read (§5.1, §5.2).
The client authenticates with HTTP Basic, which every server must support (§2.3.1).
This leg never mixes with the gate's own login: its own client, state and verifier.

Stores nothing and retries nothing. Its errors say which way a failure goes: the service
refused (a 4xx: the code or refresh token is dead, connect again) or failed (5xx, timeout,
unreachable, an answer that is not a token: try again later). Never puts a code or token
in an error or a log line.
"""

from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import aiohttp

from mcp_gate.config.model import UserAuthentication
from mcp_gate.errors import GateError
from mcp_gate.idp.errors import IdpError
from mcp_gate.idp.upstream import post_form

# policy: 408 and 429 ask the client to come back later; they refuse nothing.
_COME_BACK_LATER = frozenset({408, 429})
# An OAuth error code as RFC 6749 §5.2 allows it; anything else is not echoed into logs.
_ERROR_CODE = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}")


class ServiceOAuthError(GateError):
    """The service's OAuth server gave no tokens. `reason` is for the operator's log."""

    def __init__(self, server: str, reason: str) -> None:
        self.server = server
        self.reason = reason
        super().__init__(f"service OAuth of {server!r}: {reason}")


class ServiceRefusedError(ServiceOAuthError):
    """A 4xx answer (RFC 6749 §5.2): the code or refresh token will never work again."""


class ServiceUnavailableError(ServiceOAuthError):
    """A 5xx, a timeout, no connection, or an answer that is not a token response."""


@dataclass(frozen=True)
class TokenAnswer:
    """A successful token response (RFC 6749 §5.1)."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_in: float | None = None


def build_authorization_url(
    authentication: UserAuthentication, *, redirect_uri: str, state: str, code_challenge: str
) -> str:
    """The service's authorization URL for one connect attempt (RFC 6749 §4.1.1)."""
    params = {
        "response_type": "code",
        "client_id": authentication.client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": code_challenge,  # RFC 7636 §4.3
        "code_challenge_method": "S256",
    }
    if authentication.scopes:
        params["scope"] = " ".join(authentication.scopes)  # RFC 6749 §3.3
    parts = urlsplit(authentication.authorization_url)
    # RFC 6749 §3.1: the endpoint's own query component is kept.
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


async def exchange_code(
    http: aiohttp.ClientSession,
    server: str,
    authentication: UserAuthentication,
    *,
    code: str,
    code_verifier: str,
    redirect_uri: str,
) -> TokenAnswer:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,  # RFC 6749 §4.1.3: it was in the authorization request
        "code_verifier": code_verifier,  # RFC 7636 §4.5
    }
    return await _token_request(http, server, authentication, form)


async def refresh(
    http: aiohttp.ClientSession,
    server: str,
    authentication: UserAuthentication,
    refresh_token: str,
) -> TokenAnswer:
    """New tokens for a refresh token (RFC 6749 §6); the caller keeps the old refresh
    token when the answer brings none."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return await _token_request(http, server, authentication, form)


def _basic_credentials(authentication: UserAuthentication) -> str:
    # RFC 6749 §2.3.1: both parts form-encoded (Appendix B), then HTTP Basic.
    secret = authentication.client_secret.reveal() if authentication.client_secret else ""
    pair = f"{quote(authentication.client_id, safe='')}:{quote(secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


async def _token_request(
    http: aiohttp.ClientSession,
    server: str,
    authentication: UserAuthentication,
    form: dict[str, str],
) -> TokenAnswer:
    # Accept: some services (GitHub) answer form-encoded unless asked for JSON.
    headers = {"Authorization": _basic_credentials(authentication), "Accept": "application/json"}
    try:
        status, body = await post_form(http, authentication.token_url, form, headers)
    except IdpError:
        raise ServiceUnavailableError(server, "the token endpoint could not be reached") from None
    if status == 200 and body is not None:
        return _parse_answer(server, body)
    if 400 <= status < 500 and status not in _COME_BACK_LATER:
        error = body.get("error") if body else None
        code = error if isinstance(error, str) and _ERROR_CODE.fullmatch(error) else "unknown"
        raise ServiceRefusedError(server, f"the token endpoint refused: HTTP {status} {code}")
    raise ServiceUnavailableError(server, f"the token endpoint answered HTTP {status}")


def _parse_answer(server: str, body: dict[str, object]) -> TokenAnswer:
    access_token = body.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise ServiceUnavailableError(server, "the token response has no access_token")
    refresh_token = body.get("refresh_token")
    expires_in = body.get("expires_in")
    # RFC 6749 §5.1: expires_in is RECOMMENDED; some services send it as a string.
    if isinstance(expires_in, str) and expires_in.isdigit():
        expires_in = int(expires_in)
    valid_expiry = (
        isinstance(expires_in, int | float)
        and not isinstance(expires_in, bool)
        and math.isfinite(expires_in)
        and expires_in >= 0
    )
    return TokenAnswer(
        access_token=access_token,
        refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
        expires_in=float(expires_in) if valid_expiry else None,  # type: ignore[arg-type]
    )
