"""An authorization request carried through the consent page sealed, instead of stored.

/authorize sends a browser that has not consented yet to /consent with the validated
request (a `PendingAuthorization`) sealed into the URL (AES-256-GCM, crypto/aead.py), and
the consent form posts the same blob back. Nothing is stored for a request before the user
acts on it, so a flood of anonymous /authorize requests costs the gate no memory and no
storage. A blob opens only with this gate's keys, only as a consent request, and only
until PENDING_TTL_SECONDS after the request was made.
Knows nothing of HTTP; stores nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from mcp_gate.crypto.aead import Sealer
from mcp_gate.errors import CryptoError
from mcp_gate.oauth.grants import PENDING_TTL_SECONDS
from mcp_gate.oauth.models import PendingAuthorization
from mcp_gate.store.records import from_json, to_json

_AAD = b"mcp-gate consent request v1"


class ConsentRequests:
    def __init__(self, sealer: Sealer, *, clock: Callable[[], float] = time.time) -> None:
        self._sealer = sealer
        self._clock = clock

    def seal(self, pending: PendingAuthorization) -> str:
        """The request as URL-safe text (base64url), for the consent page and its form."""
        return self._sealer.seal_text(to_json(pending), _AAD)

    def open(self, sealed: str) -> PendingAuthorization | None:
        """The request, or None when the text is not one of ours, was altered, or expired."""
        try:
            pending = from_json(PendingAuthorization, self._sealer.open_text(sealed, _AAD))
        except CryptoError:
            return None
        if pending is None or self._clock() - pending.created_at > PENDING_TTL_SECONDS:
            return None
        return pending
