"""One mapping of the config file, read key by key, every problem recorded with its key path.

Owns the generic checks of a section: that it is a mapping, that every key is known
(`unknown key; did you mean headers?`), and typed getters that fall back to a default after
recording a problem, so one parse reports every problem of the file. Which keys a section
has and what they mean belongs to the `*_schema.py` modules.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping

from mcp_gate.config.model import Secret, UserTokenTemplate
from mcp_gate.config.values import (
    Context,
    child_path,
    describe,
    is_finite,
    item_path,
    parse_duration,
    parse_size,
    resolve,
)


def unknown_key_message(key: object, known: Iterable[str]) -> str:
    choices = sorted(known)
    close = difflib.get_close_matches(str(key), choices, n=1)
    if close:
        return f"unknown key; did you mean {close[0]}?"
    return f"unknown key (known keys: {', '.join(choices)})"


class Section:
    """A mapping at `path`. An explicit `null` reads as an absent key."""

    def __init__(
        self,
        ctx: Context,
        path: str,
        raw: object,
        keys: Iterable[str],
        *,
        ignored: Iterable[str] = (),
        unsupported: Mapping[str, str] | None = None,
    ) -> None:
        self.ctx = ctx
        self.path = path
        self.data: dict[str, object] = {}
        self._resolved: dict[str, str | UserTokenTemplate | None] = {}
        # Not a mapping: reported once here; its required keys are not reported again.
        self.broken = raw is not None and not isinstance(raw, Mapping)
        if self.broken:
            ctx.error(path, f"expected a mapping, got {describe(raw)}")
            return
        keys = tuple(keys)
        known = set(keys) | set(ignored)
        unsupported = unsupported or {}
        mapping: Mapping[object, object] = raw if isinstance(raw, Mapping) else {}
        for key, value in mapping.items():
            if isinstance(key, str) and key in unsupported:
                ctx.error(self.at(key), unsupported[key])
            elif not isinstance(key, str) or key not in known:
                ctx.error(self.at(key), unknown_key_message(key, keys))
            elif value is not None:
                self.data[key] = value

    def at(self, key: object) -> str:
        return child_path(self.path, key)

    def has(self, key: str) -> bool:
        return key in self.data

    def child(
        self,
        key: str,
        keys: Iterable[str],
        *,
        ignored: Iterable[str] = (),
        unsupported: Mapping[str, str] | None = None,
    ) -> Section:
        return Section(
            self.ctx,
            self.at(key),
            self.data.get(key),
            keys,
            ignored=ignored,
            unsupported=unsupported,
        )

    def need(self, key: str, why: str) -> bool:
        """True when `key` is present; otherwise record that it is required, and why."""
        if key in self.data:
            return True
        if not self.broken:
            self.ctx.error(self.at(key), f"required: {why}")
        return False

    def forbid(self, keys: Iterable[str], why: str) -> None:
        for key in keys:
            if key in self.data:
                self.ctx.error(self.at(key), f"not allowed: {why}")

    def _resolve(self, key: str) -> str | UserTokenTemplate | None:
        """The value of a string key, resolved once (so a problem is recorded once)."""
        if key not in self._resolved:
            self._resolved[key] = resolve(self.ctx, self.at(key), self.data[key])
        return self._resolved[key]

    def text(self, key: str, default: str = "") -> str:
        if key not in self.data:
            return default
        value = self._resolve(key)
        return value if isinstance(value, str) else default

    def secret(self, key: str) -> Secret | None:
        if key not in self.data:
            return None
        value = self._resolve(key)
        return Secret(value) if isinstance(value, str) else None

    def choice(self, key: str, options: tuple[str, ...], default: str) -> str:
        if key not in self.data:
            return default
        value = self._resolve(key)
        if value is None or isinstance(value, UserTokenTemplate):
            return default
        if value not in options:
            self.ctx.error(self.at(key), f"must be one of {', '.join(options)}; got {value!r}")
            return default
        return value

    def _as_text(self, key: str, raw: object) -> tuple[bool, str | None]:
        """(is textual, text): a string or `{$env: VAR}` resolved; (False, None) otherwise."""
        if isinstance(raw, str) or (
            isinstance(raw, Mapping) and ("$env" in raw or "$userToken" in raw)
        ):
            value = self._resolve(key)
            return True, value if isinstance(value, str) else None
        return False, None

    def boolean(self, key: str, default: bool) -> bool:
        raw = self.data.get(key)
        if raw is None or isinstance(raw, bool):
            return default if raw is None else raw
        textual, text = self._as_text(key, raw)
        if text is not None and text.lower() in ("true", "false"):
            return text.lower() == "true"
        if not textual or text is not None:
            self.ctx.error(self.at(key), f"expected true or false, got {describe(raw)}")
        return default

    def integer(self, key: str, default: int, *, minimum: int = 0) -> int:
        raw = self.data.get(key)
        if raw is None:
            return default
        number: int | None = None
        textual, text = False, None
        if isinstance(raw, int) and not isinstance(raw, bool):
            number = raw
        else:
            textual, text = self._as_text(key, raw)
            if text is not None and text.isascii() and text.isdigit():
                number = int(text)
        if number is None:
            if not textual or text is not None:
                self.ctx.error(self.at(key), f"expected a whole number, got {describe(raw)}")
        elif number < minimum:
            self.ctx.error(self.at(key), f"must be at least {minimum}")
        else:
            return number
        return default

    def duration(self, key: str, default: float) -> float:
        """Seconds from `30s`, `5m`, `1h30m`, `720h` or a plain number of seconds; > 0."""
        return self._measure(key, default, parse_duration, "a duration like 30s, 5m, 1h or 720h")

    def size(self, key: str, default: int) -> int:
        """Bytes from `4MiB`, `512KiB`, `1MB` or a plain number of bytes; > 0."""
        return int(self._measure(key, default, parse_size, "a size like 4MiB, 512KiB or 1MB"))

    def _measure(
        self, key: str, default: float, parse: Callable[[str], float | None], expected: str
    ) -> float:
        raw = self.data.get(key)
        if raw is None:
            return default
        value: float | None = None
        textual, text = False, None
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            value = raw if is_finite(raw) else None
        else:
            textual, text = self._as_text(key, raw)
            value = parse(text) if text is not None else None
        if value is None:
            if not textual or text is not None:
                shown = repr(text) if text is not None else describe(raw)
                self.ctx.error(self.at(key), f"expected {expected}, got {shown}")
        elif value <= 0:
            self.ctx.error(self.at(key), "must be greater than zero")
        else:
            return value
        return default

    def items(self, key: str) -> list[tuple[str, object]]:
        """The items of a list, each with its path (`key[0]`); [] (recorded) if not a list."""
        raw = self.data.get(key)
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.ctx.error(self.at(key), f"expected a list, got {describe(raw)}")
            return []
        return [(item_path(self.at(key), index), item) for index, item in enumerate(raw)]

    def text_list(self, key: str) -> tuple[str, ...]:
        values = (resolve(self.ctx, path, item) for path, item in self.items(key))
        return tuple(value for value in values if isinstance(value, str))

    def entries(self, key: str) -> list[tuple[str, str, object]]:
        """The (path, name, value) of a mapping whose names are the user's (env, headers)."""
        raw = self.data.get(key)
        if raw is None:
            return []
        if not isinstance(raw, Mapping):
            self.ctx.error(self.at(key), f"expected a mapping, got {describe(raw)}")
            return []
        entries = []
        for name, value in raw.items():
            if isinstance(name, str):
                entries.append((child_path(self.at(key), name), name, value))
            else:
                self.ctx.error(child_path(self.at(key), name), "names must be strings")
        return entries
