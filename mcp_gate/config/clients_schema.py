"""`proxy.auth.clients`: OAuth clients registered in the config instead of by DCR or CIMD.

Owns the meaning and checks of `proxy.auth.clients[*]` (MCP authorization §Client
Registration: pre-registration; VS Code asks its user for a client id when it cannot
register), machines among them: `grantTypes: [client_credentials]` (RFC 6749 §4.4, the MCP
client-credentials extension), with a secret or public keys for `private_key_jwt` (RFC
7523 §2.2: `jwks` inline, or `jwksUrl`). A client id is plain
text an operator picks; URL-shaped ids are Client ID Metadata Documents and are fetched,
never configured. Redirect URIs follow the same rules as registered ones
(`oauth/redirect_uris.py`, pure and cheap to import). Reads no files; never puts a
client secret in a message.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from mcp_gate.config.model import Secret, StaticClient
from mcp_gate.config.section import Section
from mcp_gate.config.values import resolve
from mcp_gate.loopback import is_tls_or_loopback_url
from mcp_gate.oauth.errors import InvalidRedirectUri
from mcp_gate.oauth.redirect_uris import classify_redirect_uri

CLIENT_KEYS = (
    "clientId",
    "clientName",
    "redirectUris",
    "clientSecret",
    "grantTypes",
    "jwks",
    "jwksUrl",
)
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
DEFAULT_GRANT_TYPES = ("authorization_code", "refresh_token")
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
        grant_types = _grant_types(section)
        if "authorization_code" in grant_types:
            section.need("redirectUris", "where the client may receive its authorization code")
        else:
            section.forbid(("redirectUris",), "only with grantTypes authorization_code")
        client_id = parse_client_id(section)
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
            client_secret=parse_client_secret(section),
            grant_types=grant_types,
            jwks=_jwks(section),
            jwks_url=_jwks_url(section),
        )
        _check_authentication(section, client)
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


def parse_client_id(section: Section) -> str | None:
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


def parse_client_secret(section: Section) -> Secret | None:
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


def _grant_types(section: Section) -> tuple[str, ...]:
    if not section.has("grantTypes"):
        return DEFAULT_GRANT_TYPES
    grant_types = []
    for path, raw in section.items("grantTypes"):
        grant_type = resolve(section.ctx, path, raw)
        if not isinstance(grant_type, str):
            continue
        if grant_type not in GRANT_TYPES:
            section.ctx.error(path, f"must be one of {', '.join(GRANT_TYPES)}; got {grant_type!r}")
        elif grant_type not in grant_types:
            grant_types.append(grant_type)
    if not grant_types and isinstance(section.data["grantTypes"], list):
        section.ctx.error(section.at("grantTypes"), "the list is empty")
    if "refresh_token" in grant_types and "authorization_code" not in grant_types:
        # RFC 6749 §4.4.3: client_credentials issues no refresh token to use.
        section.ctx.error(section.at("grantTypes"), "refresh_token needs authorization_code")
    return tuple(grant_types)


def _jwks(section: Section) -> Mapping[str, object] | None:
    """An inline JWK Set of the client's public keys (RFC 7517 §5), for private_key_jwt.

    Checked for shape here (`crypto` is not imported by the loader); the keys themselves
    are read when the gate starts (`key_sources.py`).
    """
    raw = section.data.get("jwks")
    if raw is None:
        return None
    path = section.at("jwks")
    keys = raw.get("keys") if isinstance(raw, Mapping) else None
    if not isinstance(raw, Mapping) or not isinstance(keys, list) or not keys:
        section.ctx.error(path, "expected a JWK Set: a mapping with a non-empty keys list")
        return None
    for index, key in enumerate(keys):
        problem = _jwk_problem(key)
        if problem:
            section.ctx.error(f"{path}.keys[{index}]", problem)
            return None
    return {str(name): value for name, value in raw.items()}


def _jwk_problem(key: object) -> str | None:
    """What is wrong with one public signature JWK (RFC 7518 §6.2.1, §6.3.1), if anything."""
    if not isinstance(key, Mapping):
        return "expected a JWK (a mapping)"
    if "d" in key:
        # policy: the gate verifies; a private key in its config is a leak waiting.
        return "holds a private key (d); give only the public key"
    members = {"RSA": ("n", "e"), "EC": ("crv", "x", "y")}.get(str(key.get("kty")))
    if members is None:
        return "kty must be RSA or EC"
    if key.get("kty") == "EC" and key.get("crv") != "P-256":
        return "an EC key must be on crv P-256 (ES256)"
    missing = [name for name in members if not isinstance(key.get(name), str)]
    return f"missing {', '.join(missing)}" if missing else None


def _jwks_url(section: Section) -> str:
    url = section.text("jwksUrl")
    if url and not is_tls_or_loopback_url(url):
        # policy: the keys that authenticate a client come over TLS only.
        section.ctx.error(section.at("jwksUrl"), "must be an https URL (http only on loopback)")
    return url


def _check_authentication(section: Section, client: StaticClient) -> None:
    """One way to authenticate (RFC 6749 §2.3), and a confidential client for
    client_credentials (RFC 6749 §4.4: MUST only be used by confidential clients)."""
    if section.has("jwks") and section.has("jwksUrl"):
        section.ctx.error(section.at("jwksUrl"), "give either jwks or jwksUrl, not both")
    if client.client_secret is not None and client.has_keys:
        section.ctx.error(
            section.at("clientSecret"),
            "give either a clientSecret or keys (jwks, jwksUrl) for private_key_jwt, not both",
        )
    if (
        "client_credentials" in client.grant_types
        and client.client_secret is None
        and not (section.has("jwks") or section.has("jwksUrl"))
    ):
        section.ctx.error(
            section.at("grantTypes"),
            "client_credentials needs a confidential client: a clientSecret, or jwks / jwksUrl",
        )
