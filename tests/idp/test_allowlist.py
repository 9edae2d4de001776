"""Who may enter (allowlist.py): `email_verified` and `allowedDomains`, per provider."""

from __future__ import annotations

import pytest

from mcp_gate.config.model import ProviderKind
from mcp_gate.idp import Identity, LoginRefusedError, verify_identity_allowed


def identity(
    email: str = "alice@example.com",
    *,
    email_verified: bool = True,
    hosted_domain: str | None = "example.com",
) -> Identity:
    return Identity(
        subject="sub-1",
        email=email,
        email_verified=email_verified,
        hosted_domain=hosted_domain,
        name="Alice",
        issuer="https://accounts.google.com",
    )


def refusal(user: Identity, allowed: tuple[str, ...], provider: ProviderKind) -> str:
    with pytest.raises(LoginRefusedError) as refused:
        verify_identity_allowed(user, allowed, provider)
    assert refused.value.message
    return refused.value.reason


@pytest.mark.parametrize("provider", ["google", "oidc", "dev"])
def test_unverified_email_is_refused_by_every_provider(provider: ProviderKind) -> None:
    """docs/identity-providers.md: email_verified must be true, even with no allowlist."""
    assert refusal(identity(email_verified=False), (), provider) == "email_unverified"


def test_google_workspace_user_of_an_allowed_domain_enters() -> None:
    """docs/identity-providers.md, Google: the hd claim in allowedDomains admits the user."""
    verify_identity_allowed(identity(), ("example.com",), "google")


def test_google_hd_matches_case_insensitively() -> None:
    """Policy: domains are DNS names and compare without case."""
    verify_identity_allowed(identity(hosted_domain="Example.COM"), (" example.com",), "google")


def test_google_user_whose_email_is_in_a_secondary_domain_enters_by_hd() -> None:
    """docs/identity-providers.md, Google: the hd claim decides, not the email's domain."""
    user = identity("alice@example-alias.test", hosted_domain="example.com")
    verify_identity_allowed(user, ("example.com",), "google")


def test_google_user_of_another_workspace_is_refused() -> None:
    """docs/identity-providers.md, Google: hd must be one of allowedDomains."""
    user = identity("alice@example.com", hosted_domain="evil.test")
    assert refusal(user, ("example.com",), "google") == "hd_mismatch"


def test_personal_google_account_is_refused_when_domains_are_listed() -> None:
    """Policy: no hd claim means a consumer account, never in a Workspace allowlist."""
    assert refusal(identity(hosted_domain=None), ("example.com",), "google") == "hd_missing"


def test_oidc_user_is_allowed_by_email_domain_and_not_by_hd() -> None:
    """docs/identity-providers.md: other providers are judged by the verified email's domain."""
    verify_identity_allowed(identity(hosted_domain=None), ("example.com",), "oidc")
    user = identity("bob@evil.test", hosted_domain="example.com")
    assert refusal(user, ("example.com",), "oidc") == "domain_not_allowed"


def test_email_domain_is_matched_whole_not_as_a_suffix() -> None:
    """Policy: notexample.com and example.com.evil.test are other domains."""
    for email in ("bob@notexample.com", "bob@example.com.evil.test"):
        assert refusal(identity(email), ("example.com",), "oidc") == "domain_not_allowed"


@pytest.mark.parametrize("provider", ["google", "oidc", "dev"])
def test_empty_allowlist_admits_any_verified_user(provider: ProviderKind) -> None:
    """Policy (allowlist.py docstring): no allowedDomains means every verified user."""
    verify_identity_allowed(identity("x@anywhere.test", hosted_domain=None), (), provider)
