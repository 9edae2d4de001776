"""Dynamic Client Registration (RFC 7591): client metadata in, a `Client` and its response out.

Owns reading client metadata (shared with Client ID Metadata Documents, `cimd.py`), minting
client ids and secrets, and the RFC 7591 §3.2.1 response body. Pure: it neither stores the
client (`clients.py` does) nor rate-limits `/register` (the web layer does). The plaintext
secret leaves this module once, in the response; the `Client` holds only its digest.

Interop: one unusable redirect URI is dropped, not fatal (Cursor registers a private-use,
an https and a loopback URI at once); unknown members are ignored (RFC 7591 §3.1); the response
echoes every registered member with a concrete `token_endpoint_auth_method` (RFC 7591 §3.2.1;
ChatGPT refuses a response that omits members, and the Python SDK leaves the method to the AS).
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import structlog

from mcp_gate.crypto.digest import new_identifier, new_token, token_digest
from mcp_gate.oauth.errors import InvalidClientMetadata, InvalidRedirectUri
from mcp_gate.oauth.models import AuthMethod, Client
from mcp_gate.oauth.redirect_uris import (
    MAX_REDIRECT_URI_CHARS,
    classify_redirect_uri,
    is_dangerous_redirect_uri,
)

log = structlog.get_logger()

AUTH_METHODS: tuple[AuthMethod, ...] = ("none", "client_secret_post", "client_secret_basic")
# RFC 7591 §2: "If unspecified or omitted, the default is client_secret_basic". The Python
# SDK omits the member and then authenticates with Basic and the issued secret.
DEFAULT_AUTH_METHOD: AuthMethod = "client_secret_basic"
GRANT_TYPES = ("authorization_code", "refresh_token")
RESPONSE_TYPES = ("code",)
APPLICATION_TYPES = ("native", "web")
# policy: MCP clients are native apps by far; the value is kept, never enforced (ref. 27).
DEFAULT_APPLICATION_TYPE = "native"
# policy: a name fits one line of the consent page; longer ones are cut, not refused.
CLIENT_NAME_MAX_CHARS = 100
# policy: bounds on what one registration may make us store.
MAX_REDIRECT_URIS = 20
SCOPE_MAX_CHARS = 1000
CLIENT_ID_BYTES = 16
CLIENT_SECRET_BYTES = 32
# RFC 7591 §3.2.1: 0 means the secret does not expire.
CLIENT_SECRET_NEVER_EXPIRES = 0


@dataclass(frozen=True)
class ClientMetadata:
    """The client metadata members the gate uses, validated (RFC 7591 §2)."""

    redirect_uris: tuple[str, ...]
    # "<scheme>://<host>: <reason>" for each redirect URI dropped: safe to log.
    dropped_redirect_uris: tuple[str, ...]
    # As requested; None when absent. Each registration path decides what it allows.
    token_endpoint_auth_method: str | None
    grant_types: tuple[str, ...]
    response_types: tuple[str, ...]
    application_type: str
    client_name: str
    scope: str
    client_uri: str
    logo_uri: str


def parse_client_metadata(metadata: Mapping[str, object]) -> ClientMetadata:
    """Validate client metadata, or raise `InvalidRedirectUri` / `InvalidClientMetadata`.

    A JSON `null` member counts as absent; members not named here are ignored.
    """
    redirect_uris, dropped = _parse_redirect_uris(metadata.get("redirect_uris"))
    return ClientMetadata(
        redirect_uris=redirect_uris,
        dropped_redirect_uris=dropped,
        token_endpoint_auth_method=_string(metadata, "token_endpoint_auth_method"),
        grant_types=_subset(metadata, "grant_types", GRANT_TYPES, "authorization_code"),
        response_types=_subset(metadata, "response_types", RESPONSE_TYPES, "code"),
        application_type=_application_type(metadata),
        client_name=_client_name(metadata),
        scope=_scope(metadata),
        client_uri=_display_url(metadata, "client_uri"),
        logo_uri=_display_url(metadata, "logo_uri"),
    )


def register_client(
    metadata: Mapping[str, object], *, now: float | None = None
) -> tuple[Client, str | None, dict[str, object]]:
    """Register a client from a `/register` body (RFC 7591 §3.1).

    Returns the client to save, its plaintext secret (None for a public client, `none`),
    and the 201 response body (RFC 7591 §3.2.1). `now` is the Unix time (default: the
    current time); it becomes `client_id_issued_at`.
    """
    if now is None:
        now = time.time()
    parsed = parse_client_metadata(metadata)
    method = parsed.token_endpoint_auth_method or DEFAULT_AUTH_METHOD
    if method not in AUTH_METHODS:
        raise InvalidClientMetadata(
            f"token_endpoint_auth_method {_shown(method)} is not supported; "
            f"use one of {', '.join(AUTH_METHODS)}"
        )
    secret = None if method == "none" else new_token(CLIENT_SECRET_BYTES)
    client = Client(
        client_id=new_identifier(CLIENT_ID_BYTES),
        redirect_uris=parsed.redirect_uris,
        token_endpoint_auth_method=method,
        client_secret_digest=token_digest(secret) if secret is not None else "",
        client_name=parsed.client_name,
        grant_types=parsed.grant_types,
        response_types=parsed.response_types,
        scope=parsed.scope,
        application_type=parsed.application_type,
        client_uri=parsed.client_uri,
        logo_uri=parsed.logo_uri,
        issued_at=int(now),
        source="dcr",
    )
    if parsed.dropped_redirect_uris:
        log.info(
            "client_redirect_uris_dropped",
            client_id=client.client_id,
            dropped=list(parsed.dropped_redirect_uris),
        )
    return client, secret, build_registration_response(client, secret)


def build_registration_response(client: Client, secret: str | None) -> dict[str, object]:
    """The RFC 7591 §3.2.1 body: the client id, the secret if any, and every member kept."""
    body: dict[str, object] = {"client_id": client.client_id}
    if secret is not None:
        body["client_secret"] = secret
        body["client_secret_expires_at"] = CLIENT_SECRET_NEVER_EXPIRES
    body["client_id_issued_at"] = client.issued_at
    body["redirect_uris"] = list(client.redirect_uris)
    body["token_endpoint_auth_method"] = client.token_endpoint_auth_method
    body["grant_types"] = list(client.grant_types)
    body["response_types"] = list(client.response_types)
    body["application_type"] = client.application_type
    optional = {
        "client_name": client.client_name,
        "scope": client.scope,
        "client_uri": client.client_uri,
        "logo_uri": client.logo_uri,
    }
    body.update({name: value for name, value in optional.items() if value})
    return body


def _parse_redirect_uris(value: object) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if value is None:
        raise InvalidRedirectUri("redirect_uris is required")  # MCP: clients register them
    if not isinstance(value, list) or not all(isinstance(uri, str) for uri in value):
        raise InvalidRedirectUri("redirect_uris must be an array of strings")
    uris = cast(list[str], value)
    if not uris:
        raise InvalidRedirectUri("redirect_uris must not be empty")
    if len(uris) > MAX_REDIRECT_URIS:
        raise InvalidRedirectUri(f"at most {MAX_REDIRECT_URIS} redirect_uris are accepted")
    if any(is_dangerous_redirect_uri(uri) for uri in uris):
        raise InvalidRedirectUri(
            "redirect_uris must not use the javascript, data, file or vbscript scheme"
        )
    kept: list[str] = []
    dropped: list[str] = []
    for uri in dict.fromkeys(uris):
        try:
            classify_redirect_uri(uri)
        except InvalidRedirectUri as error:
            dropped.append(f"{_log_safe(uri)}: {error.description}")
        else:
            kept.append(uri)
    if not kept:
        # policy: the first reason is the one a developer needs; the rest go to the log.
        raise InvalidRedirectUri(f"no usable redirect URI ({dropped[0]})")
    return tuple(kept), tuple(dropped)


def _log_safe(uri: str) -> str:
    """Scheme and host only: a query may carry anything, and logs are not for secrets."""
    try:
        parts = urlsplit(uri[:MAX_REDIRECT_URI_CHARS])
        shown = f"{parts.scheme}://{parts.hostname or ''}"
    except ValueError:
        shown = "(malformed)"
    return "".join(ch if " " < ch < "\x7f" else "?" for ch in shown[:80])


def _string(metadata: Mapping[str, object], name: str) -> str | None:
    value = metadata.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidClientMetadata(f"{name} must be a string")
    return value


def _subset(
    metadata: Mapping[str, object], name: str, supported: tuple[str, ...], required: str
) -> tuple[str, ...]:
    """The supported values requested. Others are dropped (RFC 7591 §2: the server MAY
    replace requested values) and the response says which were kept."""
    value = metadata.get(name)
    if value is None:
        return supported
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidClientMetadata(f"{name} must be an array of strings")
    kept = tuple(item for item in dict.fromkeys(cast(list[str], value)) if item in supported)
    if required not in kept:
        raise InvalidClientMetadata(
            f"{name} must include {required!r}; supported: {', '.join(supported)}"
        )
    return kept


def _application_type(metadata: Mapping[str, object]) -> str:
    value = _string(metadata, "application_type") or DEFAULT_APPLICATION_TYPE
    if value not in APPLICATION_TYPES:
        raise InvalidClientMetadata("application_type must be 'native' or 'web'")
    return value


def _client_name(metadata: Mapping[str, object]) -> str:
    value = _string(metadata, "client_name") or ""
    # Controls and format characters (bidi overrides) could disguise the name on consent.
    visible = "".join(_visible(ch) for ch in value)
    return " ".join(visible.split())[:CLIENT_NAME_MAX_CHARS]


def _visible(ch: str) -> str:
    category = unicodedata.category(ch)
    return " " if category == "Cc" else "" if category == "Cf" else ch


def _scope(metadata: Mapping[str, object]) -> str:
    value = _string(metadata, "scope") or ""
    if len(value) > SCOPE_MAX_CHARS:
        raise InvalidClientMetadata(f"scope longer than {SCOPE_MAX_CHARS} characters")
    return " ".join(value.split())  # RFC 6749 §3.3: space-delimited


def _display_url(metadata: Mapping[str, object], name: str) -> str:
    """An https URL the consent page may show, or "" (an unusable one is dropped)."""
    value = metadata.get(name)
    if not isinstance(value, str) or len(value) > MAX_REDIRECT_URI_CHARS:
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    if parts.scheme != "https" or not parts.hostname or "@" in parts.netloc:
        return ""
    if any(not " " < ch < "\x7f" for ch in value):
        return ""
    return value


def _shown(value: str) -> str:
    return repr(value[:40])
