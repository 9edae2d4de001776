"""The `proxy.auth` block: the AS's tokens, storage and keys, and who may log in.

Owns the meaning and checks of the `proxy.auth.*` keys, including mcp-front's `issuer` and
`googleRedirectUri` (we derive both from `baseURL`, so they must agree), and the clear
errors for mcp-front features mcp-gate does not have (Firestore, `kind: bearerToken`).
`idp` (and mcp-front's flat Google keys) belongs to `idp_schema.py`, `clients`
(pre-registered OAuth clients) to `clients_schema.py`, `trustedIssuers` to
`issuers_schema.py`, `resourceServers` to `resource_servers_schema.py`, `redis` to
`redis_schema.py`. Reads no files,
opens no connections.
"""

from __future__ import annotations

import base64
import binascii
import re

from mcp_gate.config.clients_schema import parse_static_clients
from mcp_gate.config.idp_schema import parse_idp
from mcp_gate.config.issuers_schema import parse_trusted_issuers
from mcp_gate.config.model import (
    AuthConfig,
    IdpConfig,
    RedisConfig,
    Secret,
    StorageKind,
)
from mcp_gate.config.redis_schema import parse_redis
from mcp_gate.config.resource_servers_schema import parse_resource_servers
from mcp_gate.config.section import Section
from mcp_gate.config.values import is_http_url, resolve, split_url

CALLBACK_PATH = "/oauth/callback"
ENCRYPTION_KEY_BYTES = 32  # AES-256
MIN_JWT_SECRET_BYTES = 32
_EMAIL = re.compile(r"[^@\s]{1,64}@[a-z0-9.-]{1,253}")
_DOMAIN = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")

AUTH_KEYS = (
    "kind", "idp", "allowedDomains", "allowedEmails", "allowedOrigins", "tokenTtl",
    "refreshTokenTtl", "storage", "redis", "jwtSecret", "encryptionKey", "clients",
    "trustedIssuers", "resourceServers", "identityKeys", "revocationCheckInterval",
    "revalidateInterval",
)  # fmt: skip
# mcp-front's keys with a meaning for us: the Google client, or values we derive and check.
AUTH_MCP_FRONT_KEYS = ("googleClientId", "googleClientSecret", "googleRedirectUri", "issuer")
# policy: accepted and ignored; mcp-front reads gcpProject only for Firestore.
AUTH_IGNORED = ("gcpProject",)
_NO_FIRESTORE = "mcp-gate has no Firestore storage; use storage: redis with redis.url"
AUTH_UNSUPPORTED = {
    "firestoreDatabase": _NO_FIRESTORE,
    "firestoreCollection": _NO_FIRESTORE,
    "tokens": "mcp-front's kind: bearerToken is not supported; see proxy.auth.kind",
}


def parse_auth(proxy: Section, base_url: str) -> AuthConfig | None:
    section = proxy.child(
        "auth",
        AUTH_KEYS + AUTH_MCP_FRONT_KEYS,
        ignored=AUTH_IGNORED,
        unsupported=AUTH_UNSUPPORTED,
    )
    ctx = section.ctx
    if section.has("kind") and section.data["kind"] == "bearerToken":
        ctx.error(
            section.at("kind"),
            "mcp-front's kind: bearerToken is not supported; remove proxy.auth and give each "
            "server serviceAuths: [{type: bearer, tokens: [...]}]",
        )
        return None
    section.choice("kind", ("oauth",), "oauth")
    idp = parse_idp(section, base_url)
    defaults = AuthConfig(idp=idp)
    storage = section.text("storage", "memory")
    if storage == "firestore":
        ctx.error(section.at("storage"), _NO_FIRESTORE)
    elif storage not in ("memory", "redis"):
        ctx.error(section.at("storage"), f"must be one of memory, redis; got {storage!r}")
    storage_kind: StorageKind = "redis" if storage == "redis" else "memory"
    redis = _redis(section, storage_kind)
    jwt_secret = section.secret("jwtSecret")
    if jwt_secret is not None and len(jwt_secret.reveal().encode()) < MIN_JWT_SECRET_BYTES:
        ctx.error(section.at("jwtSecret"), f"must be at least {MIN_JWT_SECRET_BYTES} bytes long")
    keys = _keys(section, "encryptionKey")
    if storage_kind == "redis":
        # policy: with memory storage the app may make per-process keys; Redis data outlives
        # the process and is shared by replicas, so its keys must be configured.
        section.need("jwtSecret", "storage: redis keeps tokens across restarts and replicas")
        section.need("encryptionKey", "storage: redis keeps user tokens encrypted at rest")
    _check_derived(section, base_url)
    clients = parse_static_clients(section)
    return AuthConfig(
        idp=idp,
        allowed_domains=_domains(section, idp),
        allowed_emails=_emails(section),
        allowed_origins=_origins(section),
        token_ttl_seconds=section.duration("tokenTtl", defaults.token_ttl_seconds),
        refresh_token_ttl_seconds=section.duration(
            "refreshTokenTtl", defaults.refresh_token_ttl_seconds
        ),
        storage=storage_kind,
        redis=redis,
        jwt_secret=jwt_secret,
        encryption_keys=keys,
        clients=clients,
        trusted_issuers=parse_trusted_issuers(section),
        resource_servers=parse_resource_servers(section, base_url, clients),
        identity_keys=_keys(section, "identityKeys"),
        revocation_check_seconds=section.duration(
            "revocationCheckInterval", defaults.revocation_check_seconds
        ),
        revalidate_interval_seconds=section.duration(
            "revalidateInterval", defaults.revalidate_interval_seconds
        ),
    )


def _check_derived(auth: Section, base_url: str) -> None:
    """mcp-front's `issuer` and `googleRedirectUri`: derived by us; a different value is wrong."""
    if not base_url:
        return
    issuer = auth.text("issuer").rstrip("/")
    origin = f"{split_url(base_url).scheme}://{split_url(base_url).netloc}"
    if auth.has("issuer") and issuer not in (origin, base_url):
        auth.ctx.error(
            auth.at("issuer"),
            f"mcp-gate derives the issuer from baseURL ({origin}); remove issuer or make it equal",
        )
    callback = base_url + CALLBACK_PATH
    if auth.has("googleRedirectUri") and auth.text("googleRedirectUri") != callback:
        auth.ctx.error(
            auth.at("googleRedirectUri"),
            f"mcp-gate's callback is {callback} (derived from baseURL): register that URI "
            "with Google, and remove this key or make it equal",
        )


def _redis(auth: Section, storage: StorageKind) -> RedisConfig | None:
    if storage != "redis":
        if auth.has("redis"):
            auth.ctx.error(auth.at("redis"), "only used with storage: redis")
        return None
    return parse_redis(auth)


def _keys(auth: Section, key: str) -> tuple[Secret, ...]:
    """`encryptionKey` or `identityKeys`: one key, or a list (rotation: the first encrypts
    or signs, all decrypt or are published).

    Each key is 32 bytes given as base64 (standard or urlsafe) or as a 32-byte raw string;
    it is kept as given: `crypto.aead.decode_key` reads it with the same rules.
    """
    raw = auth.data.get(key)
    if raw is None:
        return ()
    path = auth.at(key)
    items = auth.items(key) if isinstance(raw, list) else [(path, raw)]
    if isinstance(raw, list) and not raw:
        auth.ctx.error(path, "the list is empty")
    keys = []
    for item_path, item in items:
        text = resolve(auth.ctx, item_path, item)
        if not isinstance(text, str):
            continue
        if decode_encryption_key(text) is None:
            auth.ctx.error(
                item_path,
                "must be 32 bytes: base64 of 32 bytes (openssl rand -base64 32) or 32 characters",
            )
        else:
            keys.append(Secret(text))
    return tuple(keys)


def decode_encryption_key(text: str) -> bytes | None:
    """32 key bytes from base64 (standard or urlsafe, padding optional) or 32 raw bytes."""
    padded = text.strip() + "=" * (-len(text.strip()) % 4)
    try:
        key = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) == ENCRYPTION_KEY_BYTES:
        return key
    raw = text.encode()
    return raw if len(raw) == ENCRYPTION_KEY_BYTES else None


def _domains(auth: Section, idp: IdpConfig) -> tuple[str, ...]:
    domains = []
    for path, item in auth.items("allowedDomains"):
        text = resolve(auth.ctx, path, item)
        if not isinstance(text, str):
            continue
        domain = text.strip().lower().removeprefix("@")
        if not _DOMAIN.fullmatch(domain):
            auth.ctx.error(path, f"expected a domain like example.com, got {text!r}")
        domains.append(domain)
    # policy: fail closed; without domains any account of the provider could log in.
    provider = idp.provider
    if provider == "github" and (idp.allowed_orgs or idp.allowed_teams):
        return tuple(domains)  # membership decides; domains, when listed, narrow it
    if provider == "github" and not auth.has("allowedDomains"):
        auth.need(
            "allowedDomains",
            "the email domains allowed to log in, or idp.allowedOrgs / idp.allowedTeams: "
            "without one any GitHub account could log in",
        )
    elif provider != "dev" and not auth.has("allowedDomains") and not auth.has("allowedEmails"):
        auth.need(
            "allowedDomains",
            "the email domains allowed to log in, like [example.com] (or allowedEmails)",
        )
    elif (
        provider != "dev"
        and auth.data.get("allowedDomains") == []
        and not auth.has("allowedEmails")
    ):
        auth.ctx.error(auth.at("allowedDomains"), "at least one domain is required")
    return tuple(domains)


def _emails(auth: Section) -> tuple[str, ...]:
    emails = []
    for path, item in auth.items("allowedEmails"):
        text = resolve(auth.ctx, path, item)
        if not isinstance(text, str):
            continue
        email = text.strip().lower()
        if not _EMAIL.fullmatch(email):
            auth.ctx.error(path, f"expected an email address like partner@gmail.com, got {text!r}")
        emails.append(email)
    return tuple(emails)


def _origins(auth: Section) -> tuple[str, ...]:
    origins = []
    for path, item in auth.items("allowedOrigins"):
        text = resolve(auth.ctx, path, item)
        if not isinstance(text, str):
            continue
        origin = text.rstrip("/")
        parts = split_url(origin)
        if not is_http_url(origin) or parts.path or parts.query or parts.fragment:
            auth.ctx.error(path, f"expected an origin like https://claude.ai, got {text!r}")
        origins.append(origin)
    return tuple(origins)
