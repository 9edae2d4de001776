"""`proxy.auth.clients`: pre-registered OAuth clients, their checks, and their render."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys

import pytest

from mcp_gate.config import parse_config, render_effective_config
from mcp_gate.config.model import Secret, StaticClient
from mcp_gate.config.render import build_document
from mcp_gate.errors import ConfigError
from tests.fixtures.config_files import google_auth, minimal_document, problems_of

SECRET = "c0nfidential-client-secret-0123456789abcdef"
VSCODE = {
    "clientId": "vscode",
    "clientName": "Visual Studio Code",
    "redirectUris": ["http://127.0.0.1:33418/", "https://vscode.dev/redirect"],
}


def _with_clients(*clients: object) -> dict:
    document = minimal_document()
    document["proxy"]["auth"] = {**google_auth(), "clients": list(clients)}
    return document


def _clients(document: dict, environ: dict[str, str] | None = None) -> tuple[StaticClient, ...]:
    auth = parse_config(document, environ or {}).proxy.auth
    assert auth is not None
    return auth.clients


def test_public_and_confidential_clients_load() -> None:
    """MCP 2025-11-25 authorization §Preregistration: a public client (no secret) and one with a
    secret from $env."""
    confidential = {
        "clientId": "team-tool.v2",
        "clientName": "Team tool",
        "redirectUris": ["https://tool.example.test/oauth/callback"],
        "clientSecret": {"$env": "TEAM_TOOL_SECRET"},
    }
    clients = _clients(_with_clients(VSCODE, confidential), {"TEAM_TOOL_SECRET": SECRET})
    assert clients == (
        StaticClient(
            client_id="vscode",
            client_name="Visual Studio Code",
            redirect_uris=("http://127.0.0.1:33418/", "https://vscode.dev/redirect"),
            client_secret=None,
        ),
        StaticClient(
            client_id="team-tool.v2",
            client_name="Team tool",
            redirect_uris=("https://tool.example.test/oauth/callback",),
            client_secret=Secret(SECRET),
        ),
    )


def test_no_clients_key_means_no_static_clients() -> None:
    """Default: DCR and CIMD only."""
    document = minimal_document()
    document["proxy"]["auth"] = google_auth()
    assert _clients(document) == ()
    assert _clients(_with_clients()) == ()


@pytest.mark.parametrize(
    ("changes", "problems"),
    [
        ({"clientId": None}, ["clientId: required: the id the client sends, like vscode"]),
        ({"clientId": ""},
         ["clientId: must be 1 to 128 characters among A-Z a-z 0-9 - . _ ~"]),
        ({"clientId": "vs code"},
         ["clientId: must be 1 to 128 characters among A-Z a-z 0-9 - . _ ~"]),
        ({"clientId": "a" * 129},
         ["clientId: must be 1 to 128 characters among A-Z a-z 0-9 - . _ ~"]),
        ({"clientId": 7}, ["clientId: expected a string, got an integer"]),
        ({"clientName": None},
         ["clientName: required: the name the consent page shows, like Visual Studio Code"]),
        ({"clientName": "  "}, ["clientName: must not be empty"]),
        ({"clientName": "x" * 101}, ["clientName: must be at most 100 characters"]),
        ({"clientName": "VS\u202eCode"}, ["clientName: must not contain control characters"]),
        ({"redirectUris": None},
         ["redirectUris: required: where the client may receive its authorization code"]),
        ({"redirectUris": []}, ["redirectUris: the list is empty"]),
        ({"redirectUris": "https://vscode.dev/redirect"},
         ["redirectUris: expected a list, got a string"]),
        ({"redirectUris": ["http://vscode.example.test/cb"]},
         ["redirectUris[0]: http redirect URIs are allowed only on localhost, 127.0.0.1 or [::1]"]),
        ({"redirectUris": ["https://vscode.dev/redirect", "javascript:alert(1)"]},
         ["redirectUris[1]: redirect URI scheme 'javascript' is not allowed"]),
        ({"redirectUris": ["https://vscode.dev/redirect#x"]},
         ["redirectUris[0]: redirect URI must not contain a fragment"]),
        ({"redirectUris": ["http://127.0.0.1:33418/", "http://127.0.0.1:33418/"]},
         ["redirectUris[1]: repeats proxy.auth.clients[0].redirectUris[0]"]),
        ({"clientSecret": "too-short"},
         ["clientSecret: must be at least 32 characters among A-Z a-z 0-9 - . _ ~, like the "
          "output of openssl rand -hex 32"]),
        ({"clientSecret": "+" * 40},
         ["clientSecret: must be at least 32 characters among A-Z a-z 0-9 - . _ ~, like the "
          "output of openssl rand -hex 32"]),
        ({"clientSecret": {"$env": "UNSET_SECRET"}},
         ["clientSecret: environment variable UNSET_SECRET is not set"]),
        ({"redirect_uris": []}, ["redirect_uris: unknown key; did you mean redirectUris?"]),
    ],
)  # fmt: skip
def test_each_bad_value_is_reported_with_its_path(changes: dict, problems: list[str]) -> None:
    """Every problem of an entry carries its key path (docs/config.md, Errors)."""
    entry = {key: value for key, value in {**VSCODE, **changes}.items() if value is not None}
    prefix = "proxy.auth.clients[0]."
    assert problems_of(_with_clients(entry)) == [prefix + problem for problem in problems]


@pytest.mark.parametrize(
    "client_id",
    [
        "https://app.example.test/oauth/client.json",
        "http://127.0.0.1:33418/",
        "urn:example:client",
        "vscode:client",
    ],
)
def test_url_shaped_client_id_is_refused(client_id: str) -> None:
    """MCP 2025-11-25 authorization §Client ID Metadata Documents: URL client ids are CIMD
    documents, fetched, not configured."""
    assert problems_of(_with_clients({**VSCODE, "clientId": client_id})) == [
        "proxy.auth.clients[0].clientId: must not be a URL: URL client ids are Client ID "
        "Metadata Documents, which the gate fetches itself; pick a plain id like vscode"
    ]


def test_duplicate_client_ids_are_refused() -> None:
    """Policy: one id names one client; the second entry points at the first."""
    other = {**VSCODE, "clientName": "VS Code Insiders"}
    assert problems_of(_with_clients(VSCODE, {**VSCODE, "clientId": "cursor"}, other)) == [
        "proxy.auth.clients[2].clientId: duplicate client id; "
        "proxy.auth.clients[0].clientId already uses it"
    ]


def test_entries_that_are_not_mappings_and_a_clients_mapping_are_errors() -> None:
    """A wrong type is a problem with its path, never a Python exception."""
    assert problems_of(_with_clients("vscode")) == [
        "proxy.auth.clients[0]: expected a mapping, got a string"
    ]
    document = minimal_document()
    document["proxy"]["auth"] = {**google_auth(), "clients": VSCODE}
    assert problems_of(document) == ["proxy.auth.clients: expected a list, got a mapping"]


def test_any_value_anywhere_in_an_entry_gives_config_errors_only() -> None:
    """Policy: whatever type a value has, parsing ends in a config or a ConfigError."""
    entry = {**VSCODE, "clientSecret": SECRET}
    values: tuple[object, ...] = (
        [],
        {},
        7,
        True,
        1.5,
        "x",
        None,
        {"$env": "NOPE"},
        {"$userToken": "t"},
    )
    changed = [{**entry, key: value} for key in entry for value in values]
    changed += [{**entry, "redirectUris": [value]} for value in values]
    for candidate in changed:
        with contextlib.suppress(ConfigError):
            parse_config(_with_clients(candidate), {})


def test_client_secret_is_redacted_in_render_and_never_in_messages() -> None:
    """docs/config.md, Values: check-config shows every secret as ***; errors never quote one."""
    confidential = {**VSCODE, "clientSecret": SECRET}
    text = render_effective_config(parse_config(_with_clients(confidential), {}))
    assert SECRET not in text
    assert (
        "    clients:\n"
        "    - clientId: vscode\n"
        "      clientName: Visual Studio Code\n"
        "      redirectUris:\n"
        "      - http://127.0.0.1:33418/\n"
        "      - https://vscode.dev/redirect\n"
        "      clientSecret: '***'\n"
    ) in text
    short = "Sh0rt+secret"
    problems = problems_of(_with_clients({**VSCODE, "clientSecret": short}))
    assert all(short not in problem for problem in problems)


def test_rendered_clients_parse_back_to_an_equal_config() -> None:
    """Round trip: the rendered document, the secret given back through `$env`, is the same."""
    config = parse_config(
        _with_clients(VSCODE, {**VSCODE, "clientId": "c2", "clientSecret": SECRET})
    )
    environ: dict[str, str] = {}

    def as_env(secret: Secret) -> dict[str, str]:
        environ[f"S{len(environ)}"] = secret.reveal()
        return {"$env": f"S{len(environ) - 1}"}

    assert parse_config(build_document(config, show=as_env), environ) == config


def test_config_loader_imports_no_network_or_crypto_library() -> None:
    """Policy (STYLE habit 5): checking redirect URIs keeps `check-config` free of aiohttp and
    cryptography; only the pure `oauth/redirect_uris.py` is imported."""
    probe = (
        "import json, sys, mcp_gate.config; "
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = set(json.loads(result.stdout))
    assert not loaded & {"aiohttp", "cryptography", "structlog", "yarl", "redis"}
