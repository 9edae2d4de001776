"""Scalar values of the config file: `$env`, `${VAR}`, `$userToken`, durations and sizes.

Owns how one raw value (what YAML/JSON produced) becomes a typed value, and the reverse
formatting the renderer needs. Every failure is recorded on the `Context` with the value's
key path; nothing here raises on bad input. A secret's value never appears in a message.
Knows nothing of which key means what: `section.py` and the `*_schema.py` modules do.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

from mcp_gate.config.model import UserTokenTemplate

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# `$$` is a literal dollar; `${NAME}` (or a broken `${...`) is a reference; a lone `$` stays.
_DOLLAR = re.compile(r"\$\$|\$\{([^}]*)(\}?)")
_DURATION = re.compile(r"(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1,
    "m": 60,
    "h": 3600,
}
_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")
_SIZE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)")
_SIZE_UNIT_BYTES = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}
TOKEN_PLACEHOLDER = "{{token}}"  # noqa: S105 (a template marker, not a secret)
TEMPLATE_PLACES = "a server's url, headers, args and env"


@dataclass
class Context:
    """One parse: the environment it reads and every problem found so far."""

    environ: Mapping[str, str]
    problems: list[str] = field(default_factory=list)

    def error(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}" if path else message)


def child_path(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def item_path(path: str, index: int) -> str:
    return f"{path}[{index}]"


def describe(raw: object) -> str:
    """What a raw value is, in the words of a YAML user."""
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return "a boolean"
    if isinstance(raw, int):
        return "an integer"
    if isinstance(raw, float):
        return "a number"
    if isinstance(raw, str):
        return "a string"
    if isinstance(raw, Mapping):
        return "a mapping"
    if isinstance(raw, list):
        return "a list"
    return f"a {type(raw).__name__}"


def expand(ctx: Context, path: str, text: str) -> str | None:
    """Expand `${VAR}` and `$$` in a string of the file; None (recorded) on failure."""
    failed = False

    def replace(match: re.Match[str]) -> str:
        nonlocal failed
        if match.group(0) == "$$":
            return "$"
        name, closed = match.group(1), match.group(2)
        if not closed or not ENV_NAME.fullmatch(name):
            ctx.error(path, "malformed ${...}: write ${NAME}, or $$ for a literal dollar")
        elif name not in ctx.environ:
            ctx.error(path, f"environment variable {name} is not set (referenced as ${{{name}}})")
        else:
            return ctx.environ[name]
        failed = True
        return ""

    result = _DOLLAR.sub(replace, text)
    return None if failed else result


def reads_environment(raw: object) -> bool:
    """Whether a raw value takes its text from the environment (`$env` or `${VAR}`)."""
    if isinstance(raw, Mapping):
        return "$env" in raw
    return isinstance(raw, str) and any(m.group(0) != "$$" for m in _DOLLAR.finditer(raw))


def _scalar_text(raw: bool | int | float) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def resolve(
    ctx: Context, path: str, raw: object, *, user_token: bool = False, scalars: bool = False
) -> str | UserTokenTemplate | None:
    """A string value: plain (with `${VAR}`), `{$env: VAR}`, or `{$userToken: ...}`.

    `user_token` allows the `$userToken` form (only in url, headers, args, env);
    `scalars` accepts numbers and booleans as their text (args and env values).
    """
    if isinstance(raw, str):
        return expand(ctx, path, raw)
    if isinstance(raw, Mapping) and ("$env" in raw or "$userToken" in raw):
        return _reference(ctx, path, raw, user_token=user_token)
    if scalars and isinstance(raw, bool | int | float):
        return _scalar_text(raw)
    ctx.error(path, f"expected a string, got {describe(raw)}")
    return None


def _reference(
    ctx: Context, path: str, raw: Mapping[object, object], *, user_token: bool
) -> str | UserTokenTemplate | None:
    if len(raw) != 1:
        ctx.error(path, "a {$env: ...} or {$userToken: ...} value has exactly one key")
        return None
    ((kind, value),) = raw.items()
    if not isinstance(value, str):
        ctx.error(path, f"{kind} takes a string, got {describe(value)}")
        return None
    if kind == "$env":
        if not ENV_NAME.fullmatch(value):
            ctx.error(path, f"$env takes an environment variable name, got {value!r}")
            return None
        found = ctx.environ.get(value)
        if found is None:
            ctx.error(path, f"environment variable {value} is not set")
        elif not found:
            # policy: as mcp-front, an empty variable is a mistake, not a value.
            ctx.error(path, f"environment variable {value} is empty")
        return found or None
    if not user_token:
        ctx.error(path, f"{{$userToken: ...}} is allowed only in {TEMPLATE_PLACES}")
        return None
    template = expand(ctx, path, value)
    if template is None:
        return None
    if TOKEN_PLACEHOLDER not in template:
        ctx.error(path, f"a $userToken template must contain {TOKEN_PLACEHOLDER}")
        return None
    return UserTokenTemplate(template)


def parse_duration(text: str) -> float | None:
    """Go-style duration (`30s`, `5m`, `1h30m`, `720h`, `500ms`) or plain seconds → seconds."""
    text = text.strip()
    if _NUMBER.fullmatch(text):
        seconds = float(text)
    elif _DURATION.fullmatch(text):
        parts = _DURATION_PART.findall(text)
        seconds = sum(float(number) * _DURATION_UNIT_SECONDS[unit] for number, unit in parts)
    else:
        return None
    return seconds if is_finite(seconds) else None


def parse_size(text: str) -> int | None:
    """`4MiB`, `512KiB`, `1MB`, `1GB`, or plain bytes → bytes (units are case-insensitive)."""
    match = _SIZE.fullmatch(text.strip())
    if match is None or match.group(2).lower() not in _SIZE_UNIT_BYTES:
        return None
    size = float(match.group(1)) * _SIZE_UNIT_BYTES[match.group(2).lower()]
    return int(size) if is_finite(size) else None


def is_finite(number: float) -> bool:
    """False for inf, nan and integers too large for a float (YAML allows all three)."""
    try:
        return math.isfinite(number)
    except OverflowError:
        return False


def format_duration(seconds: float) -> str:
    """The shortest text `parse_duration` reads back as exactly `seconds`."""
    if seconds != int(seconds):
        return f"{seconds!r}s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if n]
    return "".join(parts) or "0s"


def format_size(size: int) -> str:
    """`4MiB` for whole binary units, else plain bytes."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def escape_dollars(text: str) -> str:
    """Text that `expand` turns back into `text` (doubles every `$` when one could be read)."""
    return text.replace("$", "$$") if "$$" in text or "${" in text else text


_UNPARSEABLE = SplitResult("", "", "", "", "")


def split_url(url: str) -> SplitResult:
    """`urlsplit`, with a URL it cannot read (an unclosed IPv6 bracket, a port that is not
    a number) read as an empty one, which every check then refuses."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a bad port
    except ValueError:
        return _UNPARSEABLE
    return parts


def is_http_url(url: str) -> bool:
    parts = split_url(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)
