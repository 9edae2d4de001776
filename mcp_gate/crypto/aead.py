"""Sealing secrets at rest and in cookies: AES-256-GCM with key ids and key rotation.

Owns the sealed-blob format, the encryption key format of the config, and the per-process
key used when none is configured. It is the only module that imports `cryptography`.
It never logs, and its errors never carry a key, a plaintext or a blob.

Blob (bytes): version 0x01 (1) | key id (4) | nonce (12) | ciphertext | GCM tag (16).
The header (version and key id) is authenticated along with the caller's associated data,
which binds a blob to its context: a user token sealed for user A does not open as user B.
Text form (`seal_text`): the blob in base64url without padding, for cookies.

`seal_under_token` / `open_under_token` seal with a key derived from a token the caller
holds (a refresh token): the store keeps the blob under the token's digest, and only
someone who presents the token itself can open it.

Rotation: `Sealer(keys)` encrypts with the first key and opens with any of them; put the
new key first and keep the old ones until what they sealed has expired.
Nonces are random (96 bits, NIST SP 800-38D §8.2.2), safe up to 2^32 seals per key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mcp_gate.config.model import AuthConfig
from mcp_gate.errors import CryptoError

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # NIST SP 800-38D §5.2.1.1: 96-bit IVs
TAG_BYTES = 16
KEY_ID_BYTES = 4
FORMAT_VERSION = b"\x01"
_HEADER_BYTES = len(FORMAT_VERSION) + KEY_ID_BYTES
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def aes_gcm_seal(key: bytes, nonce: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """The bare primitive: ciphertext | tag. Use `Sealer`; this is here for test vectors."""
    return AESGCM(key).encrypt(nonce, plaintext, associated_data)


def aes_gcm_open(key: bytes, nonce: bytes, sealed: bytes, associated_data: bytes) -> bytes:
    """The bare primitive's inverse; raises CryptoError when the tag does not verify."""
    try:
        return AESGCM(key).decrypt(nonce, sealed, associated_data)
    except InvalidTag:
        raise CryptoError("sealed value did not open") from None


def _token_key(token: str) -> bytes:
    # Domain-separated from token_digest (crypto/digest.py), so the digest that names the
    # blob in the store says nothing about the key that opens it.
    return hashlib.sha256(b"mcp-gate token-sealed v1\x00" + token.encode("utf-8")).digest()


def seal_under_token(token: str, plaintext: bytes, associated_data: bytes) -> bytes:
    """Seal `plaintext` so that only a holder of `token` (>= 128 random bits) can open it."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + aes_gcm_seal(_token_key(token), nonce, plaintext, associated_data)


def open_under_token(token: str, blob: bytes, associated_data: bytes) -> bytes:
    """The plaintext of a `seal_under_token` blob; CryptoError if it does not open."""
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise CryptoError("sealed value is too short")
    return aes_gcm_open(_token_key(token), blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated_data)


def key_id(key: bytes) -> bytes:
    """Four bytes naming a key inside blobs; reveals nothing usable about the key."""
    return hashlib.sha256(b"mcp-gate aead key id\x00" + key).digest()[:KEY_ID_BYTES]


def ephemeral_key() -> bytes:
    """A random key for this process only: what it seals is unreadable after a restart."""
    return os.urandom(KEY_BYTES)


def decode_key(text: str) -> bytes:
    """The 32 key bytes of a configured `encryptionKey`; ValueError (without the value) if bad.

    Accepted: base64 or base64url of 32 bytes, padded or not (`openssl rand -base64 32`),
    or a raw string of exactly 32 bytes in UTF-8 (mcp-front's form).
    """
    stripped = text.strip()
    try:
        padded = stripped + "=" * (-len(stripped) % 4)
        decoded = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) == KEY_BYTES:
        return decoded
    raw = text.encode("utf-8")
    if len(raw) == KEY_BYTES:
        return raw
    raise ValueError(
        f"an encryption key must be {KEY_BYTES} bytes: base64 of {KEY_BYTES} random bytes "
        f"(openssl rand -base64 {KEY_BYTES}) or a {KEY_BYTES}-character string"
    )


def keys_from_config(auth_config: AuthConfig | None) -> tuple[bytes, ...]:
    """The configured keys in order (first encrypts); empty when none is configured."""
    if auth_config is None:
        return ()
    return tuple(decode_key(secret.reveal()) for secret in auth_config.encryption_keys)


def sealer_from_config(auth_config: AuthConfig | None) -> Sealer:
    """A Sealer over the configured keys, or over an ephemeral key when there are none."""
    return Sealer(keys_from_config(auth_config) or (ephemeral_key(),))


class Sealer:
    """Seals with the first key, opens with any. Holds keys; its repr shows only key ids."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("a Sealer needs at least one key")
        by_id: dict[bytes, AESGCM] = {}
        seen: dict[bytes, bytes] = {}
        for key in keys:
            if len(key) != KEY_BYTES:
                raise ValueError(f"an AES-256 key is {KEY_BYTES} bytes, got {len(key)}")
            kid = key_id(key)
            if seen.setdefault(kid, key) != key:
                raise ValueError("two different keys share a key id; generate a new key")
            by_id[kid] = AESGCM(key)
        self._by_id = by_id
        self._seal_header = FORMAT_VERSION + key_id(keys[0])
        self._seal_with = by_id[key_id(keys[0])]

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Hex ids of the keys, the sealing key first; safe to log."""
        return tuple(kid.hex() for kid in self._by_id)

    def __repr__(self) -> str:
        return f"Sealer(key_ids={self.key_ids!r})"

    def seal(self, plaintext: bytes, associated_data: bytes) -> bytes:
        """Encrypt and authenticate `plaintext`, bound to `associated_data`."""
        nonce = os.urandom(NONCE_BYTES)
        header = self._seal_header
        return header + nonce + self._seal_with.encrypt(nonce, plaintext, header + associated_data)

    def open(self, blob: bytes, associated_data: bytes) -> bytes:
        """The plaintext of a blob from `seal`; CryptoError if it is not exactly that."""
        if len(blob) < _HEADER_BYTES + NONCE_BYTES + TAG_BYTES:
            raise CryptoError("sealed value is too short")
        header, nonce = blob[:_HEADER_BYTES], blob[_HEADER_BYTES : _HEADER_BYTES + NONCE_BYTES]
        if header[:1] != FORMAT_VERSION:
            raise CryptoError("sealed value has an unknown format")
        aead = self._by_id.get(header[1:])
        if aead is None:
            raise CryptoError("sealed value was sealed with a key that is not configured")
        try:
            return aead.decrypt(
                nonce, blob[_HEADER_BYTES + NONCE_BYTES :], header + associated_data
            )
        except InvalidTag:
            raise CryptoError("sealed value did not open") from None

    def seal_text(self, plaintext: bytes, associated_data: bytes) -> str:
        """`seal`, as base64url without padding (cookie- and URL-safe)."""
        return base64.urlsafe_b64encode(self.seal(plaintext, associated_data)).decode().rstrip("=")

    def open_text(self, text: str, associated_data: bytes) -> bytes:
        """`open` for the output of `seal_text`; CryptoError on anything else."""
        if not _BASE64URL.fullmatch(text):
            raise CryptoError("sealed value is not base64url")
        try:
            blob = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except binascii.Error:
            raise CryptoError("sealed value is not base64url") from None
        return self.open(blob, associated_data)
