"""The gate's cryptography: sealing (AES-256-GCM) and token digests. Only here imports
`cryptography`."""

from mcp_gate.crypto.aead import (
    Sealer,
    decode_key,
    ephemeral_key,
    keys_from_config,
    open_under_token,
    seal_under_token,
    sealer_from_config,
)
from mcp_gate.crypto.digest import new_token, secrets_equal, token_digest

__all__ = [
    "Sealer",
    "decode_key",
    "ephemeral_key",
    "keys_from_config",
    "new_token",
    "open_under_token",
    "seal_under_token",
    "sealer_from_config",
    "secrets_equal",
    "token_digest",
]
