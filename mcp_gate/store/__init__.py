"""The gate's storage: the `Store` contract and how to open the configured one."""

from mcp_gate.store.factory import build_store, open_store
from mcp_gate.store.memory import MemoryStore
from mcp_gate.store.protocols import Store

__all__ = ["MemoryStore", "Store", "build_store", "open_store"]
