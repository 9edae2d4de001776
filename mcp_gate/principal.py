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

from dataclasses import dataclass
from typing import Literal

PrincipalKind = Literal["user", "client", "workload", "service", "anonymous"]
# The id prefixes of the kinds above; a workload's template may not start with one.
RESERVED_PREFIXES = ("user:", "client:", "service:", "anonymous")


@dataclass(frozen=True)
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
    def user(cls, subject: str, email: str | None, *, client_id: str = "") -> Principal:
        return cls("user", f"user:{subject}", email, subject=subject, client_id=client_id)

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
