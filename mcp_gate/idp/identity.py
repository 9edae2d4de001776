"""The one shape of a signed-in user, as the IdP verified it (OIDC Core 1.0 §2, §5.1).

Every provider (Google, generic OIDC, dev) produces this and nothing else; the rest of the
gate reads users only through it. It carries one secret, `renewal`, out of a login: what
the provider needs to re-check the account later (an OIDC refresh token, GitHub's access
token), which the gate keeps sealed with the grant (oauth/revalidation.py); it is never
shown in a repr, compared or logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Identity:
    """What the IdP asserted about the user in a verified ID token.

    `subject` is unique only within `issuer` (OIDC Core 1.0 §2 `sub`); `hosted_domain` is
    Google's `hd` claim (the Workspace domain), None for personal accounts and for
    providers that do not send it.
    """

    subject: str
    email: str
    email_verified: bool
    hosted_domain: str | None
    name: str
    issuer: str
    # What the IdP says the user belongs to (`idp.groupsClaim`, Google's Directory API,
    # GitHub teams): policy rules and identity templates read them through the principal.
    groups: tuple[str, ...] = ()
    renewal: str = field(default="", repr=False, compare=False)

    @property
    def email_domain(self) -> str:
        """The domain part of `email`, lower-cased ("" when there is none)."""
        return self.email.rpartition("@")[2].lower()


@dataclass(frozen=True)
class Revalidated:
    """The answer of a provider's re-check of an account that may still enter: who they
    are now (None when the IdP said nothing new, as a refresh without an ID token), and
    the renewal to keep for the next check (rotated, or the same)."""

    identity: Identity | None
    renewal: str = field(repr=False)
