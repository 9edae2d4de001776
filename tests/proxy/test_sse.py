"""The SSE parser (WHATWG HTML §9.2.6 framing): events whole and exact however the bytes
are chunked, every line-end style, and the event size cap (issue 17 §4)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_gate.proxy.sse import EventTooLargeError, SseParser

LINE_ENDS = ["\n", "\r\n", "\r"]


def _feed_all(chunks: list[bytes], limit: int | None = None) -> tuple[list[bytes], bytes]:
    parser = SseParser(limit)
    raws = [event.raw for chunk in chunks for event in parser.feed(chunk)]
    return raws, parser.pending


def _fields(chunks: list[bytes]) -> list[tuple[str, str, str | None, list[str]]]:
    """What a reader sees of each event that carries anything."""
    parser = SseParser()
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    return [(e.event, e.data, e.id, e.comments) for e in events if e.raw.strip(b"\r\n")]


FIELDS = ['data: {"a":1}', "data: two", "id: 7", ": note", "event: x"]


@st.composite
def stream(draw: st.DrawFn) -> tuple[bytes, list[bytes], list[bytes]]:
    """Events written with any mix of line ends; the same bytes cut anywhere."""
    events = []
    for _ in range(draw(st.integers(1, 5))):
        fields = draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=4))
        ends = [draw(st.sampled_from(LINE_ENDS)) for _ in range(len(fields) + 1)]
        events.append("".join(f + e for f, e in zip([*fields, ""], ends, strict=True)).encode())
    whole = b"".join(events)
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(whole) - 1)), max_size=12)))
    chunks = [whole[a:b] for a, b in zip([0, *cuts], [*cuts, len(whole)], strict=True)]
    return whole, events, chunks


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(case=stream())
def test_events_are_the_same_however_the_bytes_are_chunked(
    case: tuple[bytes, list[bytes], list[bytes]],
) -> None:
    """WHATWG HTML §9.2.6: an event ends at a blank line (CRLF, LF or CR line ends). Every
    byte comes out exactly once, in order, and the events read the same, whether the
    stream comes whole, cut anywhere, or byte by byte."""
    whole, _, chunks = case
    one_by_one = [whole[i : i + 1] for i in range(len(whole))]
    for cut in ([whole], chunks, one_by_one):
        raws, pending = _feed_all(cut)
        assert b"".join(raws) + pending == whole
        assert _fields(cut) == _fields([whole])


def test_events_keep_their_exact_bytes() -> None:
    """A pass-through relays each event as it came: comments, ids and line ends kept."""
    stream = b": hi\r\nid: 1\r\ndata: a\r\n\r\ndata: b\n\nevent: x\rdata: c\r\r"
    raws, pending = _feed_all([stream])
    assert raws == [b": hi\r\nid: 1\r\ndata: a\r\n\r\n", b"data: b\n\n", b"event: x\rdata: c\r\r"]
    assert pending == b""


def test_pending_holds_the_unfinished_event_even_between_two_events() -> None:
    """A relay that stops parsing after some event reads `pending` for the bytes not yet
    framed, while the parser is still between events of one chunk."""
    parser = SseParser()
    events = parser.feed(b"event: endpoint\ndata: /m\n\ndata: 1\n\ndata: par")
    assert next(events).data == "/m"
    assert parser.pending == b"data: 1\n\ndata: par"


def test_an_event_within_the_cap_passes_and_one_over_it_is_refused() -> None:
    """Issue 17 §4 (policy): one event may hold `max_event_bytes`, blank line included."""
    event = b"data: " + b"x" * 100 + b"\n\n"
    assert _feed_all([event], limit=len(event)) == ([event], b"")
    with pytest.raises(EventTooLargeError):
        _feed_all([event], limit=len(event) - 1)


def test_an_event_that_never_ends_is_refused_once_it_passes_the_cap() -> None:
    """Issue 17 §4: a backend that sends one event without end costs at most the cap: the
    parser gives up as soon as it holds more, not when the event ends."""
    limit, chunk = 64 * 1024, b"y" * 8192
    parser = SseParser(limit)
    held = len(b"data: ")
    list(parser.feed(b"data: "))
    while held + len(chunk) <= limit:
        list(parser.feed(chunk))
        held += len(chunk)
    with pytest.raises(EventTooLargeError):
        list(parser.feed(chunk))
