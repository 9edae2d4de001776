"""Gate access tokens: a verified token is remembered, and the memory never widens what passes."""

from __future__ import annotations

import os

from mcp_gate.oauth.access_tokens import VERIFIED_CACHE_ENTRIES, AccessTokens
from mcp_gate.oauth.models import Grant

ISSUER = "http://127.0.0.1:8080"
TTL_SECONDS = 60


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _grant(grant_id: str = "grant-1") -> Grant:
    return Grant(
        id=grant_id,
        subject="subject-1",
        email="alice@example.com",
        client_id="client-1",
        resource=f"{ISSUER}/echo/mcp",
        server="echo",
        scope="mcp",
        created_at=0.0,
        expires_at=1e12,
    )


def test_remembered_token_is_refused_once_it_expires() -> None:
    """RFC 9068 §4 (exp): a token verified before still expires on time."""
    clock = Clock()
    tokens = AccessTokens(os.urandom(32), ISSUER, clock=clock)
    token = tokens.issue(_grant(), TTL_SECONDS)
    assert tokens.parse(token) is not None
    clock.now += TTL_SECONDS
    assert tokens.parse(token) is None
    clock.now -= TTL_SECONDS  # the entry is gone, so the signature is checked again
    assert tokens.parse(token) is not None


def test_altered_copy_of_a_remembered_token_is_refused() -> None:
    """RFC 7515 §5.2: only the exact bytes that verified are remembered."""
    tokens = AccessTokens(os.urandom(32), ISSUER)
    token = tokens.issue(_grant(), TTL_SECONDS)
    assert tokens.parse(token) is not None
    header, payload, signature = token.split(".")
    altered = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    assert tokens.parse(altered) is None


def test_token_of_another_signing_key_is_refused_after_ours_was_remembered() -> None:
    """MCP authorization §Token Handling: tokens not issued by this gate are refused."""
    ours = AccessTokens(os.urandom(32), ISSUER)
    theirs = AccessTokens(os.urandom(32), ISSUER)
    assert ours.parse(ours.issue(_grant(), TTL_SECONDS)) is not None
    assert ours.parse(theirs.issue(_grant(), TTL_SECONDS)) is None


def test_memory_of_verified_tokens_stays_bounded() -> None:
    """Policy: at most VERIFIED_CACHE_ENTRIES tokens are remembered; the oldest go first."""
    tokens = AccessTokens(os.urandom(32), ISSUER)
    issued = [
        tokens.issue(_grant(f"grant-{i}"), TTL_SECONDS) for i in range(VERIFIED_CACHE_ENTRIES + 5)
    ]
    for token in issued:
        assert tokens.parse(token) is not None
    assert len(tokens._verified) == VERIFIED_CACHE_ENTRIES
    assert tokens.parse(issued[0]) is not None  # forgotten, so verified again, and valid
