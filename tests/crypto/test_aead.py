"""AES-256-GCM sealing: the primitive against the GCM spec's vectors, and the Sealer's
promises (binding to associated data, tamper detection, key ids, rotation)."""

from __future__ import annotations

import base64

import pytest

from mcp_gate.config.model import AuthConfig, IdpConfig, Secret
from mcp_gate.crypto.aead import (
    KEY_BYTES,
    Sealer,
    aes_gcm_open,
    aes_gcm_seal,
    decode_key,
    ephemeral_key,
    keys_from_config,
    sealer_from_config,
)
from mcp_gate.errors import CryptoError

OLD_KEY = bytes(range(32))
NEW_KEY = bytes(range(100, 132))

# McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 13-16 (AES-256),
# the vectors NIST's GCM validation builds on: key, IV, plaintext, AAD, ciphertext, tag.
_K15 = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
_P15 = (
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
)
_C15 = (
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad"
)
GCM_VECTORS = [
    ("00" * 32, "00" * 12, "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"),
    (
        "00" * 32,
        "00" * 12,
        "00" * 16,
        "",
        "cea7403d4d606b6e074ec5d3baf39d18",
        "d0d1c8a799996bf0265b98b5d48ab919",
    ),
    (_K15, "cafebabefacedbaddecaf888", _P15, "", _C15, "b094dac5d93471bdec1a502270e3cc6c"),
    (
        _K15,
        "cafebabefacedbaddecaf888",
        _P15[:120],
        "feedfacedeadbeeffeedfacedeadbeefabaddad2",
        _C15[:120],
        "76fc6ece0f4e1768cddf8853bb2d551b",
    ),
]


@pytest.mark.parametrize(("key", "iv", "plaintext", "aad", "ciphertext", "tag"), GCM_VECTORS)
def test_primitive_matches_the_gcm_spec_vectors(
    key: str, iv: str, plaintext: str, aad: str, ciphertext: str, tag: str
) -> None:
    """Spec (GCM test cases 13-16): AES-256-GCM encrypts and decrypts the published vectors."""
    k, n, p, a = (bytes.fromhex(x) for x in (key, iv, plaintext, aad))
    sealed = aes_gcm_seal(k, n, p, a)
    assert sealed.hex() == ciphertext + tag
    assert aes_gcm_open(k, n, sealed, a) == p


def test_primitive_rejects_a_wrong_tag() -> None:
    """Spec (NIST SP 800-38D §7.2): a tag that does not verify yields no plaintext."""
    sealed = bytearray(aes_gcm_seal(bytes(32), bytes(12), b"", b""))
    sealed[-1] ^= 1
    with pytest.raises(CryptoError):
        aes_gcm_open(bytes(32), bytes(12), bytes(sealed), b"")


def test_sealed_value_opens_with_the_same_associated_data() -> None:
    """Contract: open(seal(p, ad), ad) == p, for text and for bytes."""
    sealer = Sealer([NEW_KEY])
    for plaintext in (b"", b"ntn_user-token", bytes(range(256))):
        assert sealer.open(sealer.seal(plaintext, b"user:a"), b"user:a") == plaintext
        assert sealer.open_text(sealer.seal_text(plaintext, b"user:a"), b"user:a") == plaintext


def test_two_seals_of_one_plaintext_differ() -> None:
    """Contract: a fresh random nonce per seal; equal plaintexts are not visible as such."""
    sealer = Sealer([NEW_KEY])
    assert sealer.seal(b"same", b"") != sealer.seal(b"same", b"")


def test_value_sealed_for_one_user_does_not_open_for_another() -> None:
    """Policy: associated data binds a sealed user token to its user."""
    sealer = Sealer([NEW_KEY])
    blob = sealer.seal(b"token of A", b"user_token:alice@example.com:notion")
    with pytest.raises(CryptoError):
        sealer.open(blob, b"user_token:bob@example.com:notion")


def test_any_flipped_bit_fails_to_open() -> None:
    """Contract: every byte of the blob (header, nonce, ciphertext, tag) is authenticated."""
    sealer = Sealer([NEW_KEY])
    blob = sealer.seal(b"secret", b"ad")
    for index in range(len(blob)):
        tampered = bytearray(blob)
        tampered[index] ^= 0x01
        with pytest.raises(CryptoError):
            sealer.open(bytes(tampered), b"ad")


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x01" + bytes(31)])
def test_truncated_blob_fails_to_open(blob: bytes) -> None:
    """Contract: anything shorter than header + nonce + tag is refused."""
    with pytest.raises(CryptoError):
        Sealer([NEW_KEY]).open(blob, b"")


@pytest.mark.parametrize("text", ["not base64!", "a", "+/+/", "abc=", "ключ"])
def test_text_that_is_not_base64url_fails_to_open(text: str) -> None:
    """Contract: open_text raises CryptoError, never a decoding error."""
    with pytest.raises(CryptoError):
        Sealer([NEW_KEY]).open_text(text, b"")


def test_sealed_text_is_cookie_safe() -> None:
    """Contract: seal_text uses base64url without padding (RFC 4648 §5)."""
    text = Sealer([NEW_KEY]).seal_text(bytes(range(256)), b"")
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_rotation_opens_old_blobs_and_seals_with_the_new_key() -> None:
    """Contract: keys [new, old] open what old sealed; what new seals, old cannot open."""
    old_blob = Sealer([OLD_KEY]).seal(b"before rotation", b"ad")
    rotated = Sealer([NEW_KEY, OLD_KEY])
    assert rotated.open(old_blob, b"ad") == b"before rotation"
    new_blob = rotated.seal(b"after rotation", b"ad")
    assert Sealer([NEW_KEY]).open(new_blob, b"ad") == b"after rotation"
    with pytest.raises(CryptoError, match="not configured"):
        Sealer([OLD_KEY]).open(new_blob, b"ad")


def test_unknown_key_id_fails_to_open() -> None:
    """Contract: a blob from a key we do not hold is refused by its key id."""
    blob = Sealer([ephemeral_key()]).seal(b"x", b"")
    with pytest.raises(CryptoError, match="not configured"):
        Sealer([NEW_KEY]).open(blob, b"")


@pytest.mark.parametrize("keys", [[], [bytes(16)], [bytes(33)]])
def test_sealer_refuses_missing_or_wrong_size_keys(keys: list[bytes]) -> None:
    """Policy: AES-256 only; a Sealer without a key is a bug."""
    with pytest.raises(ValueError, match="key"):
        Sealer(keys)


def test_repr_shows_key_ids_not_keys() -> None:
    """Policy: keys never appear in a repr."""
    sealer = Sealer([NEW_KEY, OLD_KEY])
    assert NEW_KEY.hex() not in repr(sealer)
    assert len(sealer.key_ids) == 2
    assert sealer.key_ids[0] in repr(sealer)


@pytest.mark.parametrize(
    "text",
    [
        base64.b64encode(NEW_KEY).decode(),
        base64.urlsafe_b64encode(NEW_KEY).decode().rstrip("="),
        base64.b64encode(NEW_KEY).decode() + "\n",
    ],
)
def test_decode_key_accepts_base64_forms(text: str) -> None:
    """Policy (docs/config.md `encryptionKey`): encryptionKey is base64 of 32 bytes, padded or not,
    std or url."""
    assert decode_key(text) == NEW_KEY


def test_decode_key_accepts_a_32_character_string() -> None:
    """Policy (docs/config.md `encryptionKey`, mcp-front compatible): a raw 32-character string is
    the key."""
    assert decode_key("0123456789abcdefghijklmnopqrstuv") == b"0123456789abcdefghijklmnopqrstuv"


@pytest.mark.parametrize("text", ["", "short", base64.b64encode(bytes(31)).decode(), "x" * 33])
def test_decode_key_rejects_other_sizes_without_echoing_the_value(text: str) -> None:
    """Policy: a bad key is a clear error that does not repeat the secret."""
    with pytest.raises(ValueError, match="32 bytes") as caught:
        decode_key(text)
    assert not text or text not in str(caught.value)


def test_keys_from_config_keeps_the_configured_order() -> None:
    """Contract: the first configured key seals, the others only open."""
    config = AuthConfig(
        idp=IdpConfig(provider="dev"),
        encryption_keys=(
            Secret(base64.b64encode(NEW_KEY).decode()),
            Secret(base64.b64encode(OLD_KEY).decode()),
        ),
    )
    assert keys_from_config(config) == (NEW_KEY, OLD_KEY)
    assert keys_from_config(None) == ()
    blob = sealer_from_config(config).seal(b"x", b"")
    assert Sealer([NEW_KEY]).open(blob, b"") == b"x"


def test_without_configured_keys_the_process_gets_its_own_key() -> None:
    """Policy: memory mode without encryptionKey seals with a random per-process key."""
    first = sealer_from_config(None)
    second = sealer_from_config(AuthConfig(idp=IdpConfig(provider="dev")))
    assert len(ephemeral_key()) == KEY_BYTES
    with pytest.raises(CryptoError):
        second.open(first.seal(b"x", b""), b"")
