"""Which redirect URIs a client may register, and how a presented one is matched."""

from __future__ import annotations

import pytest

from mcp_gate.oauth.errors import InvalidRedirectUri
from mcp_gate.oauth.redirect_uris import (
    classify_redirect_uri,
    is_dangerous_redirect_uri,
    redirect_uri_matches,
)


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        ("https://claude.ai/api/mcp/auth_callback", "https"),
        ("https://www.cursor.com/agents/mcp/oauth/callback", "https"),
        ("https://vscode.dev/redirect", "https"),
        ("https://example.com:8443/cb?tenant=a", "https"),
        ("http://localhost/callback", "loopback"),
        ("http://127.0.0.1:33418/", "loopback"),
        ("http://[::1]:5000/cb", "loopback"),
        ("http://LOCALHOST:6274/oauth/callback", "loopback"),
        ("cursor://anysphere.cursor-mcp/oauth/callback", "private_use"),
        ("vscode://vscode.github-authentication/did-authenticate", "private_use"),
        ("vscode-insiders://x/cb", "private_use"),
        ("windsurf://codeium.windsurf/cb", "private_use"),
        ("com.example.app:/oauth2redirect", "private_use"),
    ],
)
def test_usable_redirect_uri_is_classified(uri: str, kind: str) -> None:
    """Spec (RFC 8252 §7.1-7.3, MCP security §Communication Security) plus policy allowlist."""
    assert classify_redirect_uri(uri) == kind


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("javascript:alert(1)", "not allowed"),
        ("JavaScript:alert(1)", "not allowed"),
        ("data:text/html,hi", "not allowed"),
        ("file:///etc/passwd", "not allowed"),
        ("vbscript:msgbox", "not allowed"),
        ("about:blank", "not allowed"),
        ("blob:https://example.com/uuid", "not allowed"),
        ("http://example.com/cb", "localhost"),
        ("http://127.0.0.2/cb", "localhost"),
        ("http://localhost.example.com/cb", "localhost"),
        ("https://example.com/cb#frag", "fragment"),
        ("http://localhost/cb#", "fragment"),
        ("https://user:pw@example.com/cb", "user information"),
        ("cursor://evil@anysphere.cursor-mcp/cb", "user information"),
        ("myapp:/cb", "not a known private-use scheme"),
        ("ftp://example.com/cb", "not a known private-use scheme"),
        ("/relative/cb", "absolute"),
        ("https:///no-host", "needs a host"),
        ("https://example.com/a b", "printable ASCII"),
        ("https://exämple.com/cb", "printable ASCII"),
        ("", "printable ASCII"),
        ("http://localhost:99999999/cb", "malformed"),
        ("https://example.com/" + "a" * 2000, "longer than"),
    ],
)
def test_unusable_redirect_uri_is_refused_with_a_reason(uri: str, reason: str) -> None:
    """Spec (RFC 6749 §3.1.2, RFC 8252 §8.3, MCP security §Communication Security)."""
    with pytest.raises(InvalidRedirectUri, match=reason):
        classify_redirect_uri(uri)


@pytest.mark.parametrize(
    "uri",
    ["javascript:alert(1)", " javascript:x", "java\tscript:x", "DATA:x", "file:/x", "vbscript:x"],
)
def test_script_and_local_schemes_are_dangerous_however_spelled(uri: str) -> None:
    """Policy (WHATWG URL parsing): browsers strip blanks and controls before the scheme."""
    assert is_dangerous_redirect_uri(uri)


def test_ordinary_schemes_are_not_dangerous() -> None:
    """Policy: only script and local-data schemes refuse a whole registration."""
    for uri in ["https://a.example/cb", "http://example.com/cb", "myapp:/cb", "about:blank"]:
        assert not is_dangerous_redirect_uri(uri)


def test_loopback_redirect_uri_matches_on_any_port() -> None:
    """Spec (RFC 8252 §7.3, OAuth 2.1 §8.4.2): Claude Code and VS Code use ephemeral ports."""
    claude_code = ["http://localhost/callback", "http://127.0.0.1/callback"]
    assert redirect_uri_matches(claude_code, "http://localhost:54012/callback")
    assert redirect_uri_matches(claude_code, "http://127.0.0.1:61000/callback")
    vscode = ["http://127.0.0.1:33418/", "https://vscode.dev/redirect"]
    assert redirect_uri_matches(vscode, "http://127.0.0.1:33418/")
    assert redirect_uri_matches(vscode, "http://127.0.0.1:40123/")
    assert redirect_uri_matches(["http://[::1]:1/cb"], "http://[::1]:2/cb")


def test_loopback_with_empty_path_equals_root_path() -> None:
    """Spec (RFC 3986 §6.2.3): an empty http path is "/"."""
    assert redirect_uri_matches(["http://127.0.0.1/"], "http://127.0.0.1:5000")
    assert redirect_uri_matches(["http://127.0.0.1"], "http://127.0.0.1:5000/")


def test_loopback_host_path_and_query_still_match_exactly() -> None:
    """Spec (RFC 8252 §7.3): only the port is free; localhost and 127.0.0.1 differ."""
    registered = ["http://localhost/callback?x=1"]
    assert not redirect_uri_matches(registered, "http://127.0.0.1:5000/callback?x=1")
    assert not redirect_uri_matches(registered, "http://localhost:5000/oauth/callback?x=1")
    assert not redirect_uri_matches(registered, "http://localhost:5000/callback?x=2")
    assert not redirect_uri_matches(registered, "http://localhost:5000/callback")
    assert not redirect_uri_matches(registered, "https://localhost:5000/callback?x=1")
    assert not redirect_uri_matches(["http://127.0.0.1/cb"], "http://[::1]:5000/cb")


def test_https_and_private_use_redirect_uris_match_exactly() -> None:
    """Spec (OAuth 2.1 §4.1.1, RFC 9700 §4.1.3): simple string comparison."""
    registered = [
        "https://claude.ai/api/mcp/auth_callback",
        "cursor://anysphere.cursor-mcp/oauth/callback",
    ]
    assert redirect_uri_matches(registered, "https://claude.ai/api/mcp/auth_callback")
    assert redirect_uri_matches(registered, "cursor://anysphere.cursor-mcp/oauth/callback")
    for presented in [
        "https://claude.ai:443/api/mcp/auth_callback",
        "https://claude.ai/api/mcp/auth_callback/",
        "https://CLAUDE.ai/api/mcp/auth_callback",
        "https://claude.ai/api/mcp/auth_callback?x=1",
        "https://claude.ai.evil.example/api/mcp/auth_callback",
        "cursor://anysphere.cursor-mcp/oauth/callback/..",
    ]:
        assert not redirect_uri_matches(registered, presented), presented


def test_unusable_presented_uri_never_matches() -> None:
    """Policy: a registered value that slipped through validation still never matches."""
    assert not redirect_uri_matches(["javascript:alert(1)"], "javascript:alert(1)")
    assert not redirect_uri_matches(["https://a.example/cb#x"], "https://a.example/cb#x")
    assert not redirect_uri_matches([], "https://a.example/cb")
