"""Property: what the proxy parses from clients and backends, JSON-RPC bodies and SSE
framing both ways, gives messages or its documented error, never another exception.
JSON-RPC 2.0 §5.1 (parse error -32700, invalid request -32600); WHATWG HTML §9.2.6.
"""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from mcp_gate.jsonrpc import INVALID_REQUEST, PARSE_ERROR, InvalidMessageError, parse_messages
from mcp_gate.proxy.sse import EventTooLargeError, SseParser, encode_event
from tests.fuzz.strategies import bent_document, json_values, raised, urlish_text

_CALL = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": "echo", "arguments": {"text": "hi"}},
}
_bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    bent_document(_CALL).map(lambda d: json.dumps(d).encode()),
    st.lists(bent_document(_CALL), min_size=1, max_size=4).map(lambda b: json.dumps(b).encode()),
    urlish_text.map(str.encode),
)


@given(_bodies)
def test_any_body_parses_into_messages_or_is_a_json_rpc_error(body: bytes) -> None:
    """JSON-RPC 2.0 §5.1: a body is messages, or -32700 / -32600."""
    parsed: list[tuple[list[dict[str, object]], bool]] = []
    error = raised(InvalidMessageError, lambda: parsed.append(parse_messages(body)))
    assert error is None or error.code in (PARSE_ERROR, INVALID_REQUEST)
    for messages, _is_batch in parsed:
        assert messages
        assert all(isinstance(m, dict) for m in messages)


@given(st.lists(st.binary(max_size=64), max_size=12), st.integers(min_value=16, max_value=256))
def test_any_byte_stream_frames_into_events_or_hits_the_cap(chunks: list[bytes], cap: int) -> None:
    """WHATWG HTML §9.2.6 framing; policy: an event past `maxMessageSize` is refused."""
    parser = SseParser(cap)
    events: list[object] = []

    def feed_all() -> None:
        for chunk in chunks:
            events.extend(parser.feed(chunk))

    error = raised(EventTooLargeError, feed_all)
    assert error is None or error.limit_bytes == cap
    assert all(len(event.raw) <= cap for event in events)  # type: ignore[attr-defined]


@given(
    st.text(max_size=200),
    st.one_of(st.none(), st.sampled_from(["message", "endpoint"])),
    st.one_of(st.none(), st.text(alphabet="abcdef0123456789-", max_size=20)),
)
def test_an_encoded_event_parses_back_to_its_data_name_and_id(
    data: str, name: str | None, event_id: str | None
) -> None:
    """WHATWG HTML §9.2.6: what the gate writes, any reader reads back the same."""
    (event,) = SseParser(1 << 20).feed(encode_event(data, event=name, event_id=event_id))
    expected_data = data.replace("\r\n", "\n").replace("\r", "\n")
    assert event.data == expected_data
    assert event.event == (name or "message")
    assert event.id == event_id
