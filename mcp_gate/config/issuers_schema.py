"""`proxy.auth.trustedIssuers`: workload identity issuers whose JWTs the gate exchanges.

Owns the meaning and checks of `proxy.auth.trustedIssuers[*]` (RFC 8693 token exchange;
the MCP workload-identity-federation extension's JWT bearer grant, RFC 7523 §2.1): the
issuer (the exact `iss`), the audiences a token must name, where its keys are (`jwksUrl`,
or the issuer's OpenID discovery document), the `principal` template and the `require`d
claims. Reads no files, fetches no keys.
"""

from __future__ import annotations

import re

from mcp_gate.config.model import TrustedIssuer
from mcp_gate.config.section import Section
from mcp_gate.config.values import is_http_url, resolve
from mcp_gate.loopback import is_tls_or_loopback_url
from mcp_gate.principal import principal_template_problem

ISSUER_KEYS = ("issuer", "audience", "jwksUrl", "principal", "require")
_CLAIM_NAME = re.compile(r"[A-Za-z0-9_.:/-]{1,64}")


def parse_trusted_issuers(auth: Section) -> tuple[TrustedIssuer, ...]:
    issuers = []
    first_path_of: dict[str, str] = {}
    for path, raw in auth.items("trustedIssuers"):
        section = Section(auth.ctx, path, raw, ISSUER_KEYS)
        before = len(section.ctx.problems)
        issuer = _issuer(section)
        if issuer in first_path_of:
            section.ctx.error(section.at("issuer"), f"repeats {first_path_of[issuer]}")
        elif issuer:
            first_path_of[issuer] = section.at("issuer")
        trusted = TrustedIssuer(
            issuer=issuer,
            audiences=_audiences(section),
            principal=_principal(section),
            jwks_url=_jwks_url(section, issuer),
            require=_require(section),
        )
        if len(section.ctx.problems) == before:
            issuers.append(trusted)
    return tuple(issuers)


def _issuer(section: Section) -> str:
    section.need(
        "issuer", "the exact iss of its tokens, like https://token.actions.githubusercontent.com"
    )
    issuer = section.text("issuer")
    if section.has("issuer") and not issuer:
        section.ctx.error(section.at("issuer"), "must not be empty")
    return issuer


def _audiences(section: Section) -> tuple[str, ...]:
    """`audience`: one string or a list; a token's `aud` must name one of them."""
    if not section.need("audience", "what its tokens' aud must name, like https://mcp.example.com"):
        return ()
    raw = section.data["audience"]
    values = (
        [resolve(section.ctx, path, item) for path, item in section.items("audience")]
        if isinstance(raw, list)
        else [section.text("audience")]
    )
    audiences = tuple(value for value in values if isinstance(value, str) and value)
    if not audiences:
        section.ctx.error(section.at("audience"), "must name at least one audience")
    return audiences


def _principal(section: Section) -> str:
    if not section.need("principal", "the principal its tokens act as, like github:{{repository}}"):
        return ""
    template = section.text("principal")
    problem = principal_template_problem(template)
    if problem is not None:
        section.ctx.error(section.at("principal"), problem)
    return template


def _jwks_url(section: Section, issuer: str) -> str:
    url = section.text("jwksUrl")
    if url and not is_tls_or_loopback_url(url):
        # policy: the keys that vouch for a workload come over TLS only.
        section.ctx.error(section.at("jwksUrl"), "must be an https URL (http only on loopback)")
    if not url and issuer and not (is_http_url(issuer) and is_tls_or_loopback_url(issuer)):
        # OIDC Discovery 1.0 §4: only an https issuer has a discovery document to find keys in.
        section.need("jwksUrl", f"{issuer!r} is no https URL to discover the keys of")
    return url


def _require(section: Section) -> dict[str, tuple[str, ...]]:
    """`require: {claim: value or [values]}`: the token's claim must equal one of them
    (`true`, `42` are compared as the JSON text of the claim)."""
    require = {}
    for path, claim, raw in section.entries("require"):
        if not _CLAIM_NAME.fullmatch(claim):
            section.ctx.error(path, "expected a claim name like repository_owner")
            continue
        values = (
            [resolve(section.ctx, f"{path}[{i}]", item, scalars=True) for i, item in enumerate(raw)]
            if isinstance(raw, list)
            else [resolve(section.ctx, path, raw, scalars=True)]
        )
        texts = tuple(value for value in values if isinstance(value, str))
        if not texts:
            section.ctx.error(path, "expected a value or a list of values")
            continue
        require[claim] = texts
    return require
