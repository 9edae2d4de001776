"""The effective config render (`mcp-gate check-config`): secrets redacted, round trip exact."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mcp_gate.config import load_config, parse_config, render_effective_config
from mcp_gate.config.load import dump_yaml
from mcp_gate.config.model import GateConfig, Secret
from mcp_gate.config.render import build_document
from tests.fixtures.config_files import EXAMPLE_ENVIRON, EXAMPLES, minimal_document

WriteConfig = Callable[..., Path]


def _example(name: str) -> GateConfig:
    return load_config(EXAMPLES / name, EXAMPLE_ENVIRON)


@pytest.mark.parametrize("name", ["design.yaml", "design-identity.yaml", "mcp-front.json"])
def test_render_shows_no_secret_value(name: str) -> None:
    """docs/config.md: check-config prints the effective config with every secret as ***."""
    text = render_effective_config(_example(name))
    assert "'***'" in text
    for variable in ("GOOGLE_CLIENT_SECRET", "REDIS_URL", "MCP_GATE_JWT_SECRET", "CI_TOKEN",
                     "MCP_GATE_ENCRYPTION_KEY", "JWT_SECRET", "ENCRYPTION_KEY", "WAREHOUSE_DSN",
                     "BATCH_PASSWORD", "GITHUB_CLIENT_SECRET", "CI_BOT_SECRET",
                     "TOOLS_RS_SECRET"):  # fmt: skip
        assert EXAMPLE_ENVIRON[variable] not in text, variable
    assert "ci-static-token" not in text
    assert "redis-password-value" not in text


def test_render_uses_mcp_front_key_names_and_fills_defaults() -> None:
    """The render uses the file's camelCase keys and shows the defaults the gate applies."""
    text = render_effective_config(parse_config(minimal_document(), {}))
    assert text == (
        "# mcp-gate effective configuration; secrets are shown as ***\n"
        "proxy:\n"
        "  name: mcp-gate\n"
        "  baseURL: https://gate.example.test\n"
        "  addr: 127.0.0.1:8080\n"
        "  metricsAddr: 127.0.0.1:9090\n"
        "  maxBodySize: 4MiB\n"
        "  maxMessageSize: 16MiB\n"
        "  sessions:\n"
        "    timeout: 5m\n"
        "    cleanupInterval: 1m\n"
        "    maxPerUser: 10\n"
        "mcpServers:\n"
        "  time:\n"
        "    transportType: stdio\n"
        "    command: mcp-server-time\n"
        "    args: []\n"
        "    env: {}\n"
        "    timeout: 30s\n"
        "    requiresUserToken: false\n"
    )


def test_check_config_shows_plain_env_values_and_redacts_secret_ones() -> None:
    """Issue 14 §7 (policy): values read from `$env` / `${...}` and literal values under
    secret-looking names print as ***; the rest (`TZ: UTC`) prints as written."""
    document = minimal_document()
    document["mcpServers"]["time"]["env"] = {
        "TZ": "UTC",
        "LOG_LEVEL": "debug",
        "FROM_ENV": {"$env": "PLAIN"},
        "EXPANDED": "x-${PLAIN}",
        "API_TOKEN": "literal-token-1",
        "Db_Password": "literal-password-2",
        "AWS_SECRET_ACCESS_KEY": "literal-key-3",
    }
    document["mcpServers"]["api"] = {
        "transportType": "streamable-http",
        "url": "https://api.example.test/mcp?key=${PLAIN}",
        "headers": {"Accept": "application/json", "Authorization": "Bearer literal-4"},
    }
    text = render_effective_config(parse_config(document, {"PLAIN": "value-from-env-5"}))
    assert "TZ: UTC" in text
    assert "LOG_LEVEL: debug" in text
    assert "Accept: application/json" in text
    for name in ("FROM_ENV", "EXPANDED", "API_TOKEN", "Db_Password", "AWS_SECRET_ACCESS_KEY",
                 "Authorization", "url"):  # fmt: skip
        assert f"{name}: '***'" in text, name
    for leaked in ("literal-", "value-from-env"):
        assert leaked not in text


def test_render_shows_user_token_templates() -> None:
    """A `$userToken` template holds no secret, so it is shown as written."""
    text = render_effective_config(_example("design.yaml"))
    assert "Authorization: {$userToken: 'Bearer {{token}}'}" in text


def _secrets_as_env(config: GateConfig) -> tuple[dict[str, object], dict[str, str]]:
    """The config's document with each secret written as `{$env: SECRET_n}`, and that env."""
    environ: dict[str, str] = {}

    def as_env(secret: Secret) -> dict[str, str]:
        name = f"SECRET_{len(environ)}"
        environ[name] = secret.reveal()
        return {"$env": name}

    return build_document(config, show=as_env), environ


@pytest.mark.parametrize("name", ["design.yaml", "design-identity.yaml", "mcp-front.json"])
def test_rendered_document_parses_back_to_an_equal_config(name: str) -> None:
    """Round trip: the rendered document, secrets given back through `$env`, is the same config."""
    config = _example(name)
    document, environ = _secrets_as_env(config)
    assert parse_config(document, environ, source="render") == config


@pytest.mark.parametrize("name", ["design.yaml", "design-identity.yaml", "mcp-front.json"])
def test_rendered_yaml_text_loads_back_to_an_equal_config(
    name: str, write_config: WriteConfig
) -> None:
    """Round trip through YAML text: every value survives dumping and loading."""
    config = _example(name)
    document, environ = _secrets_as_env(config)
    assert load_config(write_config(dump_yaml(document)), environ) == config


def test_render_keeps_dollars_literal_through_a_round_trip(write_config: WriteConfig) -> None:
    """`$$`-escaped text renders escaped again, so loading the render gives the same text."""
    document = minimal_document()
    document["proxy"].update(
        {"name": "Team $$ gate", "addr": ":9000", "maxBodySize": "1MB",
         "sessions": {"timeout": "1h30m", "cleanupInterval": 0.5, "maxPerUser": 0}}
    )  # fmt: skip
    document["mcpServers"]["time"].update(
        {"args": ["$${HOME}", "^a$", "$$$$"], "cwd": "/srv/$${X}", "timeout": "2m",
         "options": {"toolFilter": {"mode": "allow", "list": ["get_time"]}}}
    )  # fmt: skip
    config = parse_config(document, {})
    assert config.servers["time"].args == ("${HOME}", "^a$", "$$")
    assert load_config(write_config(render_effective_config(config)), {}) == config
