"""The internal hop's signature (mcp_gate/cluster/hop.py): what it covers, what it refuses."""

from __future__ import annotations

import ipaddress

import pytest

from mcp_gate.cluster.hop import HOP_PRINCIPAL_HEADER, HopKey, HopRefusedError, HopVerifier
from mcp_gate.policy.engine import Caller
from mcp_gate.principal import Principal

SECRET = b"hop-test-jwt-secret-0123456789abcdef"
ALICE = Principal("user", "user:alice", "alice@example.com", "alice", "client-1", ("eng",))
ALICE_CALLER = Caller(ALICE, ipaddress.ip_address("10.1.2.3"), frozenset({"mcp", "admin"}))


def test_a_signed_hop_carries_the_principal_unchanged() -> None:
    """Policy: the owner acts for exactly the principal the edge replica verified, with its
    token scopes and client address (the access policy judges them at the owner)."""
    key = HopKey.from_secret(SECRET)
    headers = key.sign("r1", "POST", "/py/mcp?x=1", ALICE_CALLER)
    caller, request_id = key.check(headers, "r1", "POST", "/py/mcp?x=1")
    assert caller == ALICE_CALLER
    assert request_id


@pytest.mark.parametrize(("method", "path"), [("GET", "/py/mcp?x=1"), ("POST", "/other/mcp?x=1")])
def test_a_hop_replayed_on_another_method_or_path_is_refused(method: str, path: str) -> None:
    """Policy: the MAC covers method and path with query."""
    key = HopKey.from_secret(SECRET)
    headers = key.sign("r1", "POST", "/py/mcp?x=1", ALICE_CALLER)
    with pytest.raises(HopRefusedError, match="signature"):
        key.check(headers, "r1", method, path)


def test_a_hop_with_another_principal_is_refused() -> None:
    """Policy: the principal header cannot be swapped for another user's."""
    key = HopKey.from_secret(SECRET)
    headers = key.sign("r1", "POST", "/py/mcp", ALICE_CALLER)
    other = key.sign("r1", "POST", "/py/mcp", Caller(Principal.service("bob")))
    headers[HOP_PRINCIPAL_HEADER] = other[HOP_PRINCIPAL_HEADER]
    with pytest.raises(HopRefusedError, match="signature"):
        key.check(headers, "r1", "POST", "/py/mcp")


def test_a_hop_signed_with_another_secret_is_refused() -> None:
    """Policy: only replicas sharing jwtSecret can sign hops."""
    headers = HopKey.from_secret(b"another-secret-of-at-least-32-bytes!").sign(
        "r1", "GET", "/p", ALICE_CALLER
    )
    with pytest.raises(HopRefusedError, match="signature"):
        HopKey.from_secret(SECRET).check(headers, "r1", "GET", "/p")


def test_a_hop_outside_the_window_is_refused() -> None:
    """Policy: a hop is good for 30 s either side of the owner's clock."""
    now = [1_000_000.0]
    key = HopKey(HopKey.from_secret(SECRET).key, clock=lambda: now[0])
    headers = key.sign("r1", "GET", "/p", ALICE_CALLER)
    now[0] += 31
    with pytest.raises(HopRefusedError, match="stale"):
        key.check(headers, "r1", "GET", "/p")


@pytest.mark.parametrize("value", ["", "t=1", "t=x,id=y,mac=z", "garbage"])
def test_a_malformed_hop_header_is_refused(value: str) -> None:
    """Bad input is a refusal, never an exception of another kind."""
    key = HopKey.from_secret(SECRET)
    headers = {**key.sign("r1", "GET", "/p", ALICE_CALLER), "X-Mcp-Gate-Hop": value}
    with pytest.raises(HopRefusedError):
        key.check(headers, "r1", "GET", "/p")


def test_a_hop_for_another_replica_is_refused() -> None:
    """Policy: a hop is good at the replica it was sent to only, so a replay cannot move."""
    key = HopKey.from_secret(SECRET)
    headers = key.sign("r1", "GET", "/p", ALICE_CALLER)
    with pytest.raises(HopRefusedError, match="signature"):
        key.check(headers, "r2", "GET", "/p")


def test_a_hop_seen_twice_is_refused_the_second_time() -> None:
    """Policy: request ids are single-use within the window at their replica."""
    verifier = HopVerifier(HopKey.from_secret(SECRET), "r1")
    headers = HopKey.from_secret(SECRET).sign("r1", "GET", "/p", ALICE_CALLER)
    assert verifier.verify(headers, "GET", "/p") == ALICE_CALLER
    with pytest.raises(HopRefusedError, match="replayed"):
        verifier.verify(headers, "GET", "/p")


def test_the_replay_memory_forgets_ids_past_the_window() -> None:
    """The memory stays bounded: ids older than two windows are dropped."""
    now = [1_000_000.0]
    key = HopKey(HopKey.from_secret(SECRET).key, clock=lambda: now[0])
    verifier = HopVerifier(key, "r1")
    verifier.verify(key.sign("r1", "GET", "/p", ALICE_CALLER), "GET", "/p")
    now[0] += 61
    verifier.verify(key.sign("r1", "GET", "/p", ALICE_CALLER), "GET", "/p")
    assert len(verifier._seen) == 1
