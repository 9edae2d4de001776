"""Authenticating the internal hop: a request one replica relays to the owner of its session.

The relaying replica has authenticated the client already (bearer, service credential);
the owner must not do it again (it has no token to check) and must not trust a request
that merely claims to be a hop. So a hop carries two headers:

    X-Mcp-Gate-Hop: t=<unix seconds>,id=<random request id>,mac=<base64url HMAC-SHA256>
    X-Mcp-Gate-Principal: <base64url JSON of the verified principal>

The MAC (key: `crypto/hop_keys.py`, from `jwtSecret`) covers the version, the timestamp,
the request id, the replica the hop is for, the method, the path with its query, and the
principal header, so none can be changed in transit without the key. The owner refuses
(403, logged) a hop that is malformed, forged (bad MAC, or meant for another replica),
stale (timestamp more than `HOP_WINDOW_SECONDS` away from its clock) or replayed (a
request id it has seen within the window). Since a hop is good at one replica only, the
replay record is that replica's own memory: no store round trip per hop.
Pure; knows nothing of aiohttp or the store.
"""

from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
import json
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

from mcp_gate.crypto.hop_keys import derive_hop_key, hop_mac, macs_equal
from mcp_gate.policy.engine import Caller
from mcp_gate.principal import Principal

HOP_HEADER = "X-Mcp-Gate-Hop"
HOP_PRINCIPAL_HEADER = "X-Mcp-Gate-Principal"
# policy: replicas' clocks agree within seconds (NTP); a hop older than this is refused,
# and request ids are remembered this long after it, so a replay cannot outlive its record.
HOP_WINDOW_SECONDS = 30.0
_VERSION = "v1"
_PRINCIPAL_KINDS = frozenset({"user", "client", "workload", "service", "anonymous"})
_MAX_HEADER_CHARS = 4096


class HopRefusedError(Exception):
    """A hop the owner must not serve; `reason` is safe to log (never a MAC or principal)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# policy: a replica sees few distinct callers at a time, and each request of a relayed
# session carries the same one: its encoding and decoding are remembered (both are pure).
_CALLERS_KEPT = 1024


@functools.lru_cache(maxsize=_CALLERS_KEPT)
def encode_caller(caller: Caller) -> str:
    """The caller as the hop carries it: the principal's fields, plus the token's scopes
    and the client address, which the owner's access policy judges as the edge would."""
    fields: dict[str, object] = asdict(caller.principal)
    fields["scopes"] = sorted(caller.scopes)
    fields["address"] = str(caller.address) if caller.address is not None else None
    return _b64(json.dumps(fields, separators=(",", ":")).encode())


@functools.lru_cache(maxsize=_CALLERS_KEPT)
def decode_caller(text: str) -> Caller:
    raw = json.loads(_unb64(text))
    if not isinstance(raw, dict):
        raise ValueError("not a caller")
    scopes = raw.get("scopes", [])
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise ValueError("scopes must be strings")
    address = raw.get("address")
    if address is not None and not isinstance(address, str):
        raise ValueError("the address must be a string")
    return Caller(
        _decode_principal(raw),
        ipaddress.ip_address(address) if address is not None else None,
        frozenset(scopes),
    )


def _decode_principal(raw: dict[str, object]) -> Principal:
    if raw.get("kind") not in _PRINCIPAL_KINDS:
        raise ValueError("not a principal")
    groups = raw.get("groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise ValueError("groups must be strings")
    fields = {k: raw[k] for k in ("id", "email", "subject", "client_id") if k in raw}
    if not all(isinstance(v, str) or (k == "email" and v is None) for k, v in fields.items()):
        raise ValueError("principal fields must be strings")
    return Principal(raw["kind"], groups=tuple(groups), **fields)  # type: ignore[arg-type]


@dataclass(frozen=True)
class HopKey:
    """Signs and checks hops; `clock` gives Unix seconds (tests move it)."""

    key: bytes
    clock: Callable[[], float] = time.time

    @classmethod
    def from_secret(cls, secret: bytes) -> HopKey:
        return cls(derive_hop_key(secret))

    def _mac(
        self, stamp: str, request_id: str, replica: str, method: str, path: str, who: str
    ) -> bytes:
        fields = (_VERSION, stamp, request_id, replica, method.upper(), path, who)
        return hop_mac(self.key, "\n".join(fields).encode())

    def sign(self, replica: str, method: str, path: str, caller: Caller) -> dict[str, str]:
        """The hop headers for relaying `method path` (path with its query) for `caller`
        to the replica whose id is `replica`."""
        stamp = str(int(self.clock()))
        request_id = secrets.token_urlsafe(16)
        who = encode_caller(caller)
        mac = _b64(self._mac(stamp, request_id, replica, method, path, who))
        return {
            HOP_HEADER: f"t={stamp},id={request_id},mac={mac}",
            HOP_PRINCIPAL_HEADER: who,
        }

    def check(
        self, headers: Mapping[str, str], replica: str, method: str, path: str
    ) -> tuple[Caller, str]:
        """(caller, request id) of a well-signed, fresh hop for `replica`;
        HopRefusedError otherwise. Replays are `HopVerifier`'s to catch."""
        value = headers.get(HOP_HEADER, "")
        who = headers.get(HOP_PRINCIPAL_HEADER, "")
        if not value or not who or len(value) + len(who) > _MAX_HEADER_CHARS:
            raise HopRefusedError("missing or oversized hop headers")
        try:
            parts = dict(item.split("=", 1) for item in value.split(","))
            stamp, request_id, mac = parts["t"], parts["id"], _unb64(parts["mac"])
            sent_at = int(stamp)
        except (ValueError, KeyError, binascii.Error):
            raise HopRefusedError("malformed hop header") from None
        if not macs_equal(mac, self._mac(stamp, request_id, replica, method, path, who)):
            raise HopRefusedError("bad hop signature")
        if abs(self.clock() - sent_at) > HOP_WINDOW_SECONDS:
            raise HopRefusedError("stale hop")
        try:
            caller = decode_caller(who)
        except (ValueError, TypeError, binascii.Error):
            raise HopRefusedError("unreadable principal") from None
        return caller, request_id


class HopVerifier:
    """`HopKey.check` for this replica, plus its memory of the request ids it has seen."""

    def __init__(self, key: HopKey, replica: str) -> None:
        self._key = key
        self._replica = replica
        # request id → when it may be forgotten; ids arrive in time order, so the oldest
        # is first and the purge stops at the first one still in the window.
        self._seen: OrderedDict[str, float] = OrderedDict()

    def verify(self, headers: Mapping[str, str], method: str, path: str) -> Caller:
        caller, request_id = self._key.check(headers, self._replica, method, path)
        now = self._key.clock()
        while self._seen and next(iter(self._seen.values())) < now:
            self._seen.popitem(last=False)
        if request_id in self._seen:
            raise HopRefusedError("replayed hop")
        # Stale past 2 windows anyway (a timestamp up to one window in the future is taken).
        self._seen[request_id] = now + 2 * HOP_WINDOW_SECONDS
        return caller
