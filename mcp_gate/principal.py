"""Who a request acts for, once bearer or service authentication has passed.

A principal's `id` is the key MCP sessions are bound to (MCP 2025-11-25 security best
practices §Session Hijacking: bind session ids to the user). It never contains a secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PrincipalKind = Literal["user", "service", "anonymous"]


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    id: str
    email: str | None = None

    @classmethod
    def user(cls, subject: str, email: str | None) -> Principal:
        return cls("user", f"user:{subject}", email)

    @classmethod
    def service(cls, server: str, credential: str) -> Principal:
        """`credential` names which configured credential matched, never its value."""
        return cls("service", f"service:{server}:{credential}")


ANONYMOUS = Principal("anonymous", "anonymous")
