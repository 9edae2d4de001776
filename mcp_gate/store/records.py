"""Stored records: frozen dataclasses to the bytes a `Store` keeps, and back.

JSON of the dataclass's fields (lists come back as tuples). Reading is forgiving in one
way only: a value that does not read as the record (altered in the store, or written by a
version that had other fields) is absent, so the request that needed it fails as "unknown"
with its protocol's 4xx, never with a decoder exception. Unknown fields are ignored.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, TypeVar

R = TypeVar("R")


def to_json(record: object) -> bytes:
    fields: dict[str, Any] = dataclasses.asdict(record)  # type: ignore[call-overload]
    return json.dumps(fields, separators=(",", ":")).encode()


def from_json(cls: type[R], data: bytes | None) -> R | None:
    """The record of `data`, or None when there is none or it does not read as a `cls`."""
    if data is None:
        return None
    try:
        raw = json.loads(data)
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items() if k in names}
        return cls(**values)
    # ValueError: not JSON, or a number past Python's digit limit; the others: not an object
    # of the right fields.
    except (ValueError, RecursionError, TypeError, AttributeError):
        return None
