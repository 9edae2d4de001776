"""The `mcpServers` section: each backend's name, transport, command or URL, and what it gets.

Owns the meaning and checks of `mcpServers.<name>.*` except credentials, which belong to
`credentials_schema.py`: name rules (URL-path safe, not one of the gate's own routes),
transport rules (stdio needs `command`, remote needs an http(s) `url`), where a
`{$userToken: ...}` may appear (never in a `url`'s host or port), and which values become
`Secret`: what is read from the environment (`$env`, `${VAR}`) and literal header and env
values under a secret-looking name; the rest stays plain text, which `check-config` shows.
Starts nothing.
"""

from __future__ import annotations

import re
from typing import cast

from mcp_gate.config.aggregate_schema import (
    AGGREGATE_KEYS,
    SERVER_TYPES,
    parse_aggregate,
    resolve_members,
)
from mcp_gate.config.credentials_schema import parse_service_auths, parse_user_authentication
from mcp_gate.config.identity_schema import parse_identity
from mcp_gate.config.model import (
    Secret,
    ServerConfig,
    ServerOptions,
    Templated,
    ToolFilter,
    TransportType,
    UserTokenTemplate,
)
from mcp_gate.config.policy_schema import parse_policy
from mcp_gate.config.section import Section
from mcp_gate.config.values import (
    TOKEN_PLACEHOLDER,
    Context,
    is_http_url,
    reads_environment,
    resolve,
)

TRANSPORTS = ("stdio", "sse", "streamable-http")
SERVER_KEYS = (
    "transportType", "url", "headers", "timeout", "command", "args", "env", "cwd",
    "serviceAuths", "options", "requiresUserToken", "userAuthentication", "tokenSetup",
    "identity", "type", *AGGREGATE_KEYS, "access", "scopes", "tools",
)  # fmt: skip
_NO_INLINE = "mcp-gate does not run inline servers; serve the tools from a stdio or HTTP MCP server"
SERVER_UNSUPPORTED = {"inline": _NO_INLINE}
OPTIONS_KEYS = ("toolFilter",)
OPTIONS_IGNORED = ("panicIfInvalid",)  # policy: mcp-front's flag; nothing for us to act on.
OPTIONS_UNSUPPORTED = {
    "authTokens": "not supported; use serviceAuths: [{type: bearer, tokens: [...]}]",
}
TOOL_FILTER_KEYS = ("mode", "list")
# The gate's own first path segments (docs/routes.md); a server there would shadow a route.
RESERVED_NAMES = frozenset(
    {".well-known", "authorize", "consent", "oauth", "token", "register", "revoke", "my"}
    | {"introspect"}
    | {"health", "ready", "metrics", "static", "sign-in"}
)
_NAME = re.compile(r"[A-Za-z0-9._-]+")
# policy: a literal header or env value under a name like these is presumed a credential
# (`Authorization`, `X-Api-Key`, `GITHUB_TOKEN`, `DB_PASSWORD`); over-redacting costs a line
# of check-config, under-redacting a secret.
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASS|KEY|AUTH|CREDENTIAL|COOKIE", re.IGNORECASE)
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 §5.6.2 token
# policy: the gate owns framing and the upstream Host (docs/config.md `headers`); config may not
# set them.
_GATE_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


def parse_servers(root: Section, *, has_auth: bool) -> dict[str, ServerConfig]:
    root.need("mcpServers", "the MCP servers the gate fronts, by name")
    servers = {}
    named: dict[str, tuple[str, ...] | None] = {}
    for path, name, raw in root.entries("mcpServers"):
        if not _NAME.fullmatch(name) or not name.strip("."):
            root.ctx.error(path, "a server name may hold only letters, digits, '.', '_' and '-'")
        elif name.lower() in RESERVED_NAMES:
            root.ctx.error(path, f"{name!r} is one of the gate's own routes; choose another name")
        section = Section(root.ctx, path, raw, SERVER_KEYS, unsupported=SERVER_UNSUPPORTED)
        if section.choice("type", SERVER_TYPES, "direct") == "aggregate":
            servers[name], named[name] = parse_aggregate(
                section,
                name,
                service_auths=parse_service_auths(section, name),
                options=_options(section),
            )
        else:
            section.forbid(AGGREGATE_KEYS, "only for servers of type: aggregate")
            servers[name] = _server(section, name, has_auth=has_auth)
    return resolve_members(root.ctx, root.at("mcpServers"), servers, named)


def _server(section: Section, name: str, *, has_auth: bool) -> ServerConfig:
    ctx = section.ctx
    templates: list[str] = []  # paths of the {$userToken: ...} values
    transport = _transport(section)
    if transport == "stdio":
        section.need("command", "the program a stdio server runs for each MCP session")
        section.forbid(("url", "headers"), "only for sse and streamable-http servers")
    elif transport in ("sse", "streamable-http"):
        section.need("url", f"the http(s) URL of the {transport} server")
        section.forbid(("command", "args", "env", "cwd"), "only for stdio servers")
    url = _url(section, transport, templates)
    headers = _headers(section, templates)
    env = _env(section, templates)
    args = _args(section, templates)
    requires_user_token = section.boolean("requiresUserToken", default=False)
    user_authentication, token_format = parse_user_authentication(section, name)
    if templates and not requires_user_token:
        ctx.error(templates[0], "a {$userToken: ...} value needs requiresUserToken: true")
    if requires_user_token and user_authentication is None:
        ctx.error(
            section.at("requiresUserToken"),
            "needs userAuthentication: how users get the token they store at /my/tokens",
        )
    if requires_user_token and not has_auth:
        ctx.error(section.at("requiresUserToken"), "needs proxy.auth: users log in to store tokens")
    if token_format:
        url = _wrap(url, token_format) if url is not None else None
        headers = {key: _wrap(value, token_format) for key, value in headers.items()}
        env = {key: _wrap(value, token_format) for key, value in env.items()}
        args = [_wrap(value, token_format) for value in args]
    return ServerConfig(
        name=name,
        transport_type=transport or "stdio",
        url=url,
        headers=headers,
        timeout_seconds=section.duration("timeout", ServerConfig.timeout_seconds),
        command=section.text("command"),
        args=tuple(args),
        env=env,
        cwd=section.text("cwd") or None,
        service_auths=parse_service_auths(section, name),
        options=_options(section),
        requires_user_token=requires_user_token,
        user_authentication=user_authentication,
        identity=parse_identity(
            section,
            remote=transport != "stdio",
            url=url,
            headers=headers,
            env=env,
            has_auth=has_auth,
        ),
        policy=parse_policy(section, has_auth=has_auth),
    )


def _url(section: Section, transport: str | None, templates: list[str]) -> Templated | None:
    raw = section.data.get("url")
    # policy: a URL read from the environment may carry a credential (a key in its query).
    url = _value(section.ctx, section.at("url"), raw, templates, secret=reads_environment(raw))
    if transport == "stdio" or url is None:
        return url
    if isinstance(url, UserTokenTemplate):
        sample = url.render("token")
    else:
        sample = url.reveal() if isinstance(url, Secret) else url
    if isinstance(url, UserTokenTemplate) and TOKEN_PLACEHOLDER in _host_and_port(url.template):
        # policy: a user's token chooses nothing about where the request goes.
        section.ctx.error(
            section.at("url"),
            f"{TOKEN_PLACEHOLDER} may not be in the host or port; "
            "put it in the path, the query or the userinfo",
        )
    elif not is_http_url(sample):
        section.ctx.error(section.at("url"), "must be an absolute http(s) URL")
    return url


def _host_and_port(url: str) -> str:
    # The authority as written, read by hand: a URL reader would refuse `:{{token}}` as a port.
    after_scheme = url.partition("://")[2]
    authority = after_scheme.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return authority.rpartition("@")[2]


def _headers(section: Section, templates: list[str]) -> dict[str, Templated]:
    headers = {}
    for path, header, raw in section.entries("headers"):
        if not _HEADER_NAME.fullmatch(header):
            section.ctx.error(path, "not a valid header name")
        elif header.lower() in _GATE_HEADERS:
            section.ctx.error(path, "set by the gate itself; remove it")
        secret = reads_environment(raw) or _is_secret_name(header)
        value = _value(section.ctx, path, raw, templates, secret=secret)
        if value is not None:
            headers[header] = value
    return headers


def _env(section: Section, templates: list[str]) -> dict[str, Templated]:
    env = {}
    for path, variable, raw in section.entries("env"):
        if not variable or "=" in variable or "\0" in variable:
            section.ctx.error(path, "not a valid environment variable name")
        secret = reads_environment(raw) or _is_secret_name(variable)
        value = _value(section.ctx, path, raw, templates, secret=secret, scalars=True)
        if value is not None:
            env[variable] = value
    return env


def _args(section: Section, templates: list[str]) -> list[Templated]:
    args = []
    for path, raw in section.items("args"):
        # policy: an argument read from the environment is presumed to be a credential.
        secret = reads_environment(raw)
        value = _value(section.ctx, path, raw, templates, secret=secret, scalars=True)
        if value is not None:
            args.append(value)
    return args


def _is_secret_name(name: str) -> bool:
    """Whether a header or environment variable name looks like it carries a secret."""
    return _SECRET_NAME.search(name) is not None


def _transport(section: Section) -> TransportType | None:
    """The transport, or None (reported) so no transport-specific key is checked."""
    if not section.need("transportType", "stdio, sse or streamable-http"):
        return None
    transport = section.text("transportType")
    if transport == "inline":
        section.ctx.error(section.at("transportType"), _NO_INLINE)
    elif transport not in TRANSPORTS:
        section.ctx.error(
            section.at("transportType"),
            f"must be one of {', '.join(TRANSPORTS)}; got {transport!r}",
        )
    return cast(TransportType, transport) if transport in TRANSPORTS else None


def _value(
    ctx: Context,
    path: str,
    raw: object,
    templates: list[str],
    *,
    secret: bool,
    scalars: bool = False,
) -> Templated | None:
    if raw is None:
        return None
    value = resolve(ctx, path, raw, user_token=True, scalars=scalars)
    if isinstance(value, UserTokenTemplate):
        templates.append(path)
        return value
    if value is None:
        return None
    return Secret(value) if secret else value


def _wrap(value: Templated, token_format: str) -> Templated:
    if not isinstance(value, UserTokenTemplate):
        return value
    return UserTokenTemplate(value.template.replace(TOKEN_PLACEHOLDER, token_format))


def _options(server: Section) -> ServerOptions:
    section = server.child(
        "options", OPTIONS_KEYS, ignored=OPTIONS_IGNORED, unsupported=OPTIONS_UNSUPPORTED
    )
    if not section.has("toolFilter"):
        return ServerOptions()
    tool_filter = section.child("toolFilter", TOOL_FILTER_KEYS)
    tool_filter.need("mode", "allow (only the listed tools) or block (all but the listed tools)")
    mode = tool_filter.choice("mode", ("allow", "block"), "allow")
    return ServerOptions(
        tool_filter=ToolFilter(
            mode="block" if mode == "block" else "allow", tools=tool_filter.text_list("list")
        )
    )
