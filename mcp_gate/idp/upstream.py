"""HTTP to the identity provider: one timeout, JSON bodies, failures as `IdpError`.

Owns how the gate talks to the IdP over the `aiohttp.ClientSession` it is given (never one
per call), and which URLs it may talk to at all. Knows no OIDC semantics; never puts a
request or response body in an error (they may hold codes or tokens).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from mcp_gate.idp.errors import IdpError, IdpFailure
from mcp_gate.loopback import is_tls_or_loopback_url

# policy: an IdP that has not answered in 10 s will not; the user is waiting on a redirect.
IDP_HTTP_TIMEOUT_SECONDS = 10.0
# policy: discovery documents and JWKS are small; refuse anything larger than 1 MiB.
IDP_MAX_BODY_BYTES = 1024 * 1024

_TIMEOUT = aiohttp.ClientTimeout(total=IDP_HTTP_TIMEOUT_SECONDS)


def is_allowed_idp_url(url: str) -> bool:
    """https anywhere; plain http only to a loopback host (local test providers)."""
    # policy: the token request carries the client secret, which must not cross a network
    # in clear text (RFC 6749 §2.3.1 requires TLS for it); discovery and JWKS likewise.
    return is_tls_or_loopback_url(url)


async def get_json(http: aiohttp.ClientSession, url: str, failure: IdpFailure) -> dict[str, object]:
    """GET a JSON object, or raise `IdpError(failure)`."""
    try:
        async with http.get(url, timeout=_TIMEOUT, allow_redirects=False) as response:
            if response.status != 200:
                raise IdpError(failure, f"GET {url} answered HTTP {response.status}")
            body = await _read_json(response)
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise IdpError("idp_unreachable", f"GET {url} failed: {type(exc).__name__}") from None
    if not isinstance(body, dict):
        raise IdpError(failure, f"GET {url} did not answer a JSON object")
    return body


async def post_form(
    http: aiohttp.ClientSession,
    url: str,
    form: Mapping[str, str],
    headers: Mapping[str, str],
) -> tuple[int, dict[str, object] | None]:
    """POST a form; the status and the JSON object answered (None if not a JSON object)."""
    try:
        async with http.post(
            url, data=dict(form), headers=dict(headers), timeout=_TIMEOUT, allow_redirects=False
        ) as response:
            body = await _read_json(response)
            return response.status, body if isinstance(body, dict) else None
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise IdpError("idp_unreachable", f"POST {url} failed: {type(exc).__name__}") from None


@dataclass(frozen=True)
class ApiAnswer:
    """One answer of an IdP's REST API: its status, JSON body (None if not JSON) and the
    `Link` header (RFC 8288) that names further pages."""

    status: int
    body: object
    link: str | None


async def get_api(http: aiohttp.ClientSession, url: str, headers: Mapping[str, str]) -> ApiAnswer:
    """GET an API resource with the user's token in `headers`; any status is an answer."""
    try:
        async with http.get(
            url, headers=dict(headers), timeout=_TIMEOUT, allow_redirects=False
        ) as response:
            body = await _read_json(response)
            return ApiAnswer(response.status, body, response.headers.get("Link"))
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise IdpError("idp_unreachable", f"GET {url} failed: {type(exc).__name__}") from None


async def _read_json(response: aiohttp.ClientResponse) -> object:
    """The body as a JSON value; None if it is not JSON or is over the size limit."""
    raw = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        raw += chunk
        if len(raw) > IDP_MAX_BODY_BYTES:
            return None
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None
