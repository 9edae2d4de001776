"""`proxy.auth.idp` keys beyond the client: `emailClaim` (oidc) and the provider's own."""

from __future__ import annotations

from mcp_gate.config import parse_config
from tests.fixtures.config_files import minimal_document, problems_of

DISCOVERY = "https://login.microsoftonline.test/tenant/v2.0/.well-known/openid-configuration"


def _document(**idp: object) -> dict:
    document = minimal_document()
    document["proxy"]["auth"] = {
        "idp": {"clientId": "gate", "clientSecret": "idp-secret"} | idp,
        "allowedDomains": ["example.test"],
    }
    return document


def test_email_claim_names_the_claim_an_oidc_login_reads():
    """policy: Entra's verified address is `upn`; `email` stays the default."""
    config = parse_config(_document(provider="oidc", discoveryUrl=DISCOVERY, emailClaim="upn"), {})
    assert config.proxy.auth is not None
    assert config.proxy.auth.idp.email_claim == "upn"
    default = parse_config(_document(provider="oidc", discoveryUrl=DISCOVERY), {})
    assert default.proxy.auth is not None
    assert default.proxy.auth.idp.email_claim == "email"


def test_email_claim_is_refused_for_other_providers_and_odd_names():
    """policy: Google's address is `email` with `hd`; a claim name is one JSON member name."""
    assert problems_of(_document(provider="google", emailClaim="upn")) == [
        "proxy.auth.idp.emailClaim: not allowed: only with provider: oidc"
    ]
    odd = _document(provider="oidc", discoveryUrl=DISCOVERY, emailClaim="e mail")
    assert problems_of(odd) == ["proxy.auth.idp.emailClaim: expected a claim name like upn"]
