"""GitHub as the identity provider: OAuth 2.0 (not OpenID Connect) and its REST API.

Owns the GitHub login leg: the authorization request (`state`, PKCE S256: RFC 7636 §4.3),
the code exchange at `/login/oauth/access_token`, and the account the user's token reads
from the REST API: `GET /user` (the stable numeric `id` is the subject; a login can be
renamed), `GET /user/emails` (the primary address, which must be verified), then
membership: `GET /orgs/{org}/members/{login}` (204 for a member) for `allowedOrgs`, and
`GET /user/teams` (`org/team-slug`) for `allowedTeams`. Being in any one allowed org or
team admits; `allowedDomains`, when set, also bounds the primary address's domain.
Sources: GitHub's docs "Authorizing OAuth apps" and the REST API reference (orgs/members,
teams, users/emails), API version 2022-11-28. GitHub Enterprise Server is the same API at
other roots (`idp.githubUrl`, `idp.githubApiUrl`).

There is no ID token and no nonce: the account is what the API says for the token the
code bought, over TLS from the configured host. The token leaves as the identity's
`renewal`: `revalidate` runs the very same checks with it later (a revoked token, a user
out of the orgs and teams, refuses).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import ClassVar, Literal
from urllib.parse import quote, urlencode

import aiohttp
import structlog

from mcp_gate.config.model import Secret
from mcp_gate.idp.allowlist import verify_identity_allowed
from mcp_gate.idp.errors import IdpError, LoginRefusedError
from mcp_gate.idp.identity import Identity, Revalidated
from mcp_gate.idp.upstream import get_api, post_form

log = structlog.get_logger()

# GitHub: `read:user` and `user:email` read the profile and the addresses (including
# private ones); `read:org` reads private org and team memberships.
GITHUB_SCOPES = ("read:user", "user:email", "read:org")
API_VERSION = "2022-11-28"
# policy: 100 per page (GitHub's maximum) and at most 10 pages: a thousand teams or
# addresses is more than any account has, and a bound on what one login may cost.
PAGE_SIZE = 100
MAX_PAGES = 10
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
_ERROR_CODE = re.compile(r"[a-z_]{1,64}")


class GitHubProvider:
    """The gate's OAuth app at one GitHub (github.com, or an Enterprise Server)."""

    kind: ClassVar[Literal["github"]] = "github"

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: Secret,
        redirect_uri: str,
        web_url: str,
        api_url: str,
        http: aiohttp.ClientSession,
        allowed_domains: tuple[str, ...] = (),
        allowed_emails: tuple[str, ...] = (),
        allowed_orgs: tuple[str, ...] = (),
        allowed_teams: tuple[str, ...] = (),
        extra_scopes: tuple[str, ...] = (),
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.web_url = web_url.rstrip("/")
        self.api_url = api_url.rstrip("/")
        self._http = http
        self.allowed_domains = allowed_domains
        self.allowed_emails = allowed_emails
        self.allowed_orgs = allowed_orgs
        self.allowed_teams = allowed_teams
        self.scopes = tuple(dict.fromkeys(GITHUB_SCOPES + extra_scopes))

    def __repr__(self) -> str:
        return f"GitHubProvider(web_url={self.web_url!r})"

    @property
    def issuer(self) -> str:
        return self.web_url

    async def build_authorization_url(self, *, state: str, nonce: str, code_challenge: str) -> str:
        """GitHub's authorize URL; `nonce` has no place in plain OAuth and is not sent."""
        params = {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": " ".join(self.scopes),
            "state": state,
            "code_challenge": code_challenge,  # RFC 7636 §4.3
            "code_challenge_method": "S256",
            # policy: a sign-in to the gate is not the place to open a GitHub account.
            "allow_signup": "false",
        }
        return f"{self.web_url}/login/oauth/authorize?{urlencode(params, quote_via=quote)}"

    async def exchange_code(self, *, code: str, code_verifier: str, nonce: str) -> Identity:
        """Redeem the code; the allowed Identity, or `IdpError` / `LoginRefusedError`."""
        token = await self._request_token(code, code_verifier)
        return replace(await self.load_account(token), renewal=token)

    async def revalidate(self, renewal: str, subject: str) -> Revalidated:
        """The account behind the kept token, if it may still enter (`load_account`)."""
        if (await get_api(self._http, self.api_url + "/user", _Api.headers(renewal))).status == 401:
            raise LoginRefusedError("upstream_refused", "GitHub no longer accepts this sign-in.")
        identity = await self.load_account(renewal)
        if identity.subject != subject:
            raise LoginRefusedError("subject_changed", "The account is not the one that signed in.")
        return Revalidated(identity, renewal)

    async def load_account(self, access_token: str) -> Identity:
        """Who the token's user is, if they may enter: verified primary address, domain,
        org or team membership. Raises `LoginRefusedError` saying why not."""
        api = _Api(self._http, self.api_url, access_token)
        user = await api.get_object("/user")
        login, user_id = user.get("login"), user.get("id")
        if not isinstance(login, str) or not isinstance(user_id, int) or isinstance(user_id, bool):
            raise IdpError("api_failed", "GET /user answered without login and id")
        email, verified = await _primary_email(api)
        if not verified:
            raise LoginRefusedError(
                "email_unverified",
                f"The primary email address of your GitHub account, {email}, is not "
                "verified. Verify it at GitHub (Settings, Emails), then sign in again.",
            )
        name = user.get("name")
        identity = Identity(
            subject=str(user_id),
            email=email,
            email_verified=True,
            hosted_domain=None,
            name=name if isinstance(name, str) and name else login,
            issuer=self.issuer,
        )
        verify_identity_allowed(identity, self.allowed_domains, "github", self.allowed_emails)
        await self._verify_membership(api, login)
        return identity

    async def _verify_membership(self, api: _Api, login: str) -> None:
        """None if `login` is in an allowed org or team (or none is configured)."""
        if not self.allowed_orgs and not self.allowed_teams:
            return
        for org in self.allowed_orgs:
            # 204: a member; 404 (or 302 when GitHub hides the list): not one.
            status = await api.status(f"/orgs/{quote(org, safe='')}/members/{quote(login)}")
            if status == 204:
                return
            if status not in (302, 404):
                raise IdpError("api_failed", f"org membership answered HTTP {status}")
        wanted = {team.lower() for team in self.allowed_teams}
        if wanted:
            async for team in api.get_pages("/user/teams"):
                if _team_name(team) in wanted:
                    return
        listed = ", ".join([*self.allowed_orgs, *self.allowed_teams])
        raise LoginRefusedError(
            "not_a_member",
            f"Your GitHub account {login} is not a member of {listed}, which may use this "
            "gate. Ask an owner to add you (and to approve this gate's OAuth app for the "
            "organization), then sign in again.",
        )

    async def _request_token(self, code: str, code_verifier: str) -> str:
        form = {
            "client_id": self.client_id,
            "client_secret": self._client_secret.reveal(),
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": code_verifier,  # RFC 7636 §4.5
        }
        url = f"{self.web_url}/login/oauth/access_token"
        status, body = await post_form(self._http, url, form, {"Accept": "application/json"})
        # GitHub answers a refused code with HTTP 200 and an `error` member.
        error = body.get("error") if body is not None else None
        if error == "bad_verification_code":
            raise LoginRefusedError(
                "code_rejected",
                "This sign-in has expired or was already used. Start the sign-in again.",
            )
        token = body.get("access_token") if body is not None else None
        if status != 200 or error is not None or not isinstance(token, str) or not token:
            shown = error if isinstance(error, str) and _ERROR_CODE.fullmatch(error) else None
            raise IdpError(
                "token_request_failed", f"token endpoint answered HTTP {status}, error={shown}"
            )
        return token


async def _primary_email(api: _Api) -> tuple[str, bool]:
    """The primary address and whether GitHub verified it (`GET /user/emails`)."""
    async for entry in api.get_pages("/user/emails"):
        if entry.get("primary") is True:
            email = entry.get("email")
            if isinstance(email, str) and "@" in email:
                return email, entry.get("verified") is True
    raise LoginRefusedError(
        "email_missing",
        "GitHub did not share a primary email address of your account, which the gate "
        "needs to decide whether you may enter. Allow access to your email and try again.",
    )


class _Api:
    """GitHub's REST API as one user's token sees it."""

    def __init__(self, http: aiohttp.ClientSession, root: str, token: str) -> None:
        self._http = http
        self._root = root
        self._headers = self.headers(token)

    @staticmethod
    def headers(token: str) -> dict[str, str]:
        return {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "X-GitHub-Api-Version": API_VERSION,
        }

    async def status(self, path: str) -> int:
        return (await get_api(self._http, self._root + path, self._headers)).status

    async def get_object(self, path: str) -> dict[str, object]:
        answer = await get_api(self._http, self._root + path, self._headers)
        if answer.status != 200 or not isinstance(answer.body, dict):
            raise IdpError("api_failed", f"GET {path} answered HTTP {answer.status}")
        return answer.body

    async def get_pages(self, path: str) -> AsyncIterator[dict[str, object]]:
        """The objects of a list resource, page by page (the `Link: rel="next"` header)."""
        url: str | None = f"{self._root}{path}?per_page={PAGE_SIZE}"
        for _ in range(MAX_PAGES):
            if url is None:
                return
            answer = await get_api(self._http, url, self._headers)
            if answer.status != 200 or not isinstance(answer.body, list):
                raise IdpError("api_failed", f"GET {path} answered HTTP {answer.status}")
            for item in answer.body:
                if isinstance(item, dict):
                    yield item
            url = _next_page(answer.link, self._root)
        log.warning("idp_pages_truncated", path=path, pages=MAX_PAGES)


def _team_name(team: dict[str, object]) -> str | None:
    """`org/team-slug` of a `GET /user/teams` item, lower-cased."""
    organization = team.get("organization")
    org = organization.get("login") if isinstance(organization, dict) else None
    slug = team.get("slug")
    return f"{org}/{slug}".lower() if isinstance(org, str) and isinstance(slug, str) else None


def _next_page(link: str | None, root: str) -> str | None:
    """The `rel="next"` URL of a Link header (RFC 8288 §3), if it stays on the API root."""
    match = _NEXT_LINK.search(link or "")
    if match is None or not match.group(1).startswith(root + "/"):
        return None
    return match.group(1)
