"""Choosing and opening the configured store.

Owns the mapping from `auth.storage` to a `Store`: memory when there is no auth config or
`storage: memory`, Redis when `storage: redis`. It does not check that Redis answers at
start: a down Redis makes `/ready` and the requests that need it fail (503) until it is
back, and the gate starts anyway.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp_gate.config.model import AuthConfig
from mcp_gate.store.memory import MemoryStore
from mcp_gate.store.protocols import Store


def build_store(auth_config: AuthConfig | None) -> Store:
    """The configured store, not yet connected; the caller closes it."""
    if auth_config is None or auth_config.storage == "memory":
        return MemoryStore()
    if auth_config.redis is None:
        raise ValueError("auth.storage is redis but auth.redis is missing")  # the loader's job
    from mcp_gate.store.redis import RedisStore  # the redis client loads only when used

    return RedisStore.from_config(auth_config.redis)


@asynccontextmanager
async def open_store(auth_config: AuthConfig | None) -> AsyncIterator[Store]:
    """`async with open_store(config.proxy.auth) as store:`; closes the store on exit."""
    store = build_store(auth_config)
    try:
        yield store
    finally:
        await store.close()
