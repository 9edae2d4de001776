"""`proxy.auth.idp.groupsClaim`: read for `provider: oidc`, shown in the effective config,
refused (with its key path) for other providers and for names that are not claim names."""

from __future__ import annotations

from mcp_gate.config import parse_config, render_effective_config
from tests.fixtures.config_files import google_auth, minimal_document, problems_of

OIDC = {
    "provider": "oidc",
    "clientId": "gate",
    "clientSecret": "s",
    "discoveryUrl": "https://idp.example.test/.well-known/openid-configuration",
}


def _document(idp: dict) -> dict:
    document = minimal_document()
    document["proxy"]["auth"] = {**google_auth(), "idp": idp}
    return document


def test_groups_claim_is_read_for_oidc_and_shown() -> None:
    config = parse_config(_document({**OIDC, "groupsClaim": "https://gate.test/groups"}), {})
    assert config.proxy.auth is not None
    assert config.proxy.auth.idp.groups_claim == "https://gate.test/groups"
    assert "groupsClaim: https://gate.test/groups" in render_effective_config(config)


def test_groups_claim_is_refused_for_google_and_for_odd_names() -> None:
    google = problems_of(_document({**google_auth()["idp"], "groupsClaim": "groups"}))
    odd = problems_of(_document({**OIDC, "groupsClaim": "has space"}))
    assert any(p.startswith("proxy.auth.idp.groupsClaim") for p in google)
    assert any(p.startswith("proxy.auth.idp.groupsClaim") for p in odd)
