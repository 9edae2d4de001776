"""Browser logins for the gate's own pages (/my/tokens): what is kept while the user is at the IdP.

The same IdP login as the OAuth flow (idp/; its own state, nonce and PKCE), started not by
an MCP client but by a browser that has no login session. The record is kept server-side
under a digest of the IdP `state`, single-use, for BROWSER_LOGIN_TTL_SECONDS (MCP
security best practices §Confused Deputy Problem), and holds a CSRF token sealed against the
starting browser's CSRF cookie (cookies.py), so the answer is accepted only in the browser that
asked: a login link completed by someone else and handed to a victim cannot sign the victim in as
them (RFC 6749 §10.12, login CSRF). `/oauth/callback` recognises these records by their state.
Stores and takes; knows nothing of HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mcp_gate.crypto.digest import token_digest
from mcp_gate.store.protocols import Store
from mcp_gate.store.records import from_json, to_json

BROWSER_LOGIN_KIND = "browser_login"
# policy: as long as an MCP client's login may take (oauth/grants.py PENDING_TTL_SECONDS).
BROWSER_LOGIN_TTL_SECONDS = 600.0


@dataclass(frozen=True)
class BrowserLogin:
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)
    # The gate path to land on after the login (a constant of the gate, never user input).
    return_to: str
    # A CSRF token (cookies.py) bound to the starting browser and to this login's state.
    browser_binding: str = field(repr=False)


class BrowserLoginStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def save(self, state: str, login: BrowserLogin) -> None:
        await self._store.put(
            BROWSER_LOGIN_KIND,
            token_digest(state),
            to_json(login),
            ttl_seconds=BROWSER_LOGIN_TTL_SECONDS,
        )

    async def take(self, state: str) -> BrowserLogin | None:
        """The login this state names, once; None if unknown, expired or already used."""
        data = await self._store.take(BROWSER_LOGIN_KIND, token_digest(state))
        return from_json(BrowserLogin, data)
