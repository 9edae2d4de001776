"""Tokens, token digests and constant-time comparison."""

from __future__ import annotations

import hashlib
import re

import pytest

from mcp_gate.crypto.digest import (
    MIN_TOKEN_BYTES,
    new_identifier,
    new_token,
    secrets_equal,
    token_digest,
)

UNRESERVED = re.compile(r"[A-Za-z0-9_-]+")  # RFC 3986 §2.3, a subset of RFC 6749 VSCHAR


def test_new_token_uses_only_unreserved_characters() -> None:
    """Spec (RFC 6749 §2.3.1, App. A): tokens need no escaping anywhere."""
    for _ in range(100):
        assert UNRESERVED.fullmatch(new_token())


def test_new_token_carries_the_requested_entropy() -> None:
    """Spec (RFC 6749 §10.10): 32 bytes by default, 43 base64url characters, all distinct."""
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert {len(t) for t in tokens} == {43}
    assert len(new_token(48)) == 64


def test_new_token_refuses_less_than_128_bits() -> None:
    """Spec (RFC 6749 §10.10): guessing a token MUST be at most 2^-128 likely."""
    with pytest.raises(ValueError, match="entropy"):
        new_token(MIN_TOKEN_BYTES - 1)


def test_an_identifier_never_begins_with_a_dash() -> None:
    """An operator passes client ids to `mcp-gate revoke --client ID`; one beginning with
    `-` would be read as an option. Among 4,000 draws about 60 would begin with one."""
    identifiers = [new_identifier(16) for _ in range(4000)]
    assert not [i for i in identifiers if i.startswith("-")]
    assert all(UNRESERVED.fullmatch(i) and len(i) == 22 for i in identifiers)
    assert len(set(identifiers)) == 4000


def test_token_digest_is_sha256_hex() -> None:
    """Policy: plain SHA-256 hex, stable across processes and replicas (FIPS 180-4 "abc")."""
    assert token_digest("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert token_digest("abc") == hashlib.sha256(b"abc").hexdigest()
    assert token_digest("abc") != token_digest("abd")


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        ("token", "token", True),
        (b"token", "token", True),
        ("", "", True),
        ("ключ", "ключ".encode(), True),
        ("token", "tokeN", False),
        ("token", "token-longer", False),
        ("", "x", False),
        (b"\x00", b"", False),
    ],
)
def test_secrets_equal_compares_content(a: str | bytes, b: str | bytes, equal: bool) -> None:
    """Contract: equal, unequal and different-length secrets get the right answer."""
    assert secrets_equal(a, b) is equal
    assert secrets_equal(b, a) is equal
