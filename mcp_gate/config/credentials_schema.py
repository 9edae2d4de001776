"""A server's credentials: `serviceAuths` (machines) and `userAuthentication` (each user's token).

Owns the meaning and checks of `mcpServers.<name>.serviceAuths[*]`, `.userAuthentication`
and mcp-front's older `.tokenSetup` (read as a manual `userAuthentication`). Reads no
files; never puts a credential's value in a message.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Literal

from mcp_gate.config.model import (
    Secret,
    ServiceAuth,
    UserAuthentication,
    default_service_auth_name,
)
from mcp_gate.config.section import Section
from mcp_gate.config.values import TOKEN_PLACEHOLDER, Context, is_http_url, resolve
from mcp_gate.loopback import is_tls_or_loopback_url

SERVICE_AUTH_KEYS = ("type", "name", "tokens", "username", "password")
SERVICE_AUTH_UNSUPPORTED = {
    "userToken": "not supported: mcp-gate gives a service credential no user token; remove it",
}
_COMMON_KEYS = ("type", "displayName", "instructions", "helpUrl", "tokenFormat")
_MANUAL_KEYS = ("validation",)
_OAUTH_KEYS = ("authorizationUrl", "tokenUrl", "clientId", "clientSecret", "scopes")
USER_AUTH_KEYS = (*_COMMON_KEYS, *_MANUAL_KEYS, *_OAUTH_KEYS)
TOKEN_SETUP_KEYS = ("displayName", "instructions", "helpUrl", "tokenFormat")
# policy: a principal name reads plainly in logs and policy: `service:ci-bot`.
_SERVICE_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


def parse_service_auths(server: Section, server_name: str) -> tuple[ServiceAuth, ...]:
    """The entries, each with its principal name: `name`, or by default the server's name
    for the first entry and `<server>-<n>` for the n-th (so adding one renames none)."""
    auths = []
    first_path_of: dict[str, str] = {}
    for index, (path, raw) in enumerate(server.items("serviceAuths")):
        section = Section(
            server.ctx, path, raw, SERVICE_AUTH_KEYS, unsupported=SERVICE_AUTH_UNSUPPORTED
        )
        name = section.text("name", default_service_auth_name(server_name, index))
        if section.has("name") and not _SERVICE_NAME.fullmatch(name):
            section.ctx.error(
                section.at("name"), "may hold only letters, digits, '.', '_' and '-' (1 to 64)"
            )
        elif name in first_path_of:
            section.ctx.error(
                section.at("name") if section.has("name") else path,
                f"the principal name {name!r} is already {first_path_of[name]}'s; give each "
                "entry its own name",
            )
        first_path_of.setdefault(name, path)
        auths.append(replace(_service_auth(section), name=name))
    return tuple(auths)


def _service_auth(section: Section) -> ServiceAuth:
    if not section.need("type", "bearer or basic"):
        return ServiceAuth(type="bearer")
    kind = section.choice("type", ("bearer", "basic"), "")
    if kind == "bearer":
        section.forbid(("username", "password"), "only with type: basic")
        items = section.items("tokens")
        needed = section.need("tokens", "the accepted bearer tokens")
        if needed and not items and isinstance(section.data["tokens"], list):
            section.ctx.error(section.at("tokens"), "the list is empty")
        tokens = (_secret_item(section.ctx, path, raw) for path, raw in items)
        return ServiceAuth(type="bearer", tokens=tuple(token for token in tokens if token))
    if kind == "basic":
        section.forbid(("tokens",), "only with type: bearer")
        section.need("username", "the user name of the basic credential")
        section.need("password", "the password of the basic credential")
        username = section.text("username")
        if ":" in username:
            section.ctx.error(section.at("username"), "must not contain ':'")  # RFC 7617 §2
        return ServiceAuth(type="basic", username=username, password=section.secret("password"))
    return ServiceAuth(type="bearer")


def _secret_item(ctx: Context, path: str, raw: object) -> Secret | None:
    value = resolve(ctx, path, raw)
    if isinstance(value, str) and not value:
        ctx.error(path, "must not be empty")
    return Secret(value) if isinstance(value, str) and value else None


def parse_user_authentication(
    server: Section, name: str
) -> tuple[UserAuthentication | None, str | None]:
    """`userAuthentication` and its `tokenFormat`, or mcp-front's older `tokenSetup`.

    mcp-front's `userAuthentication.tokenFormat` (`Bearer {{token}}`) wraps the stored token
    before it fills a `$userToken` template; the caller folds it into the templates. In
    `tokenSetup`, `tokenFormat` is instead the regex a token must match (our `validation`).
    """
    if server.has("userAuthentication") and server.has("tokenSetup"):
        server.ctx.error(server.at("tokenSetup"), "use userAuthentication or tokenSetup, not both")
    if server.has("tokenSetup"):
        setup = server.child("tokenSetup", TOKEN_SETUP_KEYS)
        manual = UserAuthentication(
            type="manual",
            display_name=setup.text("displayName") or name,
            instructions=setup.text("instructions"),
            help_url=_help_url(setup),
            validation=_regex(setup, "tokenFormat"),
        )
        return manual, None
    if not server.has("userAuthentication"):
        return None, None
    section = server.child("userAuthentication", USER_AUTH_KEYS)
    section.need("type", "manual (users paste a token) or oauth (users connect an account)")
    kind: Literal["manual", "oauth"] = (
        "oauth" if section.choice("type", ("manual", "oauth"), "manual") == "oauth" else "manual"
    )
    if kind == "manual":
        section.forbid(_OAUTH_KEYS, "only with type: oauth")
    else:
        section.forbid(_MANUAL_KEYS, "only with type: manual")
        for key in ("authorizationUrl", "tokenUrl", "clientId", "clientSecret"):
            section.need(key, "type: oauth connects the user's account with the service's OAuth")
        for key in ("authorizationUrl", "tokenUrl"):
            url = section.text(key)
            if url and not is_tls_or_loopback_url(url):
                # policy: the service gets our client secret; only TLS (http only on loopback).
                section.ctx.error(section.at(key), "must be an https URL (http only on loopback)")
    wrapper = section.text("tokenFormat") or None
    if wrapper is not None and TOKEN_PLACEHOLDER not in wrapper:
        section.ctx.error(section.at("tokenFormat"), f"must contain {TOKEN_PLACEHOLDER}")
    authentication = UserAuthentication(
        type=kind,
        display_name=section.text("displayName") or name,
        instructions=section.text("instructions"),
        help_url=_help_url(section),
        validation=_regex(section, "validation"),
        authorization_url=section.text("authorizationUrl"),
        token_url=section.text("tokenUrl"),
        client_id=section.text("clientId"),
        client_secret=section.secret("clientSecret"),
        scopes=section.text_list("scopes"),
    )
    return authentication, wrapper


def _help_url(section: Section) -> str:
    url = section.text("helpUrl")
    if url and not is_http_url(url):
        section.ctx.error(section.at("helpUrl"), "must be an absolute http(s) URL")
    return url


def _regex(section: Section, key: str) -> str | None:
    pattern = section.text(key) or None
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as error:
            section.ctx.error(section.at(key), f"not a valid regular expression: {error}")
    return pattern
