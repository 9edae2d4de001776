"""Config errors: every problem at once, each with its key path and a message that helps."""

from __future__ import annotations

import contextlib
import json

import pytest

from mcp_gate.config import parse_config
from mcp_gate.config.model import UserTokenTemplate
from mcp_gate.errors import ConfigError
from tests.fixtures.config_files import (
    EXAMPLE_ENVIRON,
    EXAMPLES,
    google_auth,
    minimal_document,
    problems_of,
)


def _with_server(name: str, server: dict) -> dict:
    document = minimal_document()
    document["mcpServers"] = {name: server}
    return document


def _with_auth(**auth: object) -> dict:
    document = minimal_document()
    document["proxy"]["auth"] = {**google_auth(), **auth}
    return document


def test_unknown_key_suggests_the_close_one() -> None:
    """docs/config.md, Errors: `mcpServers.notion.headerz: unknown key; did you mean headers?`."""
    document = _with_server(
        "notion", {"transportType": "sse", "url": "https://n.example.test/sse", "headerz": {}}
    )
    assert problems_of(document) == [
        "mcpServers.notion.headerz: unknown key; did you mean headers?"
    ]


def test_unknown_key_without_a_close_one_lists_the_known_keys() -> None:
    """Policy: when nothing is close, the message lists what the section accepts."""
    document = minimal_document()
    document["proxy"]["zzz"] = 1
    assert problems_of(document) == [
        "proxy.zzz: unknown key "
        "(known keys: addr, admin, audit, auth, baseURL, cluster, limits, maxBodySize, "
        "maxMessageSize, metricsAddr, name, sessions, shutdownGrace, trustedProxies, workers)"
    ]


def test_three_mistakes_give_three_lines() -> None:
    """oauth2-proxy habit: every problem of the file is reported at once, in file order."""
    document = minimal_document()
    document["proxy"]["baseURL"] = "mcp.example.test"
    document["proxy"]["adr"] = ":8080"
    document["mcpServers"]["time"]["transportType"] = "websocket"
    with pytest.raises(ConfigError) as caught:
        parse_config(document, {}, source="gate.yaml")
    assert caught.value.problems == [
        "proxy.adr: unknown key; did you mean addr?",
        "proxy.baseURL: must be an absolute http(s) URL without query, fragment or user, "
        "like https://mcp.example.com",
        "mcpServers.time.transportType: "
        "must be one of stdio, sse, streamable-http; got 'websocket'",
    ]
    assert str(caught.value).splitlines()[0] == "gate.yaml: 3 problem(s)"
    assert len(str(caught.value).splitlines()) == 4


@pytest.mark.parametrize("addr", ["8080", "host:99999", "::1:8080", "[zz]:80", "a b:80", "h:"])
def test_addr_that_is_not_host_port_is_an_error(addr: str) -> None:
    """`proxy.addr` is host:port (`:8080`, `[::1]:8080` too)."""
    document = minimal_document()
    document["proxy"]["addr"] = addr
    assert problems_of(document) == [
        "proxy.addr: expected host:port, like 0.0.0.0:8080, :8080 or [::1]:8080"
    ]


@pytest.mark.parametrize("addr", [":8080", "[::1]:8080", "0.0.0.0:0", "localhost:80"])
def test_addr_forms_that_load(addr: str) -> None:
    """`proxy.addr` accepts an empty host, bracketed IPv6, names and port 0."""
    document = minimal_document()
    document["proxy"]["addr"] = addr
    assert parse_config(document, {}).proxy.addr == addr


@pytest.mark.parametrize("addr", ["9090", "host:99999", "[zz]:80"])
def test_metrics_addr_that_is_not_host_port_is_an_error(addr: str) -> None:
    """`proxy.metricsAddr` is host:port like `addr`, or "" for no metrics listener."""
    document = minimal_document()
    document["proxy"]["metricsAddr"] = addr
    assert problems_of(document) == [
        "proxy.metricsAddr: expected host:port, like 0.0.0.0:8080, :8080 or [::1]:8080, "
        'or "" for no metrics'
    ]


@pytest.mark.parametrize("addr", ["0.0.0.0:9090", "[::1]:9100", ""])
def test_metrics_addr_forms_that_load(addr: str) -> None:
    """`proxy.metricsAddr` takes the forms of `addr`; "" turns the metrics listener off."""
    document = minimal_document()
    document["proxy"]["metricsAddr"] = addr
    assert parse_config(document, {}).proxy.metrics_addr == addr


@pytest.mark.parametrize(
    "url", ["mcp.example.test", "ftp://mcp.example.test", "https://", "https://h.test/?q=1"]
)
def test_base_url_must_be_absolute_http(url: str) -> None:
    """`proxy.baseURL` is an absolute http(s) URL; every published URL derives from it."""
    document = minimal_document()
    document["proxy"]["baseURL"] = url
    (problem,) = problems_of(document)
    assert problem.startswith("proxy.baseURL: must be an absolute http(s) URL")


def test_missing_base_url_says_what_it_is() -> None:
    """`proxy.baseURL` is required."""
    assert problems_of({"proxy": {}, "mcpServers": {}}) == [
        "proxy.baseURL: required: the gate's public URL, like https://mcp.example.com"
    ]


def test_stdio_needs_command_and_refuses_url() -> None:
    """stdio runs `command`; a url has no meaning there."""
    document = _with_server("time", {"transportType": "stdio", "url": "https://x.example.test"})
    assert problems_of(document) == [
        "mcpServers.time.command: required: the program a stdio server runs for each MCP session",
        "mcpServers.time.url: not allowed: only for sse and streamable-http servers",
    ]


def test_remote_needs_url_and_refuses_stdio_keys() -> None:
    """sse and streamable-http need a url; command, args, env and cwd are stdio keys."""
    document = _with_server("api", {"transportType": "sse", "command": "x", "env": {"A": "b"}})
    assert problems_of(document) == [
        "mcpServers.api.url: required: the http(s) URL of the sse server",
        "mcpServers.api.command: not allowed: only for stdio servers",
        "mcpServers.api.env: not allowed: only for stdio servers",
    ]


@pytest.mark.parametrize("url", ["ftp://x.example.test/mcp", "/relative/mcp", "x.example.test"])
def test_remote_url_must_be_http(url: str) -> None:
    """A remote server's url is an absolute http(s) URL."""
    document = _with_server("api", {"transportType": "streamable-http", "url": url})
    assert problems_of(document) == ["mcpServers.api.url: must be an absolute http(s) URL"]


def test_missing_transport_type_is_required() -> None:
    """As in mcp-front, every server names its transportType."""
    document = _with_server("time", {"command": "mcp-server-time"})
    assert problems_of(document) == [
        "mcpServers.time.transportType: required: stdio, sse or streamable-http"
    ]


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("encryptionKey", "too-short", "must be 32 bytes: base64 of 32 bytes "
         "(openssl rand -base64 32) or 32 characters"),
        ("encryptionKey", [], "the list is empty"),
        ("jwtSecret", "too-short", "must be at least 32 bytes long"),
        ("tokenTtl", "forever", "expected a duration like 30s, 5m, 1h or 720h, got 'forever'"),
        ("refreshTokenTtl", 0, "must be greater than zero"),
        ("kind", "saml", "must be one of oauth; got 'saml'"),
        ("storage", "disk", "must be one of memory, redis; got 'disk'"),
        ("redis", {"url": "redis://x"}, "only used with storage: redis"),
    ],
)  # fmt: skip
def test_auth_value_errors(key: str, value: object, problem: str) -> None:
    """Each `proxy.auth` key is checked, with its path."""
    assert problems_of(_with_auth(**{key: value})) == [f"proxy.auth.{key}: {problem}"]


def test_redis_storage_needs_url_and_stable_keys() -> None:
    """`storage: redis` needs redis.url; policy: and a configured jwtSecret and encryptionKey."""
    assert problems_of(_with_auth(storage="redis")) == [
        "proxy.auth.redis: required: storage: redis needs redis.url (or redis.sentinels)",
        "proxy.auth.jwtSecret: required: storage: redis keeps tokens across restarts and replicas",
        "proxy.auth.encryptionKey: required: storage: redis keeps user tokens encrypted at rest",
    ]


def test_redis_url_scheme_is_checked_without_echoing_it() -> None:
    """The Redis URL is a secret: its error never shows it."""
    document = _with_auth(
        storage="redis",
        redis={"url": "http://user:hunter2-secret@redis.example.test"},
        jwtSecret="j" * 32,
        encryptionKey="e" * 32,
    )
    assert problems_of(document) == [
        "proxy.auth.redis.url: must start with redis://, rediss:// or unix://"
    ]


def test_secret_values_never_appear_in_messages() -> None:
    """Policy: no problem line quotes a secret, whatever is wrong with it."""
    secret = "visible-if-leaked"
    document = _with_auth(jwtSecret=secret, encryptionKey=secret, clientSecret=secret)
    document["mcpServers"]["time"]["serviceAuths"] = [{"type": "basic", "password": secret}]
    problems = problems_of(document)
    assert len(problems) == 4
    assert not [problem for problem in problems if secret in problem]


@pytest.mark.parametrize(
    ("idp", "problems"),
    [
        ({"provider": "okta"}, [
            "proxy.auth.idp.provider: must be one of google, oidc, github, dev; got 'okta'",
        ]),
        ({}, ["proxy.auth.idp.provider: required: google, oidc, github or dev"]),
        ({"provider": "google"}, [
            "proxy.auth.idp.clientId: required: "
            "the gate's OAuth client id at the google provider",
            "proxy.auth.idp.clientSecret: required: "
            "the gate's OAuth client secret at the google provider",
        ]),
        ({"provider": "oidc", "clientId": "c", "clientSecret": "s"}, [
            "proxy.auth.idp.discoveryUrl: required: "
            "the provider's .well-known/openid-configuration URL",
        ]),
        ({"provider": "oidc", "clientId": "c", "clientSecret": "s", "discoveryUrl": "idp.test"}, [
            "proxy.auth.idp.discoveryUrl: must be an https URL ending in "
            "/.well-known/openid-configuration (http only on loopback)",
        ]),
        ({"provider": "oidc", "clientId": "c", "clientSecret": "s",
          "discoveryUrl": "http://idp.example.test/.well-known/openid-configuration"}, [
            "proxy.auth.idp.discoveryUrl: must be an https URL ending in "
            "/.well-known/openid-configuration (http only on loopback)",
        ]),
        ({"provider": "dev"}, [
            "proxy.auth.idp.provider: dev is a loopback-only demo login; "
            "baseURL must be on localhost, 127.0.0.1 or [::1]",
        ]),
    ],
)  # fmt: skip
def test_idp_errors(idp: dict, problems: list[str]) -> None:
    """google and oidc need a client; oidc its discoveryUrl; dev only on loopback (policy)."""
    assert problems_of(_with_auth(idp=idp)) == problems


def test_missing_idp_is_required() -> None:
    """`proxy.auth` needs the provider users log in with."""
    document = minimal_document()
    document["proxy"]["auth"] = {"allowedDomains": ["example.test"]}
    assert problems_of(document) == [
        "proxy.auth.idp: required: the provider users log in with "
        "(provider: google, oidc, github or dev)"
    ]


def test_oidc_discovery_over_http_is_accepted_on_loopback() -> None:
    """Policy: a local test provider may speak plain http on a loopback address."""
    url = "http://127.0.0.1:9000/realm/.well-known/openid-configuration"
    document = _with_auth(idp={"provider": "oidc", "clientId": "c", "clientSecret": "s",
                               "discoveryUrl": url})  # fmt: skip
    auth = parse_config(document, {}).proxy.auth
    assert auth is not None
    assert auth.idp.discovery_url == url


def test_dev_provider_on_loopback_needs_no_client() -> None:
    """The dev provider needs neither clientId nor clientSecret, nor allowedDomains."""
    document = minimal_document()
    document["proxy"]["baseURL"] = "http://127.0.0.1:8080"
    document["proxy"]["auth"] = {"idp": {"provider": "dev"}}
    auth = parse_config(document, {}).proxy.auth
    assert auth is not None
    assert (auth.idp.provider, auth.idp.client_secret, auth.allowed_domains) == ("dev", None, ())


def test_google_without_allowed_domains_is_refused() -> None:
    """Policy: fail closed; without allowedDomains any Google account could log in."""
    document = _with_auth()
    del document["proxy"]["auth"]["allowedDomains"]
    assert problems_of(document) == [
        "proxy.auth.allowedDomains: required: "
        "the email domains allowed to log in, like [example.com] (or allowedEmails)"
    ]


def test_domains_are_normalized_and_origins_checked() -> None:
    """Domains are lowercased (a leading @ dropped); origins are scheme://host[:port]."""
    document = _with_auth(
        allowedDomains=["@Example.TEST", "bad domain"],
        allowedOrigins=["https://claude.ai/", "claude.ai", "https://x.test/path"],
    )
    assert problems_of(document) == [
        "proxy.auth.allowedDomains[1]: expected a domain like example.com, got 'bad domain'",
        "proxy.auth.allowedOrigins[1]: expected an origin like https://claude.ai, got 'claude.ai'",
        "proxy.auth.allowedOrigins[2]: expected an origin like https://claude.ai, got "
        "'https://x.test/path'",
    ]
    document["proxy"]["auth"].update(
        allowedDomains=["@Example.TEST"], allowedOrigins=["https://claude.ai/"]
    )
    auth = parse_config(document, {}).proxy.auth
    assert auth is not None
    assert (auth.allowed_domains, auth.allowed_origins) == (
        ("example.test",),
        ("https://claude.ai",),
    )


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("my server", "a server name may hold only letters, digits, '.', '_' and '-'"),
        ("a/b", "a server name may hold only letters, digits, '.', '_' and '-'"),
        ("..", "a server name may hold only letters, digits, '.', '_' and '-'"),
        ("token", "'token' is one of the gate's own routes; choose another name"),
        ("Health", "'Health' is one of the gate's own routes; choose another name"),
        (".well-known", "'.well-known' is one of the gate's own routes; choose another name"),
        ("sign-in", "'sign-in' is one of the gate's own routes; choose another name"),
    ],
)
def test_server_name_errors(name: str, problem: str) -> None:
    """docs/config.md `mcpServers.<name>`, docs/routes.md: names are URL-path safe and never shadow
    one of the gate's routes."""
    document = _with_server(name, {"transportType": "stdio", "command": "x"})
    assert problems_of(document) == [f"mcpServers.{name}: {problem}"]


def test_service_auth_shapes_are_checked() -> None:
    """serviceAuths entries: {type: bearer, tokens: [...]} or {type: basic, username, password}."""
    document = minimal_document()
    document["mcpServers"]["time"]["serviceAuths"] = [
        {"type": "bearer"},
        {"type": "basic", "username": "a:b"},
        {"type": "digest"},
        "token",
        {"type": "bearer", "tokens": [], "password": "p"},
    ]
    path = "mcpServers.time.serviceAuths"
    assert problems_of(document) == [
        f"{path}[0].tokens: required: the accepted bearer tokens",
        f"{path}[1].password: required: the password of the basic credential",
        f"{path}[1].username: must not contain ':'",
        f"{path}[2].type: must be one of bearer, basic; got 'digest'",
        f"{path}[3]: expected a mapping, got a string",
        f"{path}[4].password: not allowed: only with type: basic",
        f"{path}[4].tokens: the list is empty",
    ]


def test_tool_filter_mode_is_allow_or_block() -> None:
    """options.toolFilter.mode: allow or block."""
    document = minimal_document()
    document["mcpServers"]["time"]["options"] = {"toolFilter": {"mode": "deny", "list": ["x"]}}
    assert problems_of(document) == [
        "mcpServers.time.options.toolFilter.mode: must be one of allow, block; got 'deny'"
    ]


def _user_token_server(**changes: object) -> dict:
    document = _with_auth()
    server = {"requiresUserToken": True, "userAuthentication": {"type": "manual"}, **changes}
    document["mcpServers"]["time"].update(server)
    return document


def test_validation_must_compile_as_a_regex() -> None:
    """userAuthentication.validation is a regular expression."""
    document = _user_token_server(userAuthentication={"type": "manual", "validation": "([a-z"})
    assert problems_of(document) == [
        "mcpServers.time.userAuthentication.validation: not a valid regular expression: "
        "unterminated character set at position 1"
    ]


def test_oauth_user_authentication_needs_its_endpoints() -> None:
    """userAuthentication type oauth needs authorizationUrl, tokenUrl, clientId, clientSecret."""
    document = _user_token_server(userAuthentication={"type": "oauth", "validation": "x"})
    path = "mcpServers.time.userAuthentication"
    why = "required: type: oauth connects the user's account with the service's OAuth"
    assert problems_of(document) == [
        f"{path}.validation: not allowed: only with type: manual",
        f"{path}.authorizationUrl: {why}",
        f"{path}.tokenUrl: {why}",
        f"{path}.clientId: {why}",
        f"{path}.clientSecret: {why}",
    ]


def test_oauth_user_authentication_endpoints_need_tls() -> None:
    """Policy: the service's token endpoint gets our client secret, so https (or loopback)."""
    document = _user_token_server(
        userAuthentication={
            "type": "oauth",
            "authorizationUrl": "http://svc.example.test/authorize",
            "tokenUrl": "https://svc.example.test/token",
            "clientId": "c",
            "clientSecret": "s",
        }
    )
    assert problems_of(document) == [
        "mcpServers.time.userAuthentication.authorizationUrl: must be an https URL "
        "(http only on loopback)"
    ]


def test_one_mistake_is_reported_once() -> None:
    """A value that fails (here a missing variable) is reported once, not by every check."""
    document = _user_token_server(
        userAuthentication={
            "type": "oauth",
            "authorizationUrl": {"$env": "AUTHORIZE_URL"},
            "tokenUrl": "https://svc.example.test/token",
            "clientId": "c",
            "clientSecret": "s",
        }
    )
    document["proxy"]["baseURL"] = {"$env": "BASE_URL"}
    document["proxy"]["auth"]["googleRedirectUri"] = "https://x.test/oauth/callback"
    assert problems_of(document) == [
        "proxy.baseURL: environment variable BASE_URL is not set",
        "mcpServers.time.userAuthentication.authorizationUrl: "
        "environment variable AUTHORIZE_URL is not set",
    ]


def test_requires_user_token_needs_user_authentication() -> None:
    """requiresUserToken: true needs userAuthentication (what /my/tokens shows the user)."""
    document = _with_auth()
    document["mcpServers"]["time"]["requiresUserToken"] = True
    assert problems_of(document) == [
        "mcpServers.time.requiresUserToken: needs userAuthentication: how users get the token "
        "they store at /my/tokens"
    ]


def test_requires_user_token_needs_proxy_auth() -> None:
    """Policy (as mcp-front): user tokens belong to logged-in users, so proxy.auth is needed."""
    document = _user_token_server()
    del document["proxy"]["auth"]
    assert problems_of(document) == [
        "mcpServers.time.requiresUserToken: needs proxy.auth: users log in to store tokens"
    ]


def test_user_token_template_needs_requires_user_token() -> None:
    """A `$userToken` template in a server requires `requiresUserToken: true`."""
    document = minimal_document()
    document["mcpServers"]["time"]["env"] = {"API_TOKEN": {"$userToken": "{{token}}"}}
    assert problems_of(document) == [
        "mcpServers.time.env.API_TOKEN: a {$userToken: ...} value needs requiresUserToken: true"
    ]


def test_user_token_template_elsewhere_is_an_error() -> None:
    """`$userToken` is allowed only in url, headers, args and env."""
    document = minimal_document()
    document["mcpServers"]["time"]["command"] = {"$userToken": "{{token}}"}
    assert problems_of(document) == [
        "mcpServers.time.command: {$userToken: ...} is allowed only in a server's url, headers, "
        "args and env"
    ]


@pytest.mark.parametrize(
    "url",
    ["https://{{token}}.example.test/mcp", "https://api.example.test:{{token}}/mcp",
     "https://u:p@{{token}}/mcp"],
)  # fmt: skip
def test_user_token_in_the_host_or_port_of_a_url_is_an_error(url: str) -> None:
    """Issue 17 §2 (policy): a user's token must not choose where a request goes."""
    document = _user_token_server(
        transportType="streamable-http", url={"$userToken": url}, command=None
    )
    assert problems_of(document) == [
        "mcpServers.time.url: {{token}} may not be in the host or port; put it in the path, "
        "the query or the userinfo"
    ]


@pytest.mark.parametrize(
    "url",
    ["https://api.example.test/t/{{token}}/mcp", "https://api.example.test/mcp?key={{token}}",
     "https://apikey:{{token}}@api.example.test/mcp"],
)  # fmt: skip
def test_user_token_in_the_path_query_or_userinfo_of_a_url_is_accepted(url: str) -> None:
    """Issue 17 §2: the token may sit where percent-encoding keeps it in its place."""
    document = _user_token_server(
        transportType="streamable-http", url={"$userToken": url}, command=None
    )
    assert parse_config(document, {}).servers["time"].url == UserTokenTemplate(url)


def test_user_token_template_must_hold_the_placeholder() -> None:
    """A `$userToken` template must contain `{{token}}`."""
    document = _user_token_server(env={"API_TOKEN": {"$userToken": "Bearer token"}})
    assert problems_of(document) == [
        "mcpServers.time.env.API_TOKEN: a $userToken template must contain {{token}}"
    ]


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        ({"$env": "A", "extra": 1}, "a {$env: ...} or {$userToken: ...} value has exactly one key"),
        ({"$env": 5}, "$env takes a string, got an integer"),
        ({"$env": "not a name"}, "$env takes an environment variable name, got 'not a name'"),
    ],
)
def test_malformed_references(reference: dict, problem: str) -> None:
    """`{$env: VAR}` is a mapping with one key whose value is a variable name."""
    document = minimal_document()
    document["mcpServers"]["time"]["cwd"] = reference
    assert problems_of(document) == [f"mcpServers.time.cwd: {problem}"]


def test_header_names_are_checked() -> None:
    """Header names are RFC 9110 tokens; policy: Host and framing headers belong to the gate."""
    document = _with_server(
        "api",
        {
            "transportType": "sse",
            "url": "https://api.example.test/sse",
            "headers": {"Bad Name": "x", "Host": "y", "X-Ok": "z"},
        },
    )
    assert problems_of(document) == [
        "mcpServers.api.headers.Bad Name: not a valid header name",
        "mcpServers.api.headers.Host: set by the gate itself; remove it",
    ]


@pytest.mark.parametrize(
    ("change", "problems"),
    [
        ({"proxy": ["a"]}, ["proxy: expected a mapping, got a list"]),
        ({"mcpServers": ["time"]}, ["mcpServers: expected a mapping, got a list"]),
        ({"mcpServers": {"time": "uvx"}}, ["mcpServers.time: expected a mapping, got a string"]),
        ({"mcpServers": {5: {}}}, ["mcpServers.5: names must be strings"]),
        ({"mcpServers": {"t": {"transportType": "stdio", "command": ["a"]}}},
         ["mcpServers.t.command: expected a string, got a list"]),
        ({"mcpServers": {"t": {"transportType": "stdio", "command": "a", "args": {"a": 1}}}},
         ["mcpServers.t.args: expected a list, got a mapping"]),
        ({"mcpServers": {"t": {"transportType": "stdio", "command": "a", "env": ["A=b"]}}},
         ["mcpServers.t.env: expected a mapping, got a list"]),
        ({"mcpServers": {"t": {"transportType": "stdio", "command": "a", "timeout": True}}},
         ["mcpServers.t.timeout: expected a duration like 30s, 5m, 1h or 720h, got a boolean"]),
        ({"mcpServers": {"t": {"transportType": "stdio", "command": "a",
                               "requiresUserToken": "y"}}},
         ["mcpServers.t.requiresUserToken: expected true or false, got a string"]),
        ({"proxy": {"baseURL": "https://g.test", "sessions": {"maxPerUser": -1}}},
         ["proxy.sessions.maxPerUser: must be at least 0"]),
        ({"proxy": {"baseURL": "https://g.test", "sessions": {"maxPerUser": 2.5}}},
         ["proxy.sessions.maxPerUser: expected a whole number, got a number"]),
        ({"proxy": {"baseURL": "https://g.test", "auth": "google"}},
         ["proxy.auth: expected a mapping, got a string"]),
        ({"proxy": {"baseURL": "https://g.test", "maxBodySize": "4 megs"}},
         ["proxy.maxBodySize: expected a size like 4MiB, 512KiB or 1MB, got '4 megs'"]),
    ],
)  # fmt: skip
def test_wrong_yaml_types_are_errors_with_their_path(change: dict, problems: list[str]) -> None:
    """A wrong type anywhere is a problem with its path, never a Python exception."""
    document = {**minimal_document(), **change}
    assert problems_of(document) == problems


def _paths(node: object, path: tuple = ()) -> list[tuple]:
    if isinstance(node, dict):
        return [path] + [p for key, value in node.items() for p in _paths(value, (*path, key))]
    if isinstance(node, list):
        return [path] + [p for i, value in enumerate(node) for p in _paths(value, (*path, i))]
    return [path]


def _replaced(node: object, path: tuple, value: object) -> object:
    if not path:
        return value
    copy = dict(node) if isinstance(node, dict) else list(node)  # type: ignore[call-overload]
    copy[path[0]] = _replaced(copy[path[0]], path[1:], value)
    return copy


def test_any_value_of_any_type_anywhere_gives_config_errors_only() -> None:
    """Policy: whatever type a value has, parsing ends in a config or a ConfigError."""
    document = json.loads((EXAMPLES / "mcp-front.json").read_text())
    checked = 0
    for path in _paths(document)[1:]:
        for value in ([], {}, 7, True, 1.5, "x", None, {"$env": "NOPE"}, {"$userToken": "t"}):
            with contextlib.suppress(ConfigError):
                parse_config(_replaced(document, path, value), EXAMPLE_ENVIRON)
            checked += 1
    assert checked > 500
