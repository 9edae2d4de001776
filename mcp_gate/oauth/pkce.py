"""PKCE (RFC 7636) with S256 only: checking a challenge's form and a verifier against it.

OAuth 2.1 §7.5.2 and MCP authorization §Authorization Code Protection: S256 is mandatory,
`plain` and a missing challenge are refused. No storage, no requests.
"""

from __future__ import annotations

import base64
import hashlib
import re

from mcp_gate.crypto.digest import secrets_equal
from mcp_gate.oauth.errors import InvalidGrant, InvalidRequest

# RFC 7636 §4.1: 43-128 characters of [A-Z a-z 0-9 - . _ ~].
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
# An S256 challenge is the base64url of 32 bytes: 43 characters, no padding (§4.2).
_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def parse_challenge(challenge: str | None, method: str | None) -> str:
    """The challenge of an authorization request, or raise (RFC 7636 §4.3, §4.4.1)."""
    if not challenge:
        raise InvalidRequest("code_challenge is required (PKCE with S256)")
    if method != "S256":
        raise InvalidRequest("code_challenge_method must be S256")
    if not _CHALLENGE.fullmatch(challenge):
        raise InvalidRequest("code_challenge is not an S256 challenge")
    return challenge


def verify_verifier(verifier: str | None, challenge: str) -> None:
    """None when the verifier matches the challenge (RFC 7636 §4.6), else InvalidGrant."""
    if not verifier or not _VERIFIER.fullmatch(verifier):
        raise InvalidGrant("code_verifier is missing or malformed")
    if not secrets_equal(s256(verifier), challenge):
        raise InvalidGrant("code_verifier does not match the code_challenge")
