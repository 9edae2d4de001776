"""Server-Sent Events framing (WHATWG HTML §9.2.6), incremental and pure.

`SseParser` turns byte chunks into events as soon as each event's blank line arrives and
keeps each event's raw bytes, so a relay can pass events through untouched; `encode_event`
builds one event. No I/O here.

The parser costs time linear in the bytes fed, however they are chunked: the buffer is a
`bytearray` that only grows at its end, and each terminator is searched for once per byte
(`_Finder`). With `max_event_bytes` it holds at most that much of one event and raises
`EventTooLargeError` past it, so a backend that sends an event without end costs the gate
a bounded amount of memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(slots=True)
class SseEvent:
    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None
    # The exact bytes this event arrived as (comments included), for pass-through.
    raw: bytes = b""
    comments: list[str] = field(default_factory=list)


class EventTooLargeError(ValueError):
    """An event grew past the parser's `max_event_bytes` before its blank line came."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        super().__init__(f"an SSE event exceeds {limit_bytes} bytes")


class _Finder:
    """The next occurrence of a byte sequence (one or two bytes), each byte searched once."""

    __slots__ = ("hit", "needle", "searched")  # four per parser, one parser per stream

    def __init__(self, needle: bytes) -> None:
        self.needle = needle
        self.hit = -1  # index of the next occurrence at or after the event start, or -1
        self.searched = 0  # no occurrence starts before this index (past consumed events)

    def next(self, buffer: bytearray, start: int) -> int:
        if self.hit >= start:
            return self.hit
        origin = max(start, self.searched - 1)  # a needle may straddle two chunks
        self.hit = buffer.find(self.needle, origin)
        self.searched = len(buffer) if self.hit == -1 else self.hit + 1
        return self.hit

    def shift(self, removed: int) -> None:
        self.hit = self.hit - removed if self.hit >= removed else -1
        self.searched = max(0, self.searched - removed)


class SseParser:
    """Feed bytes, get complete events. Handles CRLF, LF and CR line ends.

    An event ends at a blank line: two line ends in a row. With any mix of CRLF, LF and CR,
    that is exactly where `\\n\\n`, `\\r\\r` or `\\n\\r` first occurs (CRLF CRLF holds `\\n\\r`;
    CR CRLF holds `\\r\\r`); a final CR takes the LF after it, when one is there.
    """

    __slots__ = ("_buffer", "_cr", "_cr_pairs", "_finders", "_lf_lf", "_max_event_bytes", "_start")

    def __init__(self, max_event_bytes: int | None = None) -> None:
        self._buffer = bytearray()
        self._start = 0  # where the first event not yet yielded begins
        self._max_event_bytes = max_event_bytes
        self._lf_lf = _Finder(b"\n\n")
        # CR line ends are rare: the two CR sequences are looked for only once a CR came.
        self._cr = _Finder(b"\r")
        self._cr_pairs = (_Finder(b"\r\r"), _Finder(b"\n\r"))
        self._finders = (self._lf_lf, self._cr, *self._cr_pairs)

    def feed(self, chunk: bytes) -> Iterator[SseEvent]:
        if self._start:
            del self._buffer[: self._start]
            for finder in self._finders:
                finder.shift(self._start)
            self._start = 0
        self._buffer += chunk
        while (end := self._event_end()) is not None:
            self._check_size(end - self._start)
            raw = bytes(memoryview(self._buffer)[self._start : end])
            self._start = end
            yield _parse_event(raw)
        self._check_size(len(self._buffer) - self._start)

    def _event_end(self) -> int | None:
        buffer, start = self._buffer, self._start
        finders = self._cr_pairs if self._cr.next(buffer, start) >= 0 else ()
        hits = [h for f in (self._lf_lf, *finders) if (h := f.next(buffer, start)) >= 0]
        if not hits:
            return None
        end = min(hits) + 2
        if buffer[end - 1 : end] == b"\r" and buffer[end : end + 1] == b"\n":
            end += 1
        return end

    def _check_size(self, size: int) -> None:
        if self._max_event_bytes is not None and size > self._max_event_bytes:
            raise EventTooLargeError(self._max_event_bytes)

    @property
    def pending(self) -> bytes:
        """Bytes received that do not yet form a complete event."""
        return bytes(self._buffer[self._start :])


def _parse_event(raw: bytes) -> SseEvent:
    event = SseEvent(raw=raw)
    data_lines: list[str] = []
    text = raw.decode("utf-8", errors="replace")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    for line in text.split("\n"):
        if not line:
            continue
        if line.startswith(":"):
            event.comments.append(line[1:].lstrip(" "))
            continue
        # Each line of a large event is copied once (the value), never twice.
        colon = line.find(":")
        if colon == -1:
            name, value = line, ""
        else:
            name = line[:colon]
            value = line[colon + 2 :] if line.startswith(" ", colon + 1) else line[colon + 1 :]
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


def encode_event(
    data: str | bytes, *, event: str | None = None, event_id: str | None = None
) -> bytes:
    """One event; `data` of several lines (any line ends) becomes several `data:` lines.
    Compact JSON (`jsonrpc.dumps`) holds no line end, and goes in as it is, uncopied but once."""
    head = b""
    if event_id is not None:
        head += f"id: {event_id}\n".encode()
    if event is not None:
        head += f"event: {event}\n".encode()
    payload = data.encode() if isinstance(data, str) else data
    if b"\n" not in payload and b"\r" not in payload:
        return b"".join((head, b"data: ", payload, b"\n\n"))
    lines = payload.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    return head + b"".join(b"data: " + line + b"\n" for line in lines) + b"\n"


KEEPALIVE = b": keep-alive\n\n"
