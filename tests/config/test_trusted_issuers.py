"""`proxy.auth.trustedIssuers`: workload JWT issuers, their audiences, principal, requirements."""

from __future__ import annotations

from mcp_gate.config import parse_config
from mcp_gate.config.model import TrustedIssuer
from tests.fixtures.config_files import google_auth, minimal_document, problems_of

ACTIONS = "https://token.actions.githubusercontent.com"


def _with_issuers(*issuers: object) -> dict:
    document = minimal_document()
    document["proxy"]["auth"] = {**google_auth(), "trustedIssuers": list(issuers)}
    return document


def test_trusted_issuers_load_with_discovery_or_a_jwks_url():
    """RFC 8693; OIDC Discovery 1.0 §4: an https issuer's keys are found by discovery."""
    document = _with_issuers(
        {
            "issuer": ACTIONS,
            "audience": "https://mcp.example.test",
            "principal": "github:{{repository}}",
            "require": {"repository_owner": "acme", "ref": ["refs/heads/main", "refs/tags/v1"]},
        },
        {
            "issuer": "spiffe://acme.test",
            "audience": ["gate", "https://mcp.example.test"],
            "jwksUrl": "https://spire.acme.test/keys",
            "principal": "spiffe:{{sub}}",
            "require": {"admin": True},
        },
    )
    auth = parse_config(document, {}).proxy.auth
    assert auth is not None
    assert auth.trusted_issuers == (
        TrustedIssuer(
            issuer=ACTIONS,
            audiences=("https://mcp.example.test",),
            principal="github:{{repository}}",
            require={"repository_owner": ("acme",), "ref": ("refs/heads/main", "refs/tags/v1")},
        ),
        TrustedIssuer(
            issuer="spiffe://acme.test",
            audiences=("gate", "https://mcp.example.test"),
            principal="spiffe:{{sub}}",
            jwks_url="https://spire.acme.test/keys",
            require={"admin": ("true",)},
        ),
    )


def test_trusted_issuer_mistakes_are_reported_with_their_paths():
    """policy: a principal of its own kind; keys over TLS; required keys said why."""
    problems = problems_of(
        _with_issuers(
            {"issuer": ACTIONS, "audience": "gate", "principal": "user:{{sub}}"},
            {"issuer": ACTIONS, "audience": "gate", "principal": "{{sub}}"},
            {"issuer": "spiffe://acme.test", "audience": "gate", "principal": "spiffe:{{sub}}"},
            {"issuer": "https://k8s.test", "audience": [], "principal": "k8s:{{sub}}",
             "jwksUrl": "http://k8s.test/keys"},
            {"audience": "gate", "principal": "ci:{{sub}}"},
        )
    )  # fmt: skip
    assert problems == [
        "proxy.auth.trustedIssuers[0].principal: the prefix user: belongs to another kind of "
        "principal",
        "proxy.auth.trustedIssuers[1].issuer: repeats proxy.auth.trustedIssuers[0].issuer",
        "proxy.auth.trustedIssuers[1].principal: must begin with a prefix of its own, like "
        "github: (lowercase letters, digits, -)",
        "proxy.auth.trustedIssuers[2].jwksUrl: required: 'spiffe://acme.test' is no https URL "
        "to discover the keys of",
        "proxy.auth.trustedIssuers[3].audience: must name at least one audience",
        "proxy.auth.trustedIssuers[3].jwksUrl: must be an https URL (http only on loopback)",
        "proxy.auth.trustedIssuers[4].issuer: required: the exact iss of its tokens, like "
        "https://token.actions.githubusercontent.com",
    ]
