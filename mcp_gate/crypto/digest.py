"""Token generation, token digests for storage lookups, and constant-time comparison.

Owns how the gate makes its opaque secrets (access and refresh tokens, codes, client
secrets, state, CSRF values) and how it looks them up without storing them. Stores nothing,
logs nothing; uses only the standard library.

# policy: `token_digest` is plain SHA-256, no salt, no server key. Every token it sees comes
# from `new_token` (>= 128 bits of entropy), so a leaked digest cannot be inverted or
# guessed, and a salt would prevent the lookup by digest. A keyed HMAC would only add
# protection against someone who can already write to the store, who can also rewrite the
# records the digests point to; and it would tie every stored token to a key, so rotating
# that key would log everyone out. (RFC 6819 §5.1.4.1.3: store hashes of tokens.)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

DEFAULT_TOKEN_BYTES = 32
# RFC 6749 §10.10: the chance of guessing a token MUST be <= 2^-128 (SHOULD <= 2^-160).
MIN_TOKEN_BYTES = 16


def new_token(nbytes: int = DEFAULT_TOKEN_BYTES) -> str:
    """A fresh random token of `nbytes` bytes of entropy, base64url without padding.

    Only `A-Z a-z 0-9 - _`: RFC 3986 unreserved characters, so it needs no escaping in a
    URL, a form body or a header (RFC 6749 §2.3.1, Appendix A VSCHAR).
    """
    if nbytes < MIN_TOKEN_BYTES:
        raise ValueError(f"a token needs at least {MIN_TOKEN_BYTES} bytes of entropy")
    return secrets.token_urlsafe(nbytes)


def new_identifier(nbytes: int = DEFAULT_TOKEN_BYTES) -> str:
    """A fresh token, as `new_token`, that an operator can also give on a command line: it
    never begins with `-` (which argparse would read as an option: `mcp-gate revoke
    --client ID`). Drawn again when it does, which costs a sixty-fourth of one character's
    six bits."""
    while (identifier := new_token(nbytes)).startswith("-"):
        pass
    return identifier


def token_digest(token: str) -> str:
    """The SHA-256 of the token, lowercase hex: the storage key for a token we issued."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def secrets_equal(a: str | bytes, b: str | bytes) -> bool:
    """True when `a` and `b` are the same secret, in time independent of their content.

    Both sides are hashed first, so the comparison runs on equal lengths and reveals
    neither where they differ nor how long the expected secret is. `str` is compared as
    UTF-8.
    """
    a_bytes = a.encode("utf-8") if isinstance(a, str) else a
    b_bytes = b.encode("utf-8") if isinstance(b, str) else b
    return hmac.compare_digest(hashlib.sha256(a_bytes).digest(), hashlib.sha256(b_bytes).digest())
