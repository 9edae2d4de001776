"""Sealed storage of users' tokens: bound to user and server, tamper-evident, key rotation."""

from __future__ import annotations

import os

from mcp_gate.config.model import RedisConfig, Secret
from mcp_gate.crypto.aead import Sealer
from mcp_gate.store.memory import MemoryStore
from mcp_gate.store.redis import RedisStore
from mcp_gate.usertokens.store import (
    SERVICE_TOKEN_KIND,
    USER_TOKEN_KIND,
    ServiceTokens,
    UserTokenStore,
    masked_hint,
    record_key,
)

OLD_KEY, NEW_KEY = os.urandom(32), os.urandom(32)
TOKEN = "ntn_0123456789abcdefXYZ1"


async def test_saved_token_loads_back_for_its_user_and_server_only():
    """Issue 5 §3: one record per (user, server)."""
    tokens = UserTokenStore(MemoryStore(), Sealer([NEW_KEY]), clock=lambda: 1000.0)
    await tokens.save("alice", "notion", TOKEN)
    saved = await tokens.load("alice", "notion")
    assert saved is not None
    assert saved.value == TOKEN
    assert saved.saved_at == 1000.0
    assert await tokens.load("bob", "notion") is None
    assert await tokens.load("alice", "linear") is None


async def test_token_encrypted_for_user_a_read_as_user_b_does_not_open():
    """Issue 5 §3: the user is associated data; a value moved to B's key does not decrypt."""
    store = MemoryStore()
    tokens = UserTokenStore(store, Sealer([NEW_KEY]))
    await tokens.save("alice", "notion", TOKEN)
    sealed = await store.get(USER_TOKEN_KIND, record_key("alice", "notion"))
    assert sealed is not None
    await store.put(USER_TOKEN_KIND, record_key("bob", "notion"), sealed)
    await store.put(USER_TOKEN_KIND, record_key("alice", "linear"), sealed)
    assert await tokens.load("bob", "notion") is None
    assert await tokens.load("alice", "linear") is None
    assert (await tokens.load("alice", "notion")) is not None


async def test_pasted_token_does_not_open_as_a_service_connection():
    """policy: the record kind is associated data too; one kind never reads as the other."""
    store = MemoryStore()
    tokens = UserTokenStore(store, Sealer([NEW_KEY]))
    await tokens.save("alice", "notion", TOKEN)
    sealed = await store.get(USER_TOKEN_KIND, record_key("alice", "notion"))
    assert sealed is not None
    await store.put(SERVICE_TOKEN_KIND, record_key("alice", "notion"), sealed)
    assert await tokens.load_service_tokens("alice", "notion") is None


async def test_stored_bytes_hold_neither_the_token_nor_the_user():
    """docs/THREAT_MODEL.md, Assets: secrets at rest are AES-256-GCM sealed; keys are digests."""
    store = MemoryStore()
    tokens = UserTokenStore(store, Sealer([NEW_KEY]))
    await tokens.save("alice@example.com", "notion", TOKEN)
    key = record_key("alice@example.com", "notion")
    sealed = await store.get(USER_TOKEN_KIND, key)
    assert sealed is not None
    assert TOKEN.encode() not in sealed
    assert "alice" not in key
    assert "notion" not in key


async def test_tampered_record_reads_as_absent():
    """Issue 5 §3: a flipped bit fails the GCM tag; the user simply sets the token again."""
    store = MemoryStore()
    tokens = UserTokenStore(store, Sealer([NEW_KEY]))
    await tokens.save("alice", "notion", TOKEN)
    key = record_key("alice", "notion")
    sealed = bytearray(await store.get(USER_TOKEN_KIND, key) or b"")
    sealed[-1] ^= 1
    await store.put(USER_TOKEN_KIND, key, bytes(sealed))
    assert await tokens.load("alice", "notion") is None


async def test_token_sealed_with_an_old_key_opens_after_rotation_until_the_key_is_dropped():
    """docs/config.md `encryptionKey` rotation: the first key seals, all listed keys open."""
    store = MemoryStore()
    await UserTokenStore(store, Sealer([OLD_KEY])).save("alice", "notion", TOKEN)
    rotated = UserTokenStore(store, Sealer([NEW_KEY, OLD_KEY]))
    saved = await rotated.load("alice", "notion")
    assert saved is not None
    assert saved.value == TOKEN
    assert await UserTokenStore(store, Sealer([NEW_KEY])).load("alice", "notion") is None


async def test_service_tokens_round_trip_and_delete():
    """Issue 5 §5: the connection record holds access token, refresh token and expiry."""
    tokens = UserTokenStore(MemoryStore(), Sealer([NEW_KEY]), clock=lambda: 50.0)
    record = ServiceTokens("access-1", "refresh-1", expires_at=3650.0)
    await tokens.save_service_tokens("alice", "linear", record)
    loaded = await tokens.load_service_tokens("alice", "linear")
    assert loaded == ServiceTokens("access-1", "refresh-1", 3650.0, saved_at=50.0)
    assert "access-1" not in repr(loaded)
    assert "refresh-1" not in repr(loaded)
    await tokens.delete_service_tokens("alice", "linear")
    assert await tokens.load_service_tokens("alice", "linear") is None


async def test_token_moved_between_users_in_redis_does_not_open(redis_server, redis_key_prefix):
    """Issue 5 §3 on the production store: the binding holds whatever the store."""
    store = RedisStore.from_config(RedisConfig(Secret(redis_server.url), redis_key_prefix))
    try:
        tokens = UserTokenStore(store, Sealer([NEW_KEY]))
        await tokens.save("alice", "notion", TOKEN)
        sealed = await store.get(USER_TOKEN_KIND, record_key("alice", "notion"))
        assert sealed is not None
        await store.put(USER_TOKEN_KIND, record_key("bob", "notion"), sealed)
        assert await tokens.load("bob", "notion") is None
        saved = await tokens.load("alice", "notion")
        assert saved is not None
        assert saved.value == TOKEN
    finally:
        await store.close()


def test_masked_hint_shows_at_most_the_last_four_characters_of_a_long_value():
    """policy: a hint leaves at least 12 characters unknown; a short value shows nothing."""
    assert masked_hint("ntn_0123456789abcdefx4Qa") == "••••x4Qa"
    assert masked_hint("short-secret") == "••••"
    assert masked_hint("") == "••••"
