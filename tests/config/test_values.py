"""Values: `$env`, `${VAR}`, `$$`, `$userToken`, durations, sizes, keys and secrets."""

from __future__ import annotations

import base64

import pytest

from mcp_gate.config import parse_config
from mcp_gate.config.auth_schema import decode_encryption_key
from mcp_gate.config.model import Secret, UserTokenTemplate
from mcp_gate.config.values import format_duration, format_size, parse_duration, parse_size
from mcp_gate.crypto import aead
from tests.fixtures.config_files import google_auth, minimal_document, problems_of

KEY_BYTES = bytes(range(32))


def _remote(**server: object) -> dict:
    document = minimal_document()
    document["mcpServers"] = {
        "api": {"transportType": "streamable-http", "url": "https://api.example.test/mcp", **server}
    }
    return document


def test_env_reference_is_read_at_load() -> None:
    """docs/config.md, Values: `{$env: VAR}` is replaced by the variable's value."""
    document = minimal_document()
    document["proxy"]["baseURL"] = {"$env": "PUBLIC_URL"}
    config = parse_config(document, {"PUBLIC_URL": "https://gate.example.test"})
    assert config.proxy.base_url == "https://gate.example.test"


def test_env_reference_to_missing_variable_names_it_and_the_key() -> None:
    """docs/config.md, Values: a missing variable is an error naming the variable and the key
    path."""
    document = minimal_document()
    document["mcpServers"]["time"]["command"] = {"$env": "TIME_COMMAND"}
    assert problems_of(document) == [
        "mcpServers.time.command: environment variable TIME_COMMAND is not set"
    ]


def test_env_reference_to_empty_variable_is_an_error() -> None:
    """Policy (as mcp-front): an empty variable behind `$env` is a mistake, not a value."""
    document = minimal_document()
    document["mcpServers"]["time"]["command"] = {"$env": "TIME_COMMAND"}
    assert problems_of(document, {"TIME_COMMAND": ""}) == [
        "mcpServers.time.command: environment variable TIME_COMMAND is empty"
    ]


def test_env_reference_value_is_not_expanded_again() -> None:
    """Policy: what `$env` reads is used as is; a `${...}` inside it stays literal."""
    document = minimal_document()
    document["mcpServers"]["time"]["cwd"] = {"$env": "DIR"}
    config = parse_config(document, {"DIR": "/srv/${HOME}/$$"})
    assert config.servers["time"].cwd == "/srv/${HOME}/$$"


def test_dollar_brace_variable_is_expanded_inside_a_string() -> None:
    """docs/config.md, Values: `${VAR}` inside any string is expanded."""
    document = minimal_document()
    document["proxy"]["baseURL"] = "https://${HOST}:${PORT}/gate"
    config = parse_config(document, {"HOST": "gate.example.test", "PORT": "8443"})
    assert config.proxy.base_url == "https://gate.example.test:8443/gate"


def test_dollar_brace_missing_variable_names_it_and_the_key() -> None:
    """docs/config.md, Values: a missing `${VAR}` is an error with its key path."""
    document = minimal_document()
    document["mcpServers"]["time"]["args"] = ["--zone", "${ZONE}"]
    assert problems_of(document) == [
        "mcpServers.time.args[1]: environment variable ZONE is not set (referenced as ${ZONE})"
    ]


def test_double_dollar_is_a_literal_dollar() -> None:
    """docs/config.md, Values: `$$` escapes a dollar, so `$${X}` is the text `${X}`."""
    document = minimal_document()
    document["mcpServers"]["time"]["args"] = ["$${NOT_A_VAR}", "cost: 5$$", "$$$$"]
    config = parse_config(document, {})
    assert config.servers["time"].args == ("${NOT_A_VAR}", "cost: 5$", "$$")


def test_lone_dollar_is_kept_so_regexes_work() -> None:
    """Policy: a `$` not followed by `{` or `$` is literal (`^ntn_.+$` stays a regex)."""
    document = minimal_document()
    document["mcpServers"]["time"]["args"] = ["^ntn_.+$", "$HOME", "a $ b"]
    config = parse_config(document, {})
    assert config.servers["time"].args == ("^ntn_.+$", "$HOME", "a $ b")


@pytest.mark.parametrize("text", ["${}", "${1ABC}", "${UNCLOSED", "${A-B}"])
def test_malformed_dollar_brace_is_an_error(text: str) -> None:
    """Policy: a broken `${...}` is reported with the way to write a literal dollar."""
    document = minimal_document()
    document["mcpServers"]["time"]["command"] = text
    assert problems_of(document) == [
        "mcpServers.time.command: malformed ${...}: write ${NAME}, or $$ for a literal dollar"
    ]


def test_user_token_templates_are_allowed_in_url_headers_args_env() -> None:
    """docs/config.md, Values: `{$userToken: ...}` in url and headers (remote), args and env
    (stdio)."""
    template = {"$userToken": "Bearer {{token}}"}
    user_auth = {"type": "manual", "displayName": "API"}
    remote = _remote(
        url={"$userToken": "https://api.example.test/mcp?key={{token}}"},
        headers={"Authorization": template},
        requiresUserToken=True,
        userAuthentication=user_auth,
    )
    remote["proxy"]["auth"] = google_auth()
    server = parse_config(remote, {}).servers["api"]
    assert server.url == UserTokenTemplate("https://api.example.test/mcp?key={{token}}")
    assert server.headers["Authorization"].render("t0k") == "Bearer t0k"  # type: ignore[union-attr]
    stdio = minimal_document()
    stdio["proxy"]["auth"] = google_auth()
    stdio["mcpServers"]["time"].update(
        args=["--token", {"$userToken": "{{token}}"}],
        env={"API_TOKEN": {"$userToken": "{{token}}"}},
        requiresUserToken=True,
        userAuthentication=user_auth,
    )
    server = parse_config(stdio, {}).servers["time"]
    assert server.args == ("--token", UserTokenTemplate("{{token}}"))
    assert server.env == {"API_TOKEN": UserTokenTemplate("{{token}}")}


def test_user_token_template_expands_dollar_brace() -> None:
    """Policy: a `$userToken` template is a string of the file, so `${VAR}` expands in it."""
    document = _remote(
        headers={"Authorization": {"$userToken": "${SCHEME} {{token}}"}},
        requiresUserToken=True,
        userAuthentication={"type": "manual"},
    )
    document["proxy"]["auth"] = google_auth()
    server = parse_config(document, {"SCHEME": "Token"}).servers["api"]
    assert server.headers == {"Authorization": UserTokenTemplate("Token {{token}}")}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("720h", 720 * 3600.0),
        ("1h30m", 5400.0),
        ("1.5h", 5400.0),
        ("500ms", 0.5),
        ("90", 90.0),
        ("2.5", 2.5),
    ],
)
def test_duration_text_is_read_as_seconds(text: str, seconds: float) -> None:
    """docs/config.md, Values: durations `30s`, `5m`, `1h`, `720h`, Go-style compounds, or plain
    seconds."""
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "h", "5 m", "5d", "1h-5m", "-5s", "five", "1e3"])
def test_duration_text_that_is_not_a_duration(text: str) -> None:
    """Units are Go's (ns, us, ms, s, m, h); anything else is not a duration."""
    assert parse_duration(text) is None


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 10**400, "9" * 400 + "h"])
def test_durations_and_sizes_beyond_a_float_are_errors(value: object) -> None:
    """Policy: YAML's .inf, .nan and huge numbers are refused, never a crash later."""
    document = minimal_document()
    document["mcpServers"]["time"]["timeout"] = value
    document["proxy"]["maxBodySize"] = value
    (size, timeout) = problems_of(document)
    assert size.startswith("proxy.maxBodySize: expected a size")
    assert timeout.startswith("mcpServers.time.timeout: expected a duration")


def test_plain_number_durations_are_seconds() -> None:
    """Policy: a YAML number (or an `$env` value of digits) is a number of seconds."""
    document = minimal_document()
    document["proxy"]["sessions"] = {"timeout": 90, "cleanupInterval": {"$env": "EVERY"}}
    sessions = parse_config(document, {"EVERY": "15"}).proxy.sessions
    assert (sessions.timeout_seconds, sessions.cleanup_interval_seconds) == (90.0, 15.0)


@pytest.mark.parametrize(
    ("text", "size"),
    [("4MiB", 4 << 20), ("512KiB", 512 << 10), ("1MB", 10**6), ("2GiB", 2 << 30), ("100", 100)],
)
def test_size_text_is_read_as_bytes(text: str, size: int) -> None:
    """docs/config.md, Values: sizes like `4MiB`; decimal and binary units, or plain bytes."""
    assert parse_size(text) == size


def test_max_body_size_reads_sizes_and_plain_integers() -> None:
    """`proxy.maxBodySize` takes a size text or a number of bytes."""
    document = minimal_document()
    document["proxy"]["maxBodySize"] = "512KiB"
    assert parse_config(document, {}).proxy.max_body_bytes == 512 * 1024
    document["proxy"]["maxBodySize"] = 65536
    assert parse_config(document, {}).proxy.max_body_bytes == 65536


def test_max_message_size_defaults_to_16_mib_and_reads_sizes() -> None:
    """Policy: `proxy.maxMessageSize` caps what the gate reads of one backend message."""
    document = minimal_document()
    assert parse_config(document, {}).proxy.max_message_bytes == 16 * 1024 * 1024
    document["proxy"]["maxMessageSize"] = "2MiB"
    assert parse_config(document, {}).proxy.max_message_bytes == 2 * 1024 * 1024


@pytest.mark.parametrize("seconds", [0.5, 1.0, 59.0, 60.0, 90.0, 3600.0, 5400.0, 2592000.0, 3661.0])
def test_formatted_duration_reads_back_exactly(seconds: float) -> None:
    """The renderer's duration text parses back to the same number of seconds."""
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("size", [1, 1000, 1024, 4 << 20, (4 << 20) + 1, 3 << 30])
def test_formatted_size_reads_back_exactly(size: int) -> None:
    """The renderer's size text parses back to the same number of bytes."""
    assert parse_size(format_size(size)) == size


@pytest.mark.parametrize(
    ("given", "key_bytes"),
    [
        (base64.b64encode(KEY_BYTES).decode(), KEY_BYTES),
        (base64.urlsafe_b64encode(KEY_BYTES).decode().rstrip("="), KEY_BYTES),
        ("k" * 32, b"k" * 32),
    ],
)
def test_encryption_key_forms_are_accepted_and_kept_as_given(given: str, key_bytes: bytes) -> None:
    """docs/config.md, Values: 32 bytes as base64 (standard or urlsafe, padding optional) or 32
    characters."""
    document = minimal_document()
    document["proxy"]["auth"] = {**google_auth(), "encryptionKey": given}
    (key,) = parse_config(document, {}).proxy.auth.encryption_keys  # type: ignore[union-attr]
    assert key == Secret(given)
    assert decode_encryption_key(key.reveal()) == key_bytes
    assert aead.decode_key(key.reveal()) == key_bytes  # the crypto module reads it alike


def test_encryption_key_list_keeps_rotation_order() -> None:
    """Key rotation: a list of keys, the first one encrypts."""
    old = base64.b64encode(b"o" * 32).decode()
    document = minimal_document()
    document["proxy"]["auth"] = {**google_auth(), "encryptionKey": ["n" * 32, {"$env": "OLD"}]}
    keys = parse_config(document, {"OLD": old}).proxy.auth.encryption_keys  # type: ignore[union-attr]
    assert [decode_encryption_key(key.reveal()) for key in keys] == [b"n" * 32, b"o" * 32]


def test_secret_values_become_secrets() -> None:
    """Secrets (client secret, JWT secret, Redis URL, service credentials, and header and
    env values under secret-looking names)."""
    document = minimal_document()
    document["proxy"]["auth"] = {
        **google_auth(),
        "storage": "redis",
        "redis": {"url": "redis://:pw@127.0.0.1:6379/0"},
        "jwtSecret": "j" * 32,
        "encryptionKey": "e" * 32,
    }
    document["mcpServers"]["time"].update(
        env={"TZ": "UTC", "DEBUG": 1, "GITHUB_TOKEN": "ghp_x", "db_password": "pw"},
        serviceAuths=[
            {"type": "bearer", "tokens": ["machine-token"]},
            {"type": "basic", "username": "bot", "password": "bot-password"},
        ],
    )
    headers = {"X-Api-Key": "k", "Authorization": "Basic eDp5", "Accept": "application/json"}
    document["mcpServers"]["api"] = _remote(headers=headers)["mcpServers"]["api"]
    config = parse_config(document, {})
    auth = config.proxy.auth
    assert auth is not None
    assert auth.redis is not None
    assert auth.idp.client_secret == Secret("idp-secret")
    assert (auth.jwt_secret, auth.redis.url) == (
        Secret("j" * 32),
        Secret("redis://:pw@127.0.0.1:6379/0"),
    )
    time = config.servers["time"]
    assert time.env == {
        "TZ": "UTC",
        "DEBUG": "1",
        "GITHUB_TOKEN": Secret("ghp_x"),
        "db_password": Secret("pw"),
    }
    assert time.service_auths[0].tokens == (Secret("machine-token"),)
    assert time.service_auths[1].password == Secret("bot-password")
    assert config.servers["api"].headers == {
        "X-Api-Key": Secret("k"),
        "Authorization": Secret("Basic eDp5"),
        "Accept": "application/json",
    }


def test_header_env_and_url_values_read_from_the_environment_are_secrets() -> None:
    """Policy: whatever a server's value reads from `$env` or `${VAR}` is a secret, whatever
    its name; it still reaches the backend as written."""
    document = minimal_document()
    document["mcpServers"]["time"]["env"] = {"TZ": {"$env": "ZONE"}, "LANG": "${LANG_X}"}
    remote = _remote(headers={"X-Trace": {"$env": "TRACE"}})["mcpServers"]["api"]
    document["mcpServers"]["api"] = {**remote, "url": "https://api.example.test/mcp?k=${K}"}
    environ = {"ZONE": "UTC", "LANG_X": "C", "TRACE": "t1", "K": "key-1"}
    config = parse_config(document, environ)
    assert config.servers["time"].env == {"TZ": Secret("UTC"), "LANG": Secret("C")}
    api = config.servers["api"]
    assert api.headers == {"X-Trace": Secret("t1")}
    assert api.url == Secret("https://api.example.test/mcp?k=key-1")


def test_url_read_from_the_environment_is_still_checked_as_a_url() -> None:
    """A url that is a secret is checked like any other: absolute http(s)."""
    document = minimal_document()
    document["mcpServers"]["api"] = {**_remote()["mcpServers"]["api"], "url": {"$env": "U"}}
    assert problems_of(document, {"U": "not a url"}) == [
        "mcpServers.api.url: must be an absolute http(s) URL"
    ]


def test_arguments_read_from_the_environment_are_secrets() -> None:
    """Policy: an arg from `$env` or `${VAR}` is presumed a credential; literal args are not."""
    document = minimal_document()
    document["mcpServers"]["time"]["args"] = ["--dsn", {"$env": "DSN"}, "--url=${URL}", 8]
    config = parse_config(document, {"DSN": "postgres://u:p@db/x", "URL": "u"})
    assert config.servers["time"].args == (
        "--dsn",
        Secret("postgres://u:p@db/x"),
        Secret("--url=u"),
        "8",
    )
