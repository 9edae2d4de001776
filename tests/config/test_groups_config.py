"""`proxy.auth.idp.groupsClaim` (oidc) and `proxy.auth.idp.googleGroups` (google): read,
shown in the effective config (keys redacted), refused with their key path when misused."""

from __future__ import annotations

from mcp_gate.config import parse_config, render_effective_config
from tests.fixtures.config_files import google_auth, minimal_document, problems_of
from tests.fixtures.google_directory import DirectoryStandIn

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


def _google(groups: object) -> dict:
    return _document({**google_auth()["idp"], "googleGroups": groups})


def test_google_groups_are_read_with_an_inline_key_and_shown_redacted() -> None:
    """`serviceAccountKey` (the key file's JSON, here inline) and `adminEmail`."""
    key = DirectoryStandIn().service_account_key()
    config = parse_config(
        _google({"adminEmail": "admin@example.test", "serviceAccountKey": key}), {}
    )
    assert config.proxy.auth is not None
    groups = config.proxy.auth.idp.google_groups
    assert groups is not None
    assert groups.admin_email == "admin@example.test"
    assert groups.directory_url == "https://admin.googleapis.com"
    assert "PRIVATE KEY" not in render_effective_config(config)


def test_google_groups_misuse_names_the_key_path() -> None:
    """No admin, no key, a key that is not one, and googleGroups with another provider."""
    missing = problems_of(_google({}))
    not_a_key = problems_of(
        _google({"adminEmail": "admin@example.test", "serviceAccountKey": "{}"})
    )
    oidc = problems_of(_document({**OIDC, "googleGroups": {"adminEmail": "a@b.test"}}))
    assert any(p.startswith("proxy.auth.idp.googleGroups.adminEmail") for p in missing)
    assert any(p.startswith("proxy.auth.idp.googleGroups.serviceAccountKey") for p in missing)
    assert any("is not a service account key" in p for p in not_a_key)
    assert any(p.startswith("proxy.auth.idp.googleGroups") for p in oidc)
