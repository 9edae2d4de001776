"""`proxy.auth.clients`: OAuth clients registered in the config instead of by DCR or CIMD.

Owns the meaning and checks of `proxy.auth.clients[*]` (reference §2.5 item 29, §5 pitfall
8: VS Code asks its user for a client id when it cannot register). A client id is plain
text an operator picks; URL-shaped ids are Client ID Metadata Documents and are fetched,
never configured. Redirect URIs follow the same rules as registered ones
(`oauth/redirect_uris.py`, pure and cheap to import). Reads no files; never puts a
client secret in a message.
"""

from __future__ import annotations

import re
import unicodedata

from mcp_gate.config.model import Secret, StaticClient
from mcp_gate.config.section import Section
from mcp_gate.config.values import resolve
from mcp_gate.oauth.errors import InvalidRedirectUri
from mcp_gate.oauth.redirect_uris import classify_redirect_uri

CLIENT_KEYS = ("clientId", "clientName", "redirectUris", "clientSecret")
# policy: ids of unreserved characters (RFC 3986 §2.3) read the same raw and
# form-urlencoded, in a query, a form body and HTTP Basic (RFC 6749 §2.3.1), so every
# client sends them alike. 128 is the longest id DCR accepts too.
MAX_CLIENT_ID_CHARS = 128
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]+")
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")  # RFC 3986 §3.1
# policy: the same bound DCR applies to a name shown on the consent page.
MAX_CLIENT_NAME_CHARS = 100
# policy: secrets of unreserved characters, for the same reason as ids (a `+` or `%`
# would read differently in Basic from the Python and the TypeScript SDK), and long
# enough to be unguessable: `openssl rand -hex 32` gives 64.
MIN_CLIENT_SECRET_CHARS = 32


def parse_static_clients(auth: Section) -> tuple[StaticClient, ...]:
    clients = []
    first_path_of: dict[str, str] = {}
    for path, raw in auth.items("clients"):
        section = Section(auth.ctx, path, raw, CLIENT_KEYS)
        before = len(section.ctx.problems)
        section.need("clientId", "the id the client sends, like vscode")
        section.need("clientName", "the name the consent page shows, like Visual Studio Code")
        section.need("redirectUris", "where the client may receive its authorization code")
        client_id = _client_id(section)
        if client_id is not None and client_id in first_path_of:
            section.ctx.error(
                section.at("clientId"),
                f"duplicate client id; {first_path_of[client_id]} already uses it",
            )
        elif client_id is not None:
            first_path_of[client_id] = section.at("clientId")
        client = StaticClient(
            client_id=client_id or "",
            client_name=_client_name(section) or "",
            redirect_uris=_redirect_uris(section),
            client_secret=_client_secret(section),
        )
        if len(section.ctx.problems) == before:
            clients.append(client)
    return tuple(clients)


def _text(section: Section, key: str) -> str | None:
    """The key's text; None when absent or unreadable (that problem is already recorded)."""
    if not section.has(key):
        return None
    before = len(section.ctx.problems)
    text = section.text(key)
    return text if len(section.ctx.problems) == before else None


def _client_id(section: Section) -> str | None:
    client_id = _text(section, "clientId")
    if client_id is None:
        return None
    if _URL_SCHEME.match(client_id):
        section.ctx.error(
            section.at("clientId"),
            "must not be a URL: URL client ids are Client ID Metadata Documents, which the "
            "gate fetches itself; pick a plain id like vscode",
        )
        return None
    if len(client_id) > MAX_CLIENT_ID_CHARS or not _UNRESERVED.fullmatch(client_id):
        section.ctx.error(
            section.at("clientId"),
            f"must be 1 to {MAX_CLIENT_ID_CHARS} characters among A-Z a-z 0-9 - . _ ~",
        )
        return None
    return client_id


def _client_name(section: Section) -> str | None:
    name = _text(section, "clientName")
    if name is None:
        return None
    if not name.strip():
        section.ctx.error(section.at("clientName"), "must not be empty")
    elif len(name) > MAX_CLIENT_NAME_CHARS:
        section.ctx.error(
            section.at("clientName"), f"must be at most {MAX_CLIENT_NAME_CHARS} characters"
        )
    elif any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        # policy: control and format characters (bidi overrides) could disguise the name.
        section.ctx.error(section.at("clientName"), "must not contain control characters")
    else:
        return name
    return None


def _redirect_uris(section: Section) -> tuple[str, ...]:
    items = section.items("redirectUris")
    if section.has("redirectUris") and isinstance(section.data["redirectUris"], list) and not items:
        section.ctx.error(section.at("redirectUris"), "the list is empty")
    uris: dict[str, str] = {}
    for path, raw in items:
        uri = resolve(section.ctx, path, raw)
        if not isinstance(uri, str):
            continue
        try:
            classify_redirect_uri(uri)
        except InvalidRedirectUri as error:
            section.ctx.error(path, error.description)
            continue
        if uri in uris:
            section.ctx.error(path, f"repeats {uris[uri]}")
            continue
        uris[uri] = path
    return tuple(uris)


def _client_secret(section: Section) -> Secret | None:
    secret = section.secret("clientSecret")
    if secret is None:
        return None
    value = secret.reveal()
    if len(value) < MIN_CLIENT_SECRET_CHARS or not _UNRESERVED.fullmatch(value):
        section.ctx.error(
            section.at("clientSecret"),
            f"must be at least {MIN_CLIENT_SECRET_CHARS} characters among A-Z a-z 0-9 - . _ ~, "
            "like the output of openssl rand -hex 32",
        )
        return None
    return secret
