"""P-256 signing keys derived from configured secrets, for the identity JWTs (ES256).

Owns turning a secret (an `identityKeys` entry: 32 random bytes, the format of
`encryptionKey`; or, when none is set, `jwtSecret`) into the same P-256 private key in
every process and replica, so no PEM file has to be shared and rotation works like
`encryptionKey`'s. The scalar comes from HKDF-SHA256 (RFC 5869) of the secret with a label
of its own, 48 bytes reduced to [1, n-1]: FIPS 186-5 §A.2.1's "extra random bits" method,
whose bias (2^-128) is negligible. The key leaves as PEM; nothing is logged.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# The order n of the P-256 group (FIPS 186-5 / SEC 2 secp256r1).
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_LABEL = b"mcp-gate identity-jwt P-256 key v1"


def derive_p256_pem(secret: bytes) -> bytes:
    """The PKCS#8 PEM of the P-256 private key `secret` derives; the same secret gives
    the same key, two secrets two unrelated keys."""
    if len(secret) < 32:
        raise ValueError("a signing key needs a secret of at least 32 bytes")
    okm = HKDF(algorithm=hashes.SHA256(), length=48, salt=None, info=_LABEL).derive(secret)
    scalar = int.from_bytes(okm, "big") % (P256_ORDER - 1) + 1
    key = ec.derive_private_key(scalar, ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
