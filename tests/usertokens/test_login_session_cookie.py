"""The login session cookie's flags (docs/THREAT_MODEL.md): `__Host-` on https, HttpOnly, Secure,
Lax."""

from __future__ import annotations

import os

from aiohttp import web

from mcp_gate.cookies import LOGIN_SESSION_SECONDS, BrowserCookies
from mcp_gate.crypto.aead import Sealer


def _session_morsel(secure: bool):
    cookies = BrowserCookies(Sealer([os.urandom(32)]), secure=secure)
    response = web.Response()
    cookies.start_session(response, "subject", "alice@example.com")
    return cookies.session_name, response.cookies[cookies.session_name]


def test_session_cookie_on_https_is_host_prefixed_secure_httponly_lax_and_expires():
    """Issue 5 §1; RFC 6265bis §4.1.3.2: `__Host-` means Secure, Path=/ and no Domain."""
    name, morsel = _session_morsel(secure=True)
    assert name == "__Host-mcp-gate-session"
    assert morsel["secure"] is True
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert morsel["path"] == "/"
    assert not morsel["domain"]
    assert int(morsel["max-age"]) == LOGIN_SESSION_SECONDS


def test_session_cookie_on_plain_http_drops_the_prefix_and_secure_only():
    """policy: a loopback http gate cannot set Secure or `__Host-` cookies; the rest stays."""
    name, morsel = _session_morsel(secure=False)
    assert name == "mcp-gate-session"
    assert not morsel["secure"]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"


def test_session_cookie_value_reveals_neither_subject_nor_email():
    """docs/THREAT_MODEL.md, Assets: browser sessions are AES-GCM encrypted cookies."""
    _, morsel = _session_morsel(secure=True)
    assert "alice" not in morsel.value
    assert "subject" not in morsel.value
