"""The internal hop's signature (mcp_gate/cluster/hop.py): what it covers, what it refuses."""

from __future__ import annotations

import pytest

from mcp_gate.cluster.hop import HOP_PRINCIPAL_HEADER, HopKey, HopRefusedError, HopVerifier
from mcp_gate.principal import Principal
from mcp_gate.store import MemoryStore

SECRET = b"hop-test-jwt-secret-0123456789abcdef"
ALICE = Principal("user", "user:alice", "alice@example.com", "alice", "client-1", ("eng",))


def test_a_signed_hop_carries_the_principal_unchanged() -> None:
    """Policy: the owner acts for exactly the principal the edge replica verified."""
    key = HopKey.from_secret(SECRET)
    headers = key.sign("POST", "/py/mcp?x=1", ALICE)
    principal, request_id = key.check(headers, "POST", "/py/mcp?x=1")
    assert principal == ALICE
    assert request_id


@pytest.mark.parametrize(("method", "path"), [("GET", "/py/mcp?x=1"), ("POST", "/other/mcp?x=1")])
def test_a_hop_replayed_on_another_method_or_path_is_refused(method: str, path: str) -> None:
    """Policy: the MAC covers method and path with query."""
    key = HopKey.from_secret(SECRET)
    headers = key.sign("POST", "/py/mcp?x=1", ALICE)
    with pytest.raises(HopRefusedError, match="signature"):
        key.check(headers, method, path)


def test_a_hop_with_another_principal_is_refused() -> None:
    """Policy: the principal header cannot be swapped for another user's."""
    key = HopKey.from_secret(SECRET)
    headers = key.sign("POST", "/py/mcp", ALICE)
    other = key.sign("POST", "/py/mcp", Principal.service("bob"))
    headers[HOP_PRINCIPAL_HEADER] = other[HOP_PRINCIPAL_HEADER]
    with pytest.raises(HopRefusedError, match="signature"):
        key.check(headers, "POST", "/py/mcp")


def test_a_hop_signed_with_another_secret_is_refused() -> None:
    """Policy: only replicas sharing jwtSecret can sign hops."""
    headers = HopKey.from_secret(b"another-secret-of-at-least-32-bytes!").sign("GET", "/p", ALICE)
    with pytest.raises(HopRefusedError, match="signature"):
        HopKey.from_secret(SECRET).check(headers, "GET", "/p")


def test_a_hop_outside_the_window_is_refused() -> None:
    """Policy: a hop is good for 30 s either side of the owner's clock."""
    now = [1_000_000.0]
    key = HopKey(HopKey.from_secret(SECRET).key, clock=lambda: now[0])
    headers = key.sign("GET", "/p", ALICE)
    now[0] += 31
    with pytest.raises(HopRefusedError, match="stale"):
        key.check(headers, "GET", "/p")


@pytest.mark.parametrize("value", ["", "t=1", "t=x,id=y,mac=z", "garbage"])
def test_a_malformed_hop_header_is_refused(value: str) -> None:
    """Bad input is a refusal, never an exception of another kind."""
    key = HopKey.from_secret(SECRET)
    headers = {**key.sign("GET", "/p", ALICE), "X-Mcp-Gate-Hop": value}
    with pytest.raises(HopRefusedError):
        key.check(headers, "GET", "/p")


async def test_a_hop_seen_twice_is_refused_the_second_time() -> None:
    """Policy: request ids are single-use within the window, through the shared store."""
    store = MemoryStore()
    verifier = HopVerifier(HopKey.from_secret(SECRET), store)
    headers = HopKey.from_secret(SECRET).sign("GET", "/p", ALICE)
    assert await verifier.verify(headers, "GET", "/p") == ALICE
    with pytest.raises(HopRefusedError, match="replayed"):
        await verifier.verify(headers, "GET", "/p")
