"""Who a request acts for, once bearer or service authentication has passed.

A principal's `id` is the key MCP sessions are bound to (MCP 2025-11-25 security best
practices §Session Hijacking: bind session ids to the user), and the name logs, audit and
policy use. It never contains a secret. The kinds, and their ids:

    user       user:<IdP subject>      a person, by the authorization code flow
    client     client:<client id>      a machine, by client_credentials (RFC 6749 §4.4)
    workload   <rendered principal>    a workload, by token exchange (RFC 8693) of a
                                       trusted issuer's JWT, e.g. github:acme/tools
    service    service:<name>          a static `serviceAuths` credential
    anonymous  anonymous               a server open to everyone

A workload's id is whatever its issuer's `principal` template renders; the config loader
makes that template begin with a prefix of its own (never `user:`, `client:`, `service:`),
so no two kinds can share an id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

PrincipalKind = Literal["user", "client", "workload", "service", "anonymous"]
# The id prefixes of the kinds above; a workload's template may not start with one.
RESERVED_PREFIXES = ("user", "client", "service", "anonymous")
# A workload's template: a prefix of its own, then text and `{{claim}}`s.
_TEMPLATE_PREFIX = re.compile(r"([a-z][a-z0-9-]{0,31}):")
_PLACEHOLDER = re.compile(r"\{\{([A-Za-z0-9_.:/-]{1,64})\}\}")
# policy: a principal reads on one log line and in a policy rule: visible characters only.
_UNFIT = re.compile(r"[\x00-\x20\x7f-\x9f]")
MAX_PRINCIPAL_CHARS = 256


def principal_template_problem(template: str) -> str | None:
    """Why `template` cannot name workloads, or None (checked when the config loads)."""
    prefix = _TEMPLATE_PREFIX.match(template)
    if prefix is None:
        return "must begin with a prefix of its own, like github: (lowercase letters, digits, -)"
    if prefix.group(1) in RESERVED_PREFIXES:
        return f"the prefix {prefix.group(1)}: belongs to another kind of principal"
    rest = _PLACEHOLDER.sub("", template)
    if _UNFIT.search(rest) or "{{" in rest or "}}" in rest:
        return "holds spaces, control characters or a malformed {{claim}}"
    return None


def render_principal(template: str, claims: Mapping[str, object]) -> str:
    """The workload principal `template` names for verified `claims`.

    Raises ValueError saying which claim is missing, not a string or number, or holds
    characters a principal may not (the value itself never reaches a log or a key).
    """

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        value = claims.get(name)
        text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
        if not text or _UNFIT.search(text):
            raise ValueError(f"claim {name}, which names the principal, is missing or unfit")
        return text

    principal = _PLACEHOLDER.sub(fill, template)
    if len(principal) > MAX_PRINCIPAL_CHARS:
        raise ValueError(f"the principal would be longer than {MAX_PRINCIPAL_CHARS} characters")
    return principal


@dataclass(frozen=True, slots=True)
class Principal:
    """`subject` is who within the kind (the IdP's `sub`, the client id, the workload's
    name, the service name); `client_id` the OAuth client the token was issued to ("" for
    services and unauthenticated exchanges); `groups` what the IdP said (empty until the
    IdP supplies groups)."""

    kind: PrincipalKind
    id: str
    email: str | None = None
    subject: str = ""
    client_id: str = ""
    groups: tuple[str, ...] = ()

    @classmethod
    def user(
        cls,
        subject: str,
        email: str | None,
        *,
        client_id: str = "",
        groups: tuple[str, ...] = (),
    ) -> Principal:
        return cls(
            "user", f"user:{subject}", email, subject=subject, client_id=client_id, groups=groups
        )

    @classmethod
    def client(cls, client_id: str) -> Principal:
        return cls("client", f"client:{client_id}", subject=client_id, client_id=client_id)

    @classmethod
    def workload(cls, name: str, *, client_id: str = "") -> Principal:
        return cls("workload", name, subject=name, client_id=client_id)

    @classmethod
    def service(cls, name: str) -> Principal:
        """`name` names which configured credential matched, never its value."""
        return cls("service", f"service:{name}", subject=name)


ANONYMOUS = Principal("anonymous", "anonymous")
