"""Who may enter: the `allowedDomains` and `allowedEmails` policy applied to a verified
Identity (docs/identity-providers.md).

Owns the decision and the words a refused user reads. Pure: it sees an Identity that
`id_token.py` (or `dev.py`) already verified, and never a token.

The policy:
- `email_verified` must be true, for every provider.
- Google: the ID token's `hd` claim (the Workspace domain) must be one of `allowedDomains`.
  The `hd` request parameter is only a hint to Google's account chooser and proves nothing;
  the claim is signed by Google. A personal account has no `hd` and is refused. The email's
  own domain is not consulted: a Workspace user's address may be in a secondary domain.
- Any other OIDC provider (and `dev`): the domain of the verified email must be one of
  `allowedDomains`.
- A verified address listed in `allowedEmails` enters whatever its domain (people outside
  the domains: partners, contractors), with any provider.
- Domains and addresses compare case-insensitively.
- Empty `allowedDomains` and `allowedEmails` admit every verified user of the IdP. For
  Google that is every Google account in the world; the startup warning about it belongs to
  the app.
"""

from __future__ import annotations

from collections.abc import Iterable

from mcp_gate.config.model import ProviderKind
from mcp_gate.idp.errors import LoginRefusedError
from mcp_gate.idp.identity import Identity


def verify_identity_allowed(
    identity: Identity,
    allowed_domains: Iterable[str],
    provider: ProviderKind,
    allowed_emails: Iterable[str] = (),
) -> None:
    """None if the user may enter, else `LoginRefusedError` saying why."""
    if not identity.email_verified:
        raise LoginRefusedError(
            "email_unverified",
            f"The sign-in service has not verified the email address {identity.email}. "
            "Verify it with your provider, then sign in again.",
        )
    allowed = {domain.strip().lower() for domain in allowed_domains}
    emails = {email.strip().lower() for email in allowed_emails}
    if identity.email.strip().lower() in emails:
        return
    if not allowed:
        if emails:
            raise LoginRefusedError(
                "domain_not_allowed", f"{identity.email} may not use this gate."
            )
        return  # policy: no list means any verified user (see the module docstring)
    listed = ", ".join(sorted(allowed))
    if provider == "google":
        hosted_domain = identity.hosted_domain
        if hosted_domain is None:
            raise LoginRefusedError(
                "hd_missing",
                f"{identity.email} is a personal Google account. Sign in with your work "
                f"account of {listed}.",
            )
        if hosted_domain.lower() not in allowed:
            raise LoginRefusedError(
                "hd_mismatch",
                f"{identity.email} belongs to the Google Workspace of {hosted_domain}, which "
                f"may not use this gate. Sign in with your account of {listed}.",
            )
        return
    if identity.email_domain not in allowed:
        raise LoginRefusedError(
            "domain_not_allowed",
            f"Accounts of {identity.email_domain or 'that domain'} may not use this gate. "
            f"Sign in with your account of {listed}.",
        )
