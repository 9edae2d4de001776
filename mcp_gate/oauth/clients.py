"""The client repository and client authentication at the token endpoint.

Owns where clients live (pre-registered clients in memory, from the config, looked up
first; DCR clients in the store under kind `client`, keyed by client id; URL client ids
resolved by `cimd.CimdResolver`), how long an unused DCR client is kept, and RFC 6749
§2.3 client authentication: reading the credentials a request carries (§2.3.1) and
checking them against a client in constant time. It does not decide which endpoints
require authentication; the token and revocation handlers do.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple
from urllib.parse import unquote_plus

from mcp_gate.crypto.digest import secrets_equal, token_digest
from mcp_gate.oauth.cimd import CimdResolver, is_cimd_client_id
from mcp_gate.oauth.client_assertions import CLIENT_ASSERTION_TYPE
from mcp_gate.oauth.errors import InvalidClient, InvalidRequest
from mcp_gate.oauth.external_jwt import unverified_claims
from mcp_gate.oauth.models import AuthMethod, Client
from mcp_gate.store.protocols import Store
from mcp_gate.store.records import from_json, to_json

CLIENT_KIND = "client"
# policy: claude.ai registers a new client on every fresh connection, so DCR clients expire once
# unused for 90 days. Loading a client renews it (at most once a day, to keep reads cheap), so a
# client in use never disappears.
CLIENT_TTL_SECONDS = 90 * 24 * 3600
CLIENT_RENEW_AFTER_SECONDS = 24 * 3600
# Client ids we mint are `new_token` output; anything else cannot be a DCR client.
_DCR_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def build_static_client(
    client_id: str,
    client_name: str,
    redirect_uris: Sequence[str],
    secret: str | None,
    *,
    grant_types: Sequence[str] = ("authorization_code", "refresh_token"),
    has_keys: bool = False,
) -> Client:
    """A pre-registered client (MCP authorization §Client Registration: pre-registration),
    for `ClientRepository(static=...)`.

    With keys (`jwks`, `jwksUrl`) it authenticates by `private_key_jwt` (RFC 7523 §2.2);
    with a secret it is confidential, registered as `client_secret_basic` (RFC 7591 §2's
    default; `authenticate_client` takes either secret method); with neither it is public
    (`none`). The secret's digest is computed here, once.
    """
    method: AuthMethod = "none"
    if has_keys:
        method = "private_key_jwt"
    elif secret:
        method = "client_secret_basic"
    return Client(
        client_id=client_id,
        redirect_uris=tuple(redirect_uris),
        token_endpoint_auth_method=method,
        client_secret_digest=token_digest(secret) if secret else "",
        client_name=client_name,
        grant_types=tuple(grant_types),
        source="static",
    )


class ClientRepository:
    """Loads and saves clients. Without a `cimd` resolver, URL client ids are unknown.

    `static` clients (from `build_static_client`) are never stored and never expire; their
    ids are looked up before anything else, so neither the store nor CIMD can shadow one.
    """

    def __init__(
        self, store: Store, cimd: CimdResolver | None = None, static: Iterable[Client] = ()
    ) -> None:
        self._store = store
        self._cimd = cimd
        self._static: dict[str, Client] = {}
        for client in static:
            if client.source != "static" or is_cimd_client_id(client.client_id):
                raise ValueError(f"not a pre-registered client: {client.client_id!r}")
            if client.client_id in self._static:
                raise ValueError(f"two pre-registered clients share the id {client.client_id!r}")
            self._static[client.client_id] = client

    async def load(self, client_id: str) -> Client | None:
        """The client, or None when unknown or expired.

        A URL client id goes to the CIMD resolver, which raises `InvalidClient` (with a
        description worth showing) when its document cannot be fetched or is invalid.
        """
        static = self._static.get(client_id)
        if static is not None:
            return static
        if is_cimd_client_id(client_id):
            return await self._cimd.resolve(client_id) if self._cimd is not None else None
        if not _DCR_CLIENT_ID.fullmatch(client_id):
            return None
        data = await self._store.get(CLIENT_KIND, client_id)
        if data is None:
            return None
        remaining = await self._store.ttl(CLIENT_KIND, client_id)
        if remaining is not None and remaining < CLIENT_TTL_SECONDS - CLIENT_RENEW_AFTER_SECONDS:
            await self._store.put(CLIENT_KIND, client_id, data, ttl_seconds=CLIENT_TTL_SECONDS)
        return from_json(Client, data)

    async def save(self, client: Client) -> None:
        """Store a DCR client for `CLIENT_TTL_SECONDS` (renewed by `load`)."""
        if client.source != "dcr":
            raise ValueError(f"only DCR clients are stored, not {client.source!r} ones")
        if client.client_id in self._static:
            # Minted ids (`new_token`) never collide in practice; `load` prefers static anyway.
            raise ValueError(f"{client.client_id!r} is a pre-registered client's id")
        await self._store.put(
            CLIENT_KIND, client.client_id, to_json(client), ttl_seconds=CLIENT_TTL_SECONDS
        )


class ClientCredentials(NamedTuple):
    """Who a token request says it is, and how it proves it (RFC 6749 §2.3).

    `secret` is the client secret (None unless a secret method), `assertion` the signed
    JWT of `private_key_jwt` (None otherwise); the repr hides both.
    """

    client_id: str
    secret: str | None
    method: AuthMethod
    assertion: str | None = None

    def __repr__(self) -> str:
        return f"ClientCredentials(client_id={self.client_id!r}, method={self.method!r})"


def has_client_credentials(headers_authorization: str | None, form: Mapping[str, str]) -> bool:
    """Whether the request says who its client is at all (grants where that is optional)."""
    return bool(headers_authorization or form.get("client_id") or form.get("client_assertion"))


def parse_client_credentials(
    headers_authorization: str | None, form: Mapping[str, str]
) -> ClientCredentials:
    """The client credentials of a token-endpoint request (RFC 6749 §2.3.1, OAuth 2.1 §2.4).

    - `Authorization: Basic` with the form-urlencoded id and secret (the Python SDK
      encodes them, the TypeScript SDK does not; ids and secrets we mint read the same
      either way). A `client_id` in the body beside it must name the same client.
    - `client_secret_post`: `client_id` and `client_secret` in the body.
    - `private_key_jwt`: `client_assertion` and its type (RFC 7523 §2.2); `client_id` may
      be left out, the assertion's `sub` names the client (RFC 7523 §3 item 2).
    - `none`: only `client_id` in the body.
    Raises `InvalidRequest` for two methods at once or a body `client_id` that contradicts
    the header, `InvalidClient` for missing or malformed credentials.
    """
    body_id = form.get("client_id") or None
    body_secret = form.get("client_secret")
    if "client_assertion" in form or "client_assertion_type" in form:
        if headers_authorization is not None or body_secret is not None:
            # RFC 6749 §2.3: "MUST NOT use more than one authentication method".
            raise InvalidRequest("use either a client assertion or a client secret, not both")
        return _assertion_credentials(form, body_id)
    if headers_authorization is None:
        if body_id is None:
            # RFC 6749 §5.2 invalid_client: "no client authentication included".
            raise InvalidClient("client authentication is required")
        if body_secret is not None:
            return ClientCredentials(body_id, body_secret, "client_secret_post")
        return ClientCredentials(body_id, None, "none")
    basic_id, basic_secret = _parse_basic(headers_authorization)
    if body_secret is not None:
        # RFC 6749 §2.3: "MUST NOT use more than one authentication method in each request".
        raise InvalidRequest("use either HTTP Basic or client_secret in the body, not both")
    if body_id is not None and body_id != basic_id:
        raise InvalidRequest("client_id in the body differs from the one in Authorization")
    return ClientCredentials(basic_id, basic_secret, "client_secret_basic")


def _assertion_credentials(form: Mapping[str, str], body_id: str | None) -> ClientCredentials:
    assertion = form.get("client_assertion", "")
    if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE or not assertion:
        raise InvalidClient(f"client_assertion_type must be {CLIENT_ASSERTION_TYPE}")
    claims = unverified_claims(assertion)
    subject = claims.get("sub") if claims is not None else None
    if not isinstance(subject, str) or not subject:
        raise InvalidClient("the client assertion names no client (sub)")
    if body_id is not None and body_id != subject:
        raise InvalidClient("client_id differs from the client assertion's sub")
    return ClientCredentials(subject, None, "private_key_jwt", assertion)


def authenticate_client(client: Client, method_used: str, presented_secret: str | None) -> None:
    """Return when the request authenticates as `client` by a secret (or as a public
    client), else raise `InvalidClient`. A `private_key_jwt` client is authenticated by
    `ClientAssertionVerifier` instead, and is refused here whatever it sent.

    - A `none` client proves nothing (RFC 6749 §2.1 public client), but must not present
      a secret: one it was never issued means a confused or forged request (policy).
      An empty secret, as some clients send in Basic, counts as none.
    - A secret client must present its secret, compared in constant time against the
      stored digest. policy: either secret method is accepted whatever was registered;
      both send the same secret over the same TLS connection.
    """
    if client.token_endpoint_auth_method == "private_key_jwt":  # noqa: S105 - a method name
        raise InvalidClient("this client authenticates with a signed JWT (private_key_jwt)")
    if method_used == "private_key_jwt":
        raise InvalidClient("this client has no keys; it authenticates with its secret")
    if client.token_endpoint_auth_method == "none":  # noqa: S105 - a method name
        if presented_secret:
            raise InvalidClient("this client is public and has no client secret")
        return
    if method_used not in ("client_secret_basic", "client_secret_post") or not presented_secret:
        raise InvalidClient("client authentication is required")
    if not secrets_equal(token_digest(presented_secret), client.client_secret_digest):
        raise InvalidClient("client authentication failed")


def _parse_basic(authorization: str) -> tuple[str, str]:
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        # RFC 6749 §5.2 invalid_client: "unsupported authentication method".
        raise InvalidClient("client authentication must use the Basic scheme")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("malformed Basic credentials") from None
    raw_id, colon, raw_secret = decoded.partition(":")  # RFC 7617 §2
    if not colon or not raw_id:
        raise InvalidClient("malformed Basic credentials")
    return unquote_plus(raw_id), unquote_plus(raw_secret)
