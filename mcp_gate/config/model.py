"""The typed, validated gate configuration: frozen dataclasses mirroring the YAML keys.

Owns the shape of a loaded config and nothing else: parsing, `$env` expansion and error
collection live in `load.py`. Field names are the snake_case of mcp-front's camelCase keys
(`baseURL` → `base_url`); durations are seconds (float), sizes are bytes (int).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

TransportType = Literal["stdio", "sse", "streamable-http"]
ProviderKind = Literal["google", "oidc", "github", "dev"]
StorageKind = Literal["memory", "redis"]

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
# policy: Prometheus's usual exporter port range, on loopback: metrics name servers and
# traffic volumes, so only the host (or, by choice, the cluster) may read them.
DEFAULT_METRICS_ADDR = "127.0.0.1:9090"


def split_addr(addr: str) -> tuple[str, int]:
    """`host:port` (`:8080` and `[::1]:8080` too) as (host, port); no host is every interface."""
    host, _, port = addr.rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104


# policy: four times the request limit, for tool results that carry a file or an image;
# the official Python SDK client refuses SSE events over 1 MiB by default.
DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024


class Secret:
    """A configured secret: compared and used, never printed.

    `str()` and `repr()` redact; `reveal()` is the one way to the value, so every place a
    secret leaves the process is greppable.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class UserTokenTemplate:
    """`{$userToken: "Bearer {{token}}"}`: filled with the calling user's stored token."""

    template: str

    def render(self, token: str) -> str:
        return self.template.replace("{{token}}", token)


# A value that may need the calling user's token: a plain string, or a template.
Templated = str | Secret | UserTokenTemplate


@dataclass(frozen=True)
class SessionsConfig:
    timeout_seconds: float = 300.0
    cleanup_interval_seconds: float = 60.0
    max_per_user: int = 10
    # policy: callers of a server without authentication are all one anonymous principal;
    # their sessions count per client address, against this larger cap (clients such as
    # the MCP conformance suite leave sessions open; one address can be many people).
    max_per_address: int = 100


# policy: a replica that stops renewing its lease is taken for gone after this long: long
# enough to ride out a Redis hiccup or a GC pause, short enough that clients of a hung
# replica re-initialize within seconds.
DEFAULT_LEASE_TTL_SECONDS = 15.0


@dataclass(frozen=True)
class ClusterConfig:
    """`proxy.cluster`: how the other replicas reach this one (docs/deploy.md §Scale-out).

    `advertise_url` names this replica's internal listener as the others reach it,
    `internal_addr` where that listener binds; worker i of `proxy.workers` adds i to both
    ports."""

    advertise_url: str
    internal_addr: str
    lease_ttl_seconds: float = DEFAULT_LEASE_TTL_SECONDS

    def for_worker(self, index: int) -> ClusterConfig:
        """Worker `index`'s addresses: both ports moved up by `index`."""
        parts = urlsplit(self.advertise_url)
        port = (parts.port or 80) + index
        url = parts._replace(netloc=f"{parts.hostname}:{port}").geturl()
        if parts.hostname and ":" in parts.hostname:
            url = parts._replace(netloc=f"[{parts.hostname}]:{port}").geturl()
        host, internal_port = split_addr(self.internal_addr)
        bind_host = f"[{host}]" if ":" in host else host
        return ClusterConfig(url, f"{bind_host}:{internal_port + index}", self.lease_ttl_seconds)


@dataclass(frozen=True)
class RateLimit:
    """`{requests: 600, per: 1m}`: at most `requests` in `per_seconds`."""

    requests: int
    per_seconds: float


@dataclass(frozen=True)
class LimitsConfig:
    """`proxy.limits`; a limit that is None is off (rate_limits.py)."""

    per_user: RateLimit | None = None
    # policy: generous, since hosted MCP clients share egress addresses; a flood still stops.
    token_per_address: RateLimit | None = RateLimit(1200, 60.0)
    authorize_per_address: RateLimit | None = RateLimit(300, 60.0)


@dataclass(frozen=True)
class GoogleGroupsConfig:
    """`idp.googleGroups`: read Workspace groups through a delegated service account."""

    admin_email: str
    # The key file's JSON (`serviceAccountKey`), or where the file is (`serviceAccountKeyFile`).
    service_account_key: Secret | None = None
    service_account_key_file: str = ""
    directory_url: str = "https://admin.googleapis.com"


@dataclass(frozen=True)
class IdpConfig:
    provider: ProviderKind
    client_id: str = ""
    client_secret: Secret | None = None
    # Google defaults to https://accounts.google.com/.well-known/openid-configuration.
    discovery_url: str | None = None
    # Extra scopes beyond `openid email profile`.
    scopes: tuple[str, ...] = ()
    # The ID-token claim holding the user's address (oidc): `email`, or Entra's `upn`.
    email_claim: str = "email"
    # The ID-token claim holding the user's groups (oidc): `groups`, or an Auth0 namespaced
    # claim; "" reads none.
    groups_claim: str = ""
    # google: groups from the Admin SDK Directory API.
    google_groups: GoogleGroupsConfig | None = None
    # github: the web and API roots (GitHub Enterprise Server: https://host, https://host/api/v3)
    # and who may log in: members of any of these orgs or teams ("org/team-slug").
    github_url: str = "https://github.com"
    github_api_url: str = "https://api.github.com"
    allowed_orgs: tuple[str, ...] = ()
    allowed_teams: tuple[str, ...] = ()


@dataclass(frozen=True)
class RedisTls:
    """TLS to Redis (`rediss://`, or `tls.enabled` with sentinels): whom to trust, and
    the client certificate when the server asks for one."""

    ca_file: str | None = None  # None: the system's trust store
    cert_file: str | None = None
    key_file: str | None = None
    insecure_skip_verify: bool = False


@dataclass(frozen=True)
class RedisConfig:
    """Where the store's Redis is: one server or a cluster's seed at `url`, or a primary
    found through `sentinels`; with ACL credentials and TLS as configured."""

    url: Secret  # Secret("") with sentinels
    key_prefix: str = "mcp-gate:"
    cluster: bool = False
    sentinels: tuple[tuple[str, int], ...] = ()
    master_name: str = ""
    db: int = 0  # with sentinels; a url carries its own
    username: str = ""
    password: Secret | None = None
    sentinel_username: str = ""
    sentinel_password: Secret | None = None
    tls: RedisTls | None = None  # None: plain TCP


@dataclass(frozen=True)
class StaticClient:
    """A pre-registered OAuth client of the gate (`proxy.auth.clients[*]`).

    Without a secret or keys it is public (`token_endpoint_auth_method: none`); with a
    secret it authenticates at the token endpoint by `client_secret_basic` or
    `client_secret_post`; with keys (`jwks`, a JWK Set document, or `jwks_url`) by
    `private_key_jwt` (RFC 7523 §2.2). `client_credentials` in `grant_types` makes it a
    machine that gets tokens without a user (RFC 6749 §4.4).
    """

    client_id: str
    client_name: str
    redirect_uris: tuple[str, ...]
    client_secret: Secret | None = None
    grant_types: tuple[str, ...] = ("authorization_code", "refresh_token")
    jwks: Mapping[str, object] | None = None
    jwks_url: str = ""

    @property
    def has_keys(self) -> bool:
        return self.jwks is not None or bool(self.jwks_url)


@dataclass(frozen=True)
class TrustedIssuer:
    """`proxy.auth.trustedIssuers[*]`: a workload identity issuer whose JWTs the gate
    exchanges for its own tokens (RFC 8693). `principal` is a template of `{{claim}}`s
    (`github:{{repository}}`); `require` maps a claim to the values it may have."""

    issuer: str
    audiences: tuple[str, ...]
    principal: str
    jwks_url: str = ""  # "" means: the `jwks_uri` of the issuer's discovery document
    require: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class ResourceServer:
    """`proxy.auth.resourceServers[*]`: an MCP server elsewhere that uses the gate as its
    authorization server, and the credentials of its RFC 7662 introspection calls."""

    resource: str  # canonical (oauth/resources.py)
    client_id: str
    client_secret: Secret


@dataclass(frozen=True)
class AuthConfig:
    idp: IdpConfig
    kind: Literal["oauth"] = "oauth"
    allowed_domains: tuple[str, ...] = ()
    # People admitted at login whatever their domain (lower-cased addresses).
    allowed_emails: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    token_ttl_seconds: float = 3600.0
    refresh_token_ttl_seconds: float = 720 * 3600.0
    storage: StorageKind = "memory"
    redis: RedisConfig | None = None
    jwt_secret: Secret | None = None
    # Decoded AES-256 keys: the first encrypts, all decrypt (rotation).
    encryption_keys: tuple[Secret, ...] = ()
    # Pre-registered clients, beside DCR and Client ID Metadata Documents.
    clients: tuple[StaticClient, ...] = ()
    # Issuers of workload JWTs exchanged at /token (RFC 8693).
    trusted_issuers: tuple[TrustedIssuer, ...] = ()
    # MCP servers elsewhere that the gate is the authorization server of.
    resource_servers: tuple[ResourceServer, ...] = ()
    # Seeds of the identity JWTs' P-256 keys: the first signs, all are published.
    identity_keys: tuple[Secret, ...] = ()
    # How long a replica trusts that a grant it checked is not revoked (oauth/bearer.py).
    revocation_check_seconds: float = 5.0
    # At a refresh, re-check the account at the IdP at most this often (revalidation.py).
    revalidate_interval_seconds: float = 3600.0


IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class AuditConfig:
    """`proxy.audit`: where the audit log's JSON lines go (`stdout`, or a file path), and
    whether tool-call arguments are in them."""

    sink: str = "stdout"
    include_arguments: bool = False


@dataclass(frozen=True)
class ProxyConfig:
    base_url: str
    name: str = "mcp-gate"
    addr: str = "127.0.0.1:8080"
    sessions: SessionsConfig = field(default_factory=SessionsConfig)
    auth: AuthConfig | None = None
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # Where `/metrics` listens; "" serves no metrics at all.
    metrics_addr: str = DEFAULT_METRICS_ADDR
    # The largest message the gate reads from a remote backend: one SSE event it parses,
    # or a whole non-SSE response body.
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    # policy: long enough for a typical tool call to finish at a stop; well under
    # Kubernetes' default terminationGracePeriodSeconds (30 s; the Helm chart gives 60 s).
    shutdown_grace_seconds: float = 15.0
    # Processes sharing `addr` (SO_REUSEPORT), each a replica of its own (serve.py).
    workers: int = 1
    # Set when replicas relay MCP sessions to each other (docs/deploy.md §Scale-out).
    cluster: ClusterConfig | None = None
    # Peers whose `X-Forwarded-For` names the client address (policy/client_address.py).
    trusted_proxies: tuple[IpNetwork, ...] = ()
    # None: no audit log.
    audit: AuditConfig | None = None

    @property
    def base_path(self) -> str:
        """The path part of `baseURL` without a trailing slash ("" at the root)."""
        return urlsplit(self.base_url).path.rstrip("/")

    @property
    def issuer(self) -> str:
        """OAuth issuer: `baseURL`'s scheme and host, no path, no trailing slash."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def host(self) -> str:
        return split_addr(self.addr)[0]

    @property
    def port(self) -> int:
        return split_addr(self.addr)[1]


@dataclass(frozen=True)
class ServiceAuth:
    """Static machine credentials for one server (`serviceAuths`).

    `name` names the principal of its credentials: `service:<name>` for the first (or only)
    one, `service:<name>#<n>` for the n-th token of several, so two tokens never share MCP
    sessions and adding a token renames none before it. Unnamed, the entry takes
    `default_service_auth_name` (the loader fills it in).
    """

    type: Literal["bearer", "basic"]
    tokens: tuple[Secret, ...] = ()
    username: str = ""
    password: Secret | None = None
    name: str = ""

    def principal_name(self, server: str, entry_index: int, credential_index: int) -> str:
        name = self.name or default_service_auth_name(server, entry_index)
        return name if credential_index == 0 else f"{name}#{credential_index + 1}"


def default_service_auth_name(server: str, entry_index: int) -> str:
    """The server's name for its first `serviceAuths` entry, `<server>-<n>` for the n-th."""
    return server if entry_index == 0 else f"{server}-{entry_index + 1}"


@dataclass(frozen=True)
class ToolFilter:
    mode: Literal["allow", "block"]
    tools: tuple[str, ...]

    def allows(self, tool: str) -> bool:
        return (tool in self.tools) == (self.mode == "allow")


@dataclass(frozen=True)
class Selector:
    """Who a rule names: a principal matches when any one list does. Emails and domains
    (lower-cased) and groups match users; clients match machine principals by client id,
    workload name or `serviceAuths` name."""

    emails: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    clients: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccessRule:
    """`mcpServers.<name>.access`: who may use the server at all. `who` None means every
    signed-in principal; `networks`, when set, must hold the client address too."""

    who: Selector | None = None
    networks: tuple[IpNetwork, ...] = ()


@dataclass(frozen=True)
class ToolRule:
    """One `mcpServers.<name>.tools[*]`: tools whose name matches the glob `name` may be
    called by `who` (None: whoever `access` admits) holding `scope` ("" for none)."""

    name: str
    who: Selector | None = None
    scope: str = ""


@dataclass(frozen=True)
class ServerPolicy:
    """A server's access policy: `access`, the extra `scopes` with who may hold them, and the
    `tools` rules in order (the first whose glob matches decides)."""

    access: AccessRule | None = None
    scopes: Mapping[str, Selector] = field(default_factory=dict)
    tools: tuple[ToolRule, ...] = ()

    @property
    def has_tool_rules(self) -> bool:
        return bool(self.tools)


@dataclass(frozen=True)
class ServerOptions:
    tool_filter: ToolFilter | None = None


@dataclass(frozen=True)
class UserAuthentication:
    type: Literal["manual", "oauth"]
    display_name: str = ""
    instructions: str = ""
    help_url: str = ""
    validation: str | None = None
    # For `type: oauth`: the service's own OAuth server and the gate's client there.
    authorization_url: str = ""
    token_url: str = ""
    client_id: str = ""
    client_secret: Secret | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class IdentityJwt:
    """`identity.jwt`: a short-lived ES256 JWT naming the caller, in header `header`
    (`Authorization` carries it as `Bearer <jwt>`), for audience `audience`."""

    header: str
    audience: str
    ttl_seconds: float = 60.0


@dataclass(frozen=True)
class IdentityConfig:
    """`mcpServers.<name>.identity`: who the backend is told the caller is. Templates of
    `{{email}}`, `{{subject}}`, `{{domain}}`, `{{groups}}`, `{{client}}`, `{{principal}}`."""

    headers: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    jwt: IdentityJwt | None = None


@dataclass(frozen=True)
class DiscoveryConfig:
    """`mcpServers.<name>.discovery` of an aggregate: how long a member may take to list
    what it offers, how long a principal's listing is kept, and how many member sessions
    one principal may hold through the aggregate (0: no limit)."""

    timeout_seconds: float = 10.0
    cache_ttl_seconds: float = 60.0
    max_conns_per_user: int = 0


@dataclass(frozen=True)
class AggregateConfig:
    """`type: aggregate`: one MCP endpoint over `members` (direct servers, config order),
    their tools and prompts named `<member><delimiter><name>`."""

    members: tuple[str, ...]
    delimiter: str = "."
    discovery: DiscoveryConfig = field(default_factory=DiscoveryConfig)


@dataclass(frozen=True)
class ServerConfig:
    name: str
    transport_type: TransportType
    url: Templated | None = None
    headers: Mapping[str, Templated] = field(default_factory=dict)
    timeout_seconds: float = 30.0
    command: str = ""
    args: tuple[Templated, ...] = ()
    env: Mapping[str, Templated] = field(default_factory=dict)
    cwd: str | None = None
    service_auths: tuple[ServiceAuth, ...] = ()
    options: ServerOptions = field(default_factory=ServerOptions)
    requires_user_token: bool = False
    user_authentication: UserAuthentication | None = None
    identity: IdentityConfig | None = None
    # Set for `type: aggregate`: the gate itself serves it, over its members.
    aggregate: AggregateConfig | None = None
    policy: ServerPolicy = field(default_factory=ServerPolicy)

    @property
    def is_remote(self) -> bool:
        return self.transport_type != "stdio"

    @property
    def is_aggregate(self) -> bool:
        return self.aggregate is not None


@dataclass(frozen=True)
class GateConfig:
    proxy: ProxyConfig
    servers: Mapping[str, ServerConfig]
