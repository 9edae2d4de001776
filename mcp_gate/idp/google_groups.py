"""A Google Workspace user's groups, from the Admin SDK Directory API (`idp.googleGroups`).

Google's ID tokens carry no groups. A service account with domain-wide delegation reads
them, acting as a Workspace admin:

    1. a JWT signed with the service account's key (RS256): iss = its client_email, sub =
       the admin, scope = admin.directory.group.readonly, aud = the key's token_uri
       → POST token_uri  grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer
       (RFC 7523 §2.1, Google's "Using OAuth 2.0 for Server to Server Applications")
       → an access token, kept until a minute before it expires;
    2. GET <directory>/admin/directory/v1/groups?userKey=<email>&maxResults=200
       (&pageToken=… while `nextPageToken` comes back; Directory API reference,
       groups.list) → the group addresses.

A user's groups are cached in this process for `revalidateInterval`: read at login,
again at most that often. Any failure (the key refused, the API down or answering
something else) is an `IdpError`: a login without its groups would pass policy rules it
should not (fail closed). Never logs or raises with the key, the assertion or a token.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

import aiohttp
from joserfc import jwt

from mcp_gate.idp.errors import IdpError
from mcp_gate.idp.service_account_key import ServiceAccountKey
from mcp_gate.idp.upstream import get_api, post_form

DIRECTORY_SCOPE = "https://www.googleapis.com/auth/admin.directory.group.readonly"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"  # RFC 7523 §2.1
DIRECTORY_URL = "https://admin.googleapis.com"
# Google: an assertion may be valid for at most an hour.
ASSERTION_TTL_SECONDS = 3600
# policy: renew the access token a minute early, so none expires in flight.
TOKEN_EARLY_SECONDS = 60.0
# groups.list allows maxResults up to 200; 50 pages is 10,000 groups, more than anyone has.
PAGE_SIZE = 200
MAX_PAGES = 50


class DirectoryGroups:
    """Reads users' groups as `admin_email`, through `key`'s domain-wide delegation."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        key: ServiceAccountKey,
        admin_email: str,
        *,
        directory_url: str = DIRECTORY_URL,
        cache_seconds: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._key = key
        self._admin = admin_email
        self._directory = directory_url.rstrip("/")
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._token: tuple[str, float] | None = None  # access token, when to renew it
        self._cache: dict[str, tuple[tuple[str, ...], float]] = {}  # email → groups, read at

    def __repr__(self) -> str:
        return f"DirectoryGroups(as={self._admin!r}, via={self._key.client_email!r})"

    async def load_groups(self, email: str) -> tuple[str, ...]:
        """The group addresses of `email`: read anew when the cached ones are older than
        `cache_seconds` (revalidateInterval), so a login or revalidation reads them at most
        that often per process."""
        now = self._clock()
        cached = self._cache.get(email.lower())
        if cached is not None and now - cached[1] < self._cache_seconds:
            return cached[0]
        groups = await self._list_groups(email)
        self._cache[email.lower()] = (groups, now)
        return groups

    async def _list_groups(self, email: str) -> tuple[str, ...]:
        headers = {"Authorization": f"Bearer {await self._access_token()}"}
        groups: list[str] = []
        page_token = ""
        for _ in range(MAX_PAGES):
            query = {"userKey": email, "maxResults": str(PAGE_SIZE)}
            if page_token:
                query["pageToken"] = page_token
            url = f"{self._directory}/admin/directory/v1/groups?{urlencode(query)}"
            answer = await get_api(self._http, url, headers)
            if answer.status != 200 or not isinstance(answer.body, dict):
                raise IdpError("api_failed", f"groups.list answered HTTP {answer.status}")
            for group in answer.body.get("groups", []):
                address = group.get("email") if isinstance(group, dict) else None
                if isinstance(address, str) and address:
                    groups.append(address.lower())
            next_token = answer.body.get("nextPageToken")
            if not isinstance(next_token, str) or not next_token:
                return tuple(dict.fromkeys(groups))
            page_token = next_token
        raise IdpError("api_failed", f"groups.list had more than {MAX_PAGES} pages")

    async def _access_token(self) -> str:
        now = self._clock()
        if self._token is not None and now < self._token[1]:
            return self._token[0]
        form = {"grant_type": JWT_BEARER, "assertion": self._assertion(int(now))}
        status, body = await post_form(
            self._http, self._key.token_uri, form, {"Accept": "application/json"}
        )
        token = body.get("access_token") if body is not None else None
        if status != 200 or body is None or not isinstance(token, str) or not token:
            raise IdpError(
                "token_request_failed",
                f"the service account's token request answered HTTP {status}",
            )
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 3600.0
        self._token = (token, now + max(lifetime - TOKEN_EARLY_SECONDS, 0.0))
        return token

    def _assertion(self, now: int) -> str:
        """The RFC 7523 §3 JWT: who asks (iss), for whom (sub), what (scope), to whom (aud)."""
        header = {"alg": "RS256", "typ": "JWT"}
        if self._key.private_key_id:
            header["kid"] = self._key.private_key_id
        claims = {
            "iss": self._key.client_email,
            "sub": self._admin,
            "scope": DIRECTORY_SCOPE,
            "aud": self._key.token_uri,
            "iat": now,
            "exp": now + ASSERTION_TTL_SECONDS,
        }
        return jwt.encode(header, claims, self._key.private_key)
