"""Server-Sent Events framing (WHATWG HTML §9.2.6), incremental and pure.

`SseParser` turns byte chunks into events as soon as each event's blank line arrives and
keeps each event's raw bytes, so a relay can pass events through untouched; `encode_event`
builds one event. No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class SseEvent:
    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None
    # The exact bytes this event arrived as (comments included), for pass-through.
    raw: bytes = b""
    comments: list[str] = field(default_factory=list)


class SseParser:
    """Feed bytes, get complete events. Handles CRLF, LF and CR line ends."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> Iterator[SseEvent]:
        self._buffer += chunk
        while True:
            end = _find_event_end(self._buffer)
            if end is None:
                return
            raw, self._buffer = self._buffer[:end], self._buffer[end:]
            yield _parse_event(raw)

    @property
    def pending(self) -> bytes:
        """Bytes received that do not yet form a complete event."""
        return self._buffer


def _find_event_end(buffer: bytes) -> int | None:
    """Index just past the blank line that ends the first event, if it is complete."""
    best: int | None = None
    for terminator in (b"\r\n\r\n", b"\n\n", b"\r\r"):
        index = buffer.find(terminator)
        if index != -1 and (best is None or index + len(terminator) < best):
            best = index + len(terminator)
    return best


def _parse_event(raw: bytes) -> SseEvent:
    event = SseEvent(raw=raw)
    data_lines: list[str] = []
    text = raw.decode("utf-8", errors="replace")
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line:
            continue
        if line.startswith(":"):
            event.comments.append(line[1:].lstrip(" "))
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data_lines.append(value)
        elif name == "event":
            event.event = value or "message"
        elif name == "id":
            event.id = value
        elif name == "retry" and value.isdigit():
            event.retry = int(value)
    event.data = "\n".join(data_lines)
    return event


def encode_event(data: str, *, event: str | None = None, event_id: str | None = None) -> bytes:
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if event is not None:
        lines.append(f"event: {event}")
    lines.extend(f"data: {line}" for line in data.split("\n"))
    return ("\n".join(lines) + "\n\n").encode()


KEEPALIVE = b": keep-alive\n\n"
