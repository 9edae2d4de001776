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


def _github(**idp: object) -> dict:
    document = _document(provider="github", **idp)
    del document["proxy"]["auth"]["allowedDomains"]
    return document


def test_github_defaults_to_github_com_and_enterprise_server_to_its_api_v3():
    """GitHub Enterprise Server serves the REST API at <host>/api/v3."""
    config = parse_config(_github(allowedOrgs=["acme"], allowedTeams=["acme/platform"]), {})
    assert config.proxy.auth is not None
    idp = config.proxy.auth.idp
    assert (idp.github_url, idp.github_api_url) == ("https://github.com", "https://api.github.com")
    assert (idp.allowed_orgs, idp.allowed_teams) == (("acme",), ("acme/platform",))
    enterprise = parse_config(_github(allowedOrgs=["acme"], githubUrl="https://ghe.acme.test/"), {})
    assert enterprise.proxy.auth is not None
    assert enterprise.proxy.auth.idp.github_api_url == "https://ghe.acme.test/api/v3"


def test_github_without_orgs_teams_or_domains_is_refused():
    """policy: fail closed; otherwise every GitHub account in the world could log in."""
    assert problems_of(_github()) == [
        "proxy.auth.allowedDomains: required: the email domains allowed to log in, or "
        "idp.allowedOrgs / idp.allowedTeams: without one any GitHub account could log in"
    ]


def test_github_keys_are_checked_and_kept_to_github():
    """policy: names as GitHub spells them; TLS to GitHub; GitHub's keys on GitHub only."""
    problems = problems_of(
        _github(
            allowedOrgs=["acme", "-bad-"],
            allowedTeams=["platform"],
            githubUrl="http://ghe.acme.test",
            discoveryUrl=DISCOVERY,
        )
    )
    assert problems == [
        "proxy.auth.idp.discoveryUrl: not allowed: GitHub's OAuth is not OpenID Connect; "
        "see githubUrl",
        "proxy.auth.idp.githubUrl: must be an https URL without query (http only on loopback)",
        "proxy.auth.idp.allowedOrgs[1]: expected a GitHub organization name, got '-bad-'",
        "proxy.auth.idp.allowedTeams[0]: expected org/team-slug like acme/platform, got 'platform'",
    ]
    oidc = _document(provider="oidc", discoveryUrl=DISCOVERY, allowedOrgs=["acme"])
    assert problems_of(oidc) == [
        "proxy.auth.idp.allowedOrgs: not allowed: only with provider: github"
    ]
