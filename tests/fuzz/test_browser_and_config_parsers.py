"""Property: cookies, sealed consent requests and the config loader read any input as
either valid or absent / a config error with its key path; nothing else escapes.
Policy (docs/THREAT_MODEL.md): a tampered cookie reads as no cookie; a bad config file is
a list of problems, never a traceback.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from aiohttp.test_utils import make_mocked_request
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict

from mcp_gate.config import load_config, parse_config
from mcp_gate.cookies import BrowserCookies
from mcp_gate.crypto.aead import Sealer, ephemeral_key
from mcp_gate.errors import ConfigError
from mcp_gate.oauth.consent_requests import ConsentRequests
from tests.fuzz.strategies import bent_document, json_values, raised, urlish_text

_SEALER = Sealer([ephemeral_key()])
_COOKIES = BrowserCookies(_SEALER, secure=True)
_cookie_value = st.one_of(
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=", max_size=120
    ),
    st.builds(lambda t: _SEALER.seal_text(t, b"mcp-gate login session v1"), st.binary(max_size=60)),
)


@given(_cookie_value, _cookie_value, urlish_text)
def test_any_cookie_reads_as_a_session_or_none_and_csrf_as_a_bool(
    session: str, csrf: str, token: str
) -> None:
    """policy: a missing, tampered or foreign cookie reads as absent, never an error."""
    header = f"{_COOKIES.session_name}={session}; {_COOKIES.csrf_name}={csrf}"
    request = make_mocked_request("GET", "/", headers=CIMultiDict({"Cookie": header}))
    read = _COOKIES.read_session(request)
    assert read is None or read.subject is not None
    assert isinstance(_COOKIES.verify_csrf(request, token, "consent:x"), bool)
    assert isinstance(_COOKIES.is_login_from_here(request, token, "state"), bool)


@given(st.one_of(urlish_text, _cookie_value))
def test_any_consent_request_text_opens_as_a_request_or_none(sealed: str) -> None:
    """policy: only a consent request this gate sealed, unexpired, opens."""
    assert ConsentRequests(_SEALER).open(sealed) is None


_AUTH = {
    "kind": "oauth",
    "idp": {
        "provider": "oidc",
        "clientId": "gate",
        "clientSecret": "s",
        "discoveryUrl": "https://idp.example/.well-known/openid-configuration",
    },
    "allowedDomains": ["example.com"],
    "allowedOrigins": ["https://claude.ai"],
    "storage": "redis",
    "redis": {"url": "redis://redis.example:6379/0"},
    "jwtSecret": "j" * 32,
    "encryptionKey": "e" * 32,
}
_DOCUMENT = {
    "proxy": {"baseURL": "https://gate.example", "addr": "127.0.0.1:8080"},
    "mcpServers": {"time": {"transportType": "stdio", "command": "mcp-server-time"}},
}


@given(
    st.one_of(
        bent_document(_DOCUMENT),
        st.builds(
            lambda proxy, server: {"proxy": proxy, "mcpServers": {"s": server}},
            bent_document(_DOCUMENT["proxy"]),
            bent_document({"transportType": "sse", "url": "http://b.example/sse"}),
        ),
        st.builds(
            lambda auth, idp: {
                **_DOCUMENT,
                "proxy": {**_DOCUMENT["proxy"], "auth": {**auth, "idp": idp}},
            },
            bent_document(_AUTH),
            bent_document(_AUTH["idp"]),
        ),
        json_values,
    )
)
def test_any_config_document_loads_or_is_a_config_error(document: object) -> None:
    """Config loading: every problem is reported as a ConfigError, with its key path."""
    error = raised(ConfigError, lambda: parse_config(document, {}))
    assert error is None or all(isinstance(p, str) and p for p in error.problems)


@given(st.text(max_size=200), st.sampled_from(["gate.yaml", "gate.json"]))
def test_any_config_file_text_loads_or_is_a_config_error(text: str, name: str) -> None:
    """Config loading: a file of any text is a config or a list of problems."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8")
        error = raised(ConfigError, lambda: load_config(path, {}))
    assert error is None or error.problems
