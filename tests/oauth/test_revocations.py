"""Revocation marks and each user's grant list (oauth/revocations.py, oauth/grants.py),
over the memory store: what a mark ends, what it spares, and what /my/apps lists."""

from __future__ import annotations

import asyncio

from mcp_gate.oauth.grants import GrantStore
from mcp_gate.oauth.models import Grant
from mcp_gate.oauth.revocations import RevocationMarks
from mcp_gate.store import MemoryStore

NOW = 1_700_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def _grant(grant_id: str, email: str = "alice@example.com", client_id: str = "app-a", **fields):
    return Grant(
        id=grant_id,
        subject="sub-alice",
        email=email,
        client_id=client_id,
        resource="https://gate.test/py/mcp",
        server="py",
        scope="mcp",
        created_at=fields.pop("created_at", NOW - 10),
        expires_at=NOW + 3600,
        **fields,
    )


def _stores(clock: Clock) -> tuple[GrantStore, RevocationMarks]:
    store = MemoryStore()
    marks = RevocationMarks(store, clock=clock)
    return GrantStore(store, marks), marks


async def test_a_user_mark_ends_what_began_before_it_and_spares_what_began_after():
    """`mcp-gate revoke --user`: grants before the mark load as absent (and are deleted);
    a login after it starts afresh. Emails compare without case."""
    clock = Clock()
    grants, marks = _stores(clock)
    revoked: list[str] = []
    grants.on_revoke(revoked.append)
    await grants.save_grant(_grant("before"), now=NOW)
    await marks.mark_user("Alice@Example.com")
    await grants.save_grant(_grant("after", created_at=NOW + 1), now=NOW)
    assert await grants.load_grant("before") is None
    assert await grants.load_grant("after") is not None
    assert revoked == ["before"]


async def test_a_client_mark_ends_that_clients_grants_only():
    clock = Clock()
    grants, marks = _stores(clock)
    await grants.save_grant(_grant("a", client_id="app-a"), now=NOW)
    await grants.save_grant(_grant("b", client_id="app-b"), now=NOW)
    await marks.mark_client("app-a")
    assert await grants.load_grant("a") is None
    assert await grants.load_grant("b") is not None


async def test_browser_sessions_and_mcp_sessions_are_judged_by_when_they_began():
    """`is_revoked` with "" skips a mark: a browser session has no client."""
    clock = Clock()
    _, marks = _stores(clock)
    await marks.mark_user("alice@example.com")
    assert await marks.is_revoked(email="alice@example.com", client_id="", began_at=NOW - 1)
    assert not await marks.is_revoked(email="alice@example.com", client_id="", began_at=NOW + 1)
    assert not await marks.is_revoked(email="bob@example.com", client_id="x", began_at=NOW - 1)


async def test_the_user_list_holds_each_grant_once_with_when_it_was_last_used():
    """Concurrent logins all land in the list (the list is rewritten under a lock)."""
    clock = Clock()
    grants, _ = _stores(clock)
    await asyncio.gather(*(grants.save_grant(_grant(f"g{i}"), now=NOW) for i in range(10)))
    await grants.save_last_used(_grant("g3"), now=NOW + 5)
    listed = await grants.list_user_grants("alice@example.com")
    assert sorted(entry.grant.id for entry in listed) == sorted(f"g{i}" for i in range(10))
    used = {entry.grant.id: entry.last_used_at for entry in listed}
    assert used["g3"] == NOW + 5
    assert used["g4"] is None


async def test_revoking_one_clients_grants_keeps_the_others_listed():
    """/my/apps: revoke one application; the user's other one stays, alive and listed."""
    clock = Clock()
    grants, _ = _stores(clock)
    await grants.save_grant(_grant("a1", client_id="app-a"), now=NOW)
    await grants.save_grant(_grant("a2", client_id="app-a"), now=NOW)
    await grants.save_grant(_grant("b1", client_id="app-b"), now=NOW)
    revoked = await grants.revoke_user_grants("alice@example.com", "app-a")
    listed = await grants.list_user_grants("alice@example.com")
    assert sorted(grant.id for grant in revoked) == ["a1", "a2"]
    assert [entry.grant.id for entry in listed] == ["b1"]
    assert await grants.load_grant("a1") is None
