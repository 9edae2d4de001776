"""Loading config files: YAML and JSON, syntax errors, duplicate keys, defaults."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mcp_gate.config import load_config, parse_config
from mcp_gate.config.model import (
    DEFAULT_MAX_BODY_BYTES,
    Secret,
    SessionsConfig,
    UserTokenTemplate,
)
from mcp_gate.errors import ConfigError
from tests.fixtures.config_files import EXAMPLE_ENVIRON, EXAMPLES, minimal_document

WriteConfig = Callable[..., Path]


def test_design_example_loads_with_every_section() -> None:
    """docs/config.md: the documented example loads, with its values typed."""
    config = load_config(EXAMPLES / "design.yaml", EXAMPLE_ENVIRON)
    proxy = config.proxy
    assert proxy.base_url == "https://mcp.example.com"
    assert (proxy.host, proxy.port) == ("0.0.0.0", 8080)
    assert proxy.sessions == SessionsConfig(300.0, 60.0, 10)
    assert proxy.auth is not None
    assert proxy.auth.idp.provider == "google"
    assert proxy.auth.idp.client_id == EXAMPLE_ENVIRON["GOOGLE_CLIENT_ID"]
    assert proxy.auth.allowed_domains == ("example.com",)
    assert proxy.auth.refresh_token_ttl_seconds == 720 * 3600
    assert proxy.auth.storage == "redis"
    assert proxy.auth.redis is not None
    assert proxy.auth.redis.url == Secret(EXAMPLE_ENVIRON["REDIS_URL"])
    assert list(config.servers) == ["time", "notion", "legacy"]
    time, notion, legacy = config.servers.values()
    assert (time.transport_type, time.command, time.args) == ("stdio", "uvx", ("mcp-server-time",))
    assert notion.headers == {"Authorization": UserTokenTemplate("Bearer {{token}}")}
    assert notion.user_authentication is not None
    assert notion.user_authentication.validation == "^ntn_.+$"
    assert legacy.service_auths[0].tokens == (Secret(EXAMPLE_ENVIRON["CI_TOKEN"]),)


def test_json_file_and_yaml_file_give_the_same_config(write_config: WriteConfig) -> None:
    """Policy: JSON is accepted as well as YAML, with the same keys and meaning."""
    document = minimal_document()
    from_json = load_config(write_config(json.dumps(document), "gate.json"), {})
    yaml_text = (
        "proxy: {baseURL: https://gate.example.test}\n"
        "mcpServers: {time: {transportType: stdio, command: mcp-server-time}}\n"
    )
    from_yaml = load_config(write_config(yaml_text), {})
    assert from_json == from_yaml == parse_config(document, {})


def test_json_syntax_error_says_json_and_where(write_config: WriteConfig) -> None:
    """Policy: a broken .json file gets a JSON message with line and column."""
    path = write_config('{"proxy": {"baseURL": "https://x.test",}\n}', "gate.json")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert caught.value.source == str(path)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith("invalid JSON at line 1, column 40:")


def test_yaml_syntax_error_says_where(write_config: WriteConfig) -> None:
    """Policy: a broken YAML file gets its line and column, not a traceback."""
    with pytest.raises(ConfigError) as caught:
        load_config(write_config("proxy:\n  baseURL: [unclosed\nmcpServers: {}\n"), {})
    (problem,) = caught.value.problems
    assert problem.startswith("invalid YAML at line 3, column 11:")


def test_yaml_syntax_error_does_not_echo_the_line(write_config: WriteConfig) -> None:
    """Policy: a syntax error message never quotes the file, which may hold a secret."""
    text = 'proxy:\n  auth: {jwtSecret: "never-printed-secret-value"\nmcpServers: {}\n'
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(text), {})
    assert "never-printed-secret-value" not in str(caught.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """Policy: an unreadable file is one clear problem, not an OSError."""
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "absent.yaml", {})
    assert caught.value.problems == ["cannot read the file: No such file or directory"]


def test_empty_file_is_one_problem(write_config: WriteConfig) -> None:
    """Policy: an empty file says so once, instead of listing every missing key."""
    with pytest.raises(ConfigError) as caught:
        load_config(write_config("# nothing yet\n"), {})
    assert caught.value.problems == [
        "the file is empty; expected a mapping with proxy and mcpServers"
    ]


def test_top_level_list_is_one_problem() -> None:
    """Policy: a document that is not a mapping is reported, never a Python exception."""
    with pytest.raises(ConfigError) as caught:
        parse_config([1, 2], {})
    assert caught.value.problems == ["found a list; expected a mapping with proxy and mcpServers"]


def test_duplicate_yaml_key_is_reported_with_its_line(write_config: WriteConfig) -> None:
    """Policy: a repeated key is an error; YAML would silently keep the last one."""
    text = (
        "proxy: {baseURL: https://gate.example.test}\n"
        "mcpServers:\n"
        "  time: {transportType: stdio, command: a}\n"
        "  time: {transportType: stdio, command: b}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(text), {})
    assert caught.value.problems == ["line 4: duplicate key 'time'"]


def test_duplicate_json_key_is_reported(write_config: WriteConfig) -> None:
    """Policy: a repeated key in a JSON object is an error too."""
    text = '{"proxy": {"baseURL": "https://a.test", "baseURL": "https://b.test"}, "mcpServers": {}}'
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(text, "gate.json"), {})
    assert caught.value.problems == ["duplicate key 'baseURL' in a JSON object"]


def test_yaml_merge_keys_are_not_duplicates(write_config: WriteConfig) -> None:
    """A YAML merge (`<<: *anchor`) then an override is not a duplicate key."""
    text = (
        "proxy: {baseURL: https://gate.example.test}\n"
        "mcpServers:\n"
        "  a: &base {transportType: stdio, command: run, timeout: 10s}\n"
        "  b: {<<: *base, timeout: 20s}\n"
    )
    config = load_config(write_config(text), {})
    assert config.servers["b"].timeout_seconds == 20.0
    assert config.servers["b"].command == "run"


def test_minimal_config_gets_every_default() -> None:
    """Defaults: name, addr, metrics on loopback, sessions, body size, server timeout; no
    auth means no OAuth."""
    config = parse_config(minimal_document(), {})
    assert config.proxy.name == "mcp-gate"
    assert config.proxy.addr == "127.0.0.1:8080"
    assert config.proxy.metrics_addr == "127.0.0.1:9090"
    assert config.proxy.sessions == SessionsConfig()
    assert config.proxy.max_body_bytes == DEFAULT_MAX_BODY_BYTES == 4 * 1024 * 1024
    assert config.proxy.auth is None
    server = config.servers["time"]
    assert (server.timeout_seconds, server.requires_user_token, server.cwd) == (30.0, False, None)


def test_base_url_trailing_slash_is_dropped() -> None:
    """Policy: baseURL is kept without a trailing slash, so URLs are base_url + path."""
    document = minimal_document()
    document["proxy"]["baseURL"] = "https://host.example.test/gate/"
    config = parse_config(document, {})
    assert config.proxy.base_url == "https://host.example.test/gate"
    assert config.proxy.base_path == "/gate"
    assert config.proxy.issuer == "https://host.example.test"


def test_null_value_reads_as_absent() -> None:
    """Policy: `key:` with no value (null) means the key is not set."""
    document = minimal_document()
    document["proxy"].update({"auth": None, "name": None})
    config = parse_config(document, {})
    assert config.proxy.auth is None
    assert config.proxy.name == "mcp-gate"


def test_empty_server_list_loads() -> None:
    """Policy: `mcpServers: {}` is allowed (a gate being set up); the key itself is required."""
    assert parse_config({"proxy": {"baseURL": "http://localhost:8080"}, "mcpServers": {}}, {})


def test_environ_defaults_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an explicit environ, `$env` reads os.environ."""
    monkeypatch.setenv("MCP_GATE_TEST_BASE_URL", "https://from-env.example.test")
    document = minimal_document()
    document["proxy"]["baseURL"] = {"$env": "MCP_GATE_TEST_BASE_URL"}
    assert parse_config(document).proxy.base_url == "https://from-env.example.test"


def test_yaml_tags_that_build_objects_are_refused(write_config: WriteConfig) -> None:
    """Policy: the file is data; a `!!python/...` tag is a syntax problem, never executed."""
    text = "proxy: !!python/object/apply:os.getcwd []\nmcpServers: {}\n"
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(text), {})
    (problem,) = caught.value.problems
    assert problem.startswith("invalid YAML at line 1, column 8:")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ('{"proxy": {"sessions": {"maxPerUser": 1' + "0" * 5000 + "}}}", "gate.json"),
        ("proxy:\n  sessions: {maxPerUser: 1" + "0" * 5000 + "}\n", "gate.yaml"),
    ],
    ids=["json", "yaml"],
)
def test_integer_past_pythons_digit_limit_is_a_config_error(
    write_config: WriteConfig, text: str, name: str
) -> None:
    """Policy: an absurd number is a config error, not a ValueError traceback."""
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(text, name), {})
    (problem,) = caught.value.problems
    assert problem.startswith(("invalid JSON", "invalid YAML"))
    assert "digits" in problem
