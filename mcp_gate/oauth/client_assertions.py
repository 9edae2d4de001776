"""`private_key_jwt`: a client authenticating with a JWT it signed (RFC 7523 §2.2, §3).

Owns the rules for a client assertion at the token endpoint, beyond the checks every
external JWT gets (`external_jwt.py`): `iss` and `sub` are the client's id (§3 items 1-2),
`aud` names this AS (§3 item 3: its issuer or its token endpoint, as RFC 7523 and the MCP
client-credentials extension's SDKs send it), `exp` is near (§3 item 4; policy: at most
`MAX_ASSERTION_LIFETIME_SECONDS` away), and `jti` is used once (§3 item 7, kept in the
store until the assertion expires, so every replica refuses a replay). The client's keys
come from its configured `jwks` or `jwksUrl` through a `KeyLookup`. Every refusal is
`InvalidClient` (RFC 6749 §5.2) with the check named; nothing of the assertion is logged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from mcp_gate.crypto.digest import token_digest
from mcp_gate.oauth.errors import InvalidClient
from mcp_gate.oauth.external_jwt import (
    JWT_LEEWAY_SECONDS,
    JwtRejected,
    KeyLookup,
    KeysUnavailableError,
    audiences,
    verify_lifetime,
    verify_signature,
)
from mcp_gate.store.protocols import Store

# RFC 7523 §2.2: the value of `client_assertion_type`.
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# policy: the SDKs sign assertions for 5 minutes; 10 bounds how long a jti is remembered.
MAX_ASSERTION_LIFETIME_SECONDS = 600.0
JTI_KIND = "client_jti"


class ClientAssertionVerifier:
    """Checks the assertions of the clients that have keys (`auth.clients[].jwks*`)."""

    def __init__(
        self,
        keys: Mapping[str, KeyLookup],
        store: Store,
        *,
        audiences: frozenset[str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = dict(keys)
        self._store = store
        self._audiences = audiences
        self._clock = clock

    def has_keys(self, client_id: str) -> bool:
        return client_id in self._keys

    async def verify(self, client_id: str, assertion: str) -> None:
        """None when `assertion` authenticates `client_id`, else `InvalidClient`."""
        lookup = self._keys.get(client_id)
        if lookup is None:
            raise InvalidClient("this client has no keys for private_key_jwt")
        try:
            claims = await verify_signature(assertion, lookup)
            now = self._clock()
            exp = verify_lifetime(
                claims, now=now, max_lifetime_seconds=MAX_ASSERTION_LIFETIME_SECONDS
            )
        except JwtRejected as exc:
            raise InvalidClient(f"client assertion refused: {exc.reason}") from None
        except KeysUnavailableError:
            raise InvalidClient("the client's keys (jwksUrl) could not be fetched") from None
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            raise InvalidClient("client assertion refused: iss and sub must be the client id")
        if not self._audiences.intersection(audiences(claims)):
            raise InvalidClient(
                "client assertion refused: aud must be this server's issuer or token endpoint"
            )
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise InvalidClient("client assertion refused: jti is required (single use)")
        ttl = max(exp - now + JWT_LEEWAY_SECONDS, 1.0)
        first_use = await self._store.put_new(
            JTI_KIND, token_digest(f"{client_id}\n{jti}"), b"1", ttl_seconds=ttl
        )
        if not first_use:
            raise InvalidClient("client assertion refused: its jti was already used")
