"""One login's state, nonce and PKCE verifier (login_request.py)."""

from __future__ import annotations

from mcp_gate.idp import LoginRequest
from mcp_gate.idp.login_request import build_redirect_uri, build_s256_challenge


def test_s256_challenge_matches_the_rfc_7636_example() -> None:
    """RFC 7636 Appendix B."""
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert build_s256_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_each_login_request_has_fresh_unguessable_values() -> None:
    """RFC 7636 §4.1 (43+ characters), OIDC Core 1.0 §3.1.2.1 state and nonce."""
    first, second = LoginRequest(), LoginRequest()

    values = {first.state, first.nonce, first.code_verifier, second.state, second.nonce}
    assert len(values) == 5
    assert len(first.code_verifier) >= 43
    assert first.code_challenge == build_s256_challenge(first.code_verifier)


def test_login_request_repr_shows_no_secret() -> None:
    """Secrets never reach logs, even through a repr."""
    login = LoginRequest()
    assert login.state not in repr(login)
    assert login.code_verifier not in repr(login)


def test_redirect_uri_honours_the_base_path() -> None:
    """docs/routes.md: every route honours a path in baseURL."""
    assert build_redirect_uri("https://host/gate/") == "https://host/gate/oauth/callback"
    assert build_redirect_uri("https://host") == "https://host/oauth/callback"
