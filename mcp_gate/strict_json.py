"""Decoding JSON so that every parser on the path reads it alike; spotting look-alike keys.

The gate decides on its own parse of a message (tool filter, routing, later policy) and a
backend acts on its parse of the same bytes. Where parsers differ, a message can say one
thing to the gate and another to the backend: Go's `encoding/json` (mcp-go, the Go SDK
before v1.3.1) matches object keys case-insensitively, folds U+017F (long s) to `s` and U+212A
(Kelvin sign) to `k`, and keeps the last of duplicate keys; other parsers keep the first. So:

- `decode` accepts only what every conforming parser reads the same way: UTF-8 (MCP
  transports: messages MUST be UTF-8), no duplicate member names at any depth (RFC 7493
  §2.3, I-JSON), no NaN or Infinity (not JSON, RFC 8259 §6), no number Python cannot hold
  (an integer of thousands of digits makes `int()` raise ValueError; an exponent past
  float range gives infinity);
- `ProtocolKeys.look_alike` finds a key that is not exactly one of the keys a reader cares about
  but folds to one (Unicode case folding, which covers Go's folds), so callers refuse it.

Pure: no I/O, no knowledge of JSON-RPC beyond what callers pass in.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

# Go's encoding/json folds (unicode.SimpleFold orbits that reach ASCII); str.casefold()
# maps both already, the table keeps the rule independent of that detail.
_GO_FOLDS = str.maketrans({"\u017f": "s", "\u212a": "k"})


class MalformedJsonError(ValueError):
    """Not JSON the gate will read: bad syntax or encoding, or a value out of range."""


class AmbiguousJsonError(ValueError):
    """Well-formed JSON that parsers read differently: a repeated member name."""


def fold(key: str) -> str:
    """The form under which case-insensitive parsers (Go's among them) match `key`."""
    return key.translate(_GO_FOLDS).casefold()


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        repeated = next(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
        raise AmbiguousJsonError(f"member name {repeated!r} appears twice in one object")
    return members


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise MalformedJsonError(f"number {text[:20]}… is out of range")
    return value


def _no_constant(name: str) -> object:
    raise MalformedJsonError(f"{name} is not JSON")


# Built once: `json.loads` with hooks would build a decoder for every message.
_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique_members, parse_float=_finite_float, parse_constant=_no_constant
)


def decode(data: bytes | str) -> object:
    """The decoded value; MalformedJsonError or AmbiguousJsonError otherwise."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return _DECODER.decode(text)
    except (MalformedJsonError, AmbiguousJsonError):
        raise
    except RecursionError:
        raise MalformedJsonError("nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, int() digit limit
        raise MalformedJsonError(str(exc)) from None


class ProtocolKeys:
    """The keys a reader of one kind of object acts on (`look_alike` checks against them)."""

    def __init__(self, *keys: str) -> None:
        self.keys = frozenset(keys)
        self._folded = frozenset(fold(key) for key in keys)

    def is_look_alike(self, key: str) -> bool:
        """Whether `key` is not one of the keys but folds to one."""
        return key not in self.keys and fold(key) in self._folded

    def look_alike(self, members: Mapping[str, object]) -> str | None:
        """A key of `members` that is not one of the keys but folds to one, if any."""
        if members.keys() <= self.keys:
            return None  # the usual case, decided by one set comparison
        return next((key for key in members if self.is_look_alike(key)), None)
