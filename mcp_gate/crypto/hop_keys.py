"""The key and MAC of the internal hop between replicas (docs/deploy.md §Scale-out).

Owns deriving the hop key from `jwtSecret` (HKDF-SHA256, RFC 5869, with a label of its
own, so the key is unrelated to the access-token key the same secret gives) and the
HMAC-SHA256 (RFC 2104) of a hop's signed fields. Knows nothing of HTTP or of the fields.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_LABEL = b"mcp-gate internal hop HMAC key v1"
HOP_KEY_BYTES = 32


def derive_hop_key(secret: bytes) -> bytes:
    """The hop key of `secret` (`jwtSecret`): the same in every replica sharing it."""
    if len(secret) < 32:
        raise ValueError("the hop key needs a secret of at least 32 bytes")
    return HKDF(algorithm=hashes.SHA256(), length=HOP_KEY_BYTES, salt=None, info=_LABEL).derive(
        secret
    )


def hop_mac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def macs_equal(a: bytes, b: bytes) -> bool:
    """Constant-time comparison of two MACs."""
    return hmac.compare_digest(a, b)
