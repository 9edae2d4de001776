"""The shipped `config.example.yaml` loads clean, so users can start from it."""

from __future__ import annotations

import base64
from pathlib import Path

from mcp_gate.config import load_config, render_effective_config

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.yaml"
ENVIRON = {
    "GOOGLE_CLIENT_ID": "1234.apps.googleusercontent.com",
    "GOOGLE_CLIENT_SECRET": "google-secret-value",
    "REDIS_URL": "redis://:redis-password@redis:6379/0",
    "MCP_GATE_JWT_SECRET": "j" * 40,
    "MCP_GATE_ENCRYPTION_KEY": base64.b64encode(b"k" * 32).decode(),
    "LEGACY_API_KEY": "legacy-api-key-value",
    "CI_TOKEN": "ci-token-value",
    "DEPLOY_BOT_PASSWORD": "deploy-bot-password-value",
}


def test_example_config_loads_with_every_server_and_redacts_its_secrets():
    """Policy (issue 6): config.example.yaml is complete and loads clean with check-config."""
    config = load_config(EXAMPLE, ENVIRON)
    assert set(config.servers) == {"time", "notion", "legacy", "all"}
    assert config.servers["all"].aggregate is not None
    assert config.proxy.auth is not None
    assert config.proxy.auth.storage == "redis"
    assert [client.client_id for client in config.proxy.auth.clients] == ["vscode"]
    rendered = render_effective_config(config)
    for name, value in ENVIRON.items():
        if name != "GOOGLE_CLIENT_ID":
            assert value not in rendered, f"{name} leaked into check-config output"
