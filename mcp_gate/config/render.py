"""The effective configuration as YAML: mcp-front's key names, defaults filled, secrets as `***`.

Owns the reverse of the loader, for `mcp-gate check-config`: what the gate will run with,
after `$env`, `${VAR}` and defaults. Every `Secret` prints as `"***"` (which values are
secrets the schema modules decide: secret keys, what reads the environment, secret-looking
header and env names); plain values print as written (`TZ: UTC`); a `$userToken` template
prints as `{$userToken: "..."}` (the user's token is not in it). With another `show` (tests
write each secret as an `{$env: ...}` reference) the document parses back to an equal
config. Writes nothing, logs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from mcp_gate.config.load import dump_yaml
from mcp_gate.config.model import (
    AuthConfig,
    GateConfig,
    IdentityConfig,
    ProxyConfig,
    RedisConfig,
    Secret,
    ServerConfig,
    ServiceAuth,
    StaticClient,
    Templated,
    ToolFilter,
    TrustedIssuer,
    UserAuthentication,
    UserTokenTemplate,
)
from mcp_gate.config.values import escape_dollars, format_duration, format_size

REDACTED = "***"
ShowSecret = Callable[[Secret], object]


def _redacted(_: Secret) -> str:
    return REDACTED


def render_effective_config(config: GateConfig) -> str:
    """The config the gate runs with, as YAML, every secret shown as `***`."""
    header = "# mcp-gate effective configuration; secrets are shown as ***\n"
    return header + dump_yaml(build_document(config))


def build_document(config: GateConfig, *, show: ShowSecret = _redacted) -> dict[str, object]:
    """The config as a plain document in the file's own shape (`$` escaped as `$$`)."""
    document = {
        "proxy": _proxy(config.proxy, show),
        "mcpServers": {name: _server(server, show) for name, server in config.servers.items()},
    }
    return _escaped(document)  # type: ignore[return-value]


def _escaped(node: object) -> object:
    if isinstance(node, str):
        return escape_dollars(node)
    if isinstance(node, Mapping):
        return {key: _escaped(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_escaped(item) for item in node]
    return node


def _value(value: Templated, show: ShowSecret) -> object:
    if isinstance(value, Secret):
        return show(value)
    if isinstance(value, UserTokenTemplate):
        return {"$userToken": value.template}
    return value


def _proxy(proxy: ProxyConfig, show: ShowSecret) -> dict[str, object]:
    document: dict[str, object] = {
        "name": proxy.name,
        "baseURL": proxy.base_url,
        "addr": proxy.addr,
        "metricsAddr": proxy.metrics_addr,
        "maxBodySize": format_size(proxy.max_body_bytes),
        "maxMessageSize": format_size(proxy.max_message_bytes),
        "sessions": {
            "timeout": format_duration(proxy.sessions.timeout_seconds),
            "cleanupInterval": format_duration(proxy.sessions.cleanup_interval_seconds),
            "maxPerUser": proxy.sessions.max_per_user,
        },
    }
    if proxy.auth is not None:
        document["auth"] = _auth(proxy.auth, show)
    return document


def _auth(auth: AuthConfig, show: ShowSecret) -> dict[str, object]:
    idp: dict[str, object] = {"provider": auth.idp.provider}
    if auth.idp.client_id:
        idp["clientId"] = auth.idp.client_id
    if auth.idp.client_secret is not None:
        idp["clientSecret"] = show(auth.idp.client_secret)
    if auth.idp.discovery_url:
        idp["discoveryUrl"] = auth.idp.discovery_url
    idp["scopes"] = list(auth.idp.scopes)
    if auth.idp.provider == "oidc":
        idp["emailClaim"] = auth.idp.email_claim
        if auth.idp.groups_claim:
            idp["groupsClaim"] = auth.idp.groups_claim
    groups = auth.idp.google_groups
    if groups is not None:
        shown: dict[str, object] = {"adminEmail": groups.admin_email}
        if groups.service_account_key is not None:
            shown["serviceAccountKey"] = show(groups.service_account_key)
        else:
            shown["serviceAccountKeyFile"] = groups.service_account_key_file
        idp["googleGroups"] = shown | {"directoryUrl": groups.directory_url}
    if auth.idp.provider == "github":
        idp["githubUrl"] = auth.idp.github_url
        idp["githubApiUrl"] = auth.idp.github_api_url
        idp["allowedOrgs"] = list(auth.idp.allowed_orgs)
        idp["allowedTeams"] = list(auth.idp.allowed_teams)
    document: dict[str, object] = {
        "kind": auth.kind,
        "idp": idp,
        "allowedDomains": list(auth.allowed_domains),
        "allowedOrigins": list(auth.allowed_origins),
        "tokenTtl": format_duration(auth.token_ttl_seconds),
        "refreshTokenTtl": format_duration(auth.refresh_token_ttl_seconds),
        "revocationCheckInterval": format_duration(auth.revocation_check_seconds),
        "revalidateInterval": format_duration(auth.revalidate_interval_seconds),
        "storage": auth.storage,
    }
    if auth.redis is not None:
        document["redis"] = _redis(auth.redis, show)
    if auth.jwt_secret is not None:
        document["jwtSecret"] = show(auth.jwt_secret)
    keys = [show(key) for key in auth.encryption_keys]
    if keys:
        document["encryptionKey"] = keys[0] if len(keys) == 1 else keys
    if auth.identity_keys:
        document["identityKeys"] = [show(key) for key in auth.identity_keys]
    if auth.clients:
        document["clients"] = [_static_client(client, show) for client in auth.clients]
    if auth.trusted_issuers:
        document["trustedIssuers"] = [_trusted_issuer(issuer) for issuer in auth.trusted_issuers]
    if auth.resource_servers:
        document["resourceServers"] = [
            {
                "resource": rs.resource,
                "clientId": rs.client_id,
                "clientSecret": show(rs.client_secret),
            }
            for rs in auth.resource_servers
        ]
    return document


def _trusted_issuer(issuer: TrustedIssuer) -> dict[str, object]:
    document: dict[str, object] = {
        "issuer": issuer.issuer,
        "audience": list(issuer.audiences),
        "principal": issuer.principal,
    }
    if issuer.jwks_url:
        document["jwksUrl"] = issuer.jwks_url
    if issuer.require:
        document["require"] = {claim: list(values) for claim, values in issuer.require.items()}
    return document


def _redis(redis: RedisConfig, show: ShowSecret) -> dict[str, object]:
    document: dict[str, object] = {}
    if redis.sentinels:
        document["sentinels"] = [
            f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in redis.sentinels
        ]
        document.update({"masterName": redis.master_name, "db": redis.db})
    else:
        document.update({"url": show(redis.url), "cluster": redis.cluster})
    document["keyPrefix"] = redis.key_prefix
    for key, value in (("username", redis.username), ("sentinelUsername", redis.sentinel_username)):
        if value:
            document[key] = value
    for key, secret in (
        ("password", redis.password),
        ("sentinelPassword", redis.sentinel_password),
    ):
        if secret is not None:
            document[key] = show(secret)
    tls: dict[str, object] = {"enabled": redis.tls is not None} if redis.sentinels else {}
    if redis.tls is not None:
        files = (("caFile", redis.tls.ca_file), ("certFile", redis.tls.cert_file),
                 ("keyFile", redis.tls.key_file))  # fmt: skip
        tls.update({key: path for key, path in files if path is not None})
        tls["insecureSkipVerify"] = redis.tls.insecure_skip_verify
    if tls:
        document["tls"] = tls
    return document


def _static_client(client: StaticClient, show: ShowSecret) -> dict[str, object]:
    document: dict[str, object] = {"clientId": client.client_id, "clientName": client.client_name}
    if "authorization_code" in client.grant_types:
        document["redirectUris"] = list(client.redirect_uris)
    if client.client_secret is not None:
        document["clientSecret"] = show(client.client_secret)
    document["grantTypes"] = list(client.grant_types)
    if client.jwks is not None:
        document["jwks"] = client.jwks
    if client.jwks_url:
        document["jwksUrl"] = client.jwks_url
    return document


def _aggregate(server: ServerConfig, show: ShowSecret) -> dict[str, object]:
    aggregate = server.aggregate
    assert aggregate is not None
    discovery = aggregate.discovery
    document: dict[str, object] = {
        "type": "aggregate",
        "transportType": server.transport_type,
        "servers": list(aggregate.members),
        "delimiter": aggregate.delimiter,
        "discovery": {
            "timeout": format_duration(discovery.timeout_seconds),
            "cacheTtl": format_duration(discovery.cache_ttl_seconds),
            "maxConnsPerUser": discovery.max_conns_per_user,
        },
    }
    if server.service_auths:
        document["serviceAuths"] = [_service_auth(auth, show) for auth in server.service_auths]
    if server.options.tool_filter is not None:
        document["options"] = _options(server.options.tool_filter)
    return document


def _options(tool_filter: ToolFilter) -> dict[str, object]:
    return {"toolFilter": {"mode": tool_filter.mode, "list": list(tool_filter.tools)}}


def _server(server: ServerConfig, show: ShowSecret) -> dict[str, object]:
    if server.is_aggregate:
        return _aggregate(server, show)
    document: dict[str, object] = {"transportType": server.transport_type}
    if server.is_remote:
        document["url"] = _value(server.url, show) if server.url is not None else None
        document["headers"] = {key: _value(v, show) for key, v in server.headers.items()}
    else:
        document["command"] = server.command
        document["args"] = [_value(arg, show) for arg in server.args]
        document["env"] = {key: _value(v, show) for key, v in server.env.items()}
        if server.cwd is not None:
            document["cwd"] = server.cwd
    document["timeout"] = format_duration(server.timeout_seconds)
    if server.service_auths:
        document["serviceAuths"] = [_service_auth(auth, show) for auth in server.service_auths]
    if server.options.tool_filter is not None:
        document["options"] = _options(server.options.tool_filter)
    document["requiresUserToken"] = server.requires_user_token
    if server.user_authentication is not None:
        document["userAuthentication"] = _user_authentication(server.user_authentication, show)
    if server.identity is not None:
        document["identity"] = _identity(server.identity)
    return document


def _identity(identity: IdentityConfig) -> dict[str, object]:
    document: dict[str, object] = {}
    if identity.headers:
        document["headers"] = dict(identity.headers)
    if identity.env:
        document["env"] = dict(identity.env)
    if identity.jwt is not None:
        document["jwt"] = {
            "header": identity.jwt.header,
            "ttl": format_duration(identity.jwt.ttl_seconds),
            "audience": identity.jwt.audience,
        }
    return document


def _service_auth(auth: ServiceAuth, show: ShowSecret) -> dict[str, object]:
    if auth.type == "bearer":
        return {"type": "bearer", "name": auth.name, "tokens": [show(t) for t in auth.tokens]}
    password = show(auth.password) if auth.password is not None else None
    return {"type": "basic", "name": auth.name, "username": auth.username, "password": password}


def _user_authentication(auth: UserAuthentication, show: ShowSecret) -> dict[str, object]:
    document: dict[str, object] = {
        "type": auth.type,
        "displayName": auth.display_name,
        "instructions": auth.instructions,
    }
    if auth.help_url:
        document["helpUrl"] = auth.help_url
    if auth.type == "manual":
        if auth.validation is not None:
            document["validation"] = auth.validation
        return document
    document["authorizationUrl"] = auth.authorization_url
    document["tokenUrl"] = auth.token_url
    document["clientId"] = auth.client_id
    if auth.client_secret is not None:
        document["clientSecret"] = show(auth.client_secret)
    document["scopes"] = list(auth.scopes)
    return document
