"""Issue 17 §1, as a property: no spelling of a call makes a Go-reading backend run a tool
the gate blocks.

Hypothesis writes JSON-RPC bodies by hand (so keys can repeat) that disguise a call of
`secret_tool`: the protocol keys respelled in any case, with Go's folds (`\u017f` for `s`,
`\u212a` for `k`) or repeated exactly, placed before or after the real ones, at the message
level and in `params`, inside batches, next to decoy keys that fold to nothing; and benign
calls of `safe` beside them. Every body goes through a gate (a `mcp-gate serve` process) to
tests/servers/hostile_backend.py, which reads JSON as Go's encoding/json does. The property:
the gate answers with no 5xx (a refusal is 400 with a JSON-RPC error), and the backend's
record of the tools it ran never holds `secret_tool`. Synchronous on purpose: Hypothesis
drives plain functions, and the gate runs in its own process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.gate import gate_process
from tests.fixtures.mcp_servers import RunningServer
from tests.fixtures.stdio_backends import ALICE, ALICE_TOKEN

SECRET = "secret_tool"
HTTP_TIMEOUT_SECONDS = 10.0
# Each body is one request through the gate and one to read the backend's record.
EXAMPLES = 250

_FOLDS = {"s": ["\u017f"], "k": ["\u212a"]}


def _spellings(char: str) -> list[str]:
    return sorted({char, char.upper(), char.lower(), *_FOLDS.get(char.lower(), [])})


def respelled(key: str) -> st.SearchStrategy[str]:
    """`key` in any case per letter, Go's folds included; the exact key is one outcome."""
    return st.tuples(*(st.sampled_from(_spellings(c)) for c in key)).map("".join)


def _encode_key(key: str, ascii_only: bool) -> str:
    return json.dumps(key, ensure_ascii=ascii_only)


@st.composite
def json_object(draw: st.DrawFn, pairs: list[tuple[str, str]]) -> str:
    """An object of (key, JSON text) pairs, with disguises and decoys inserted anywhere."""
    ascii_only = draw(st.booleans())
    members = [f"{_encode_key(k, ascii_only)}:{v}" for k, v in pairs]
    return "{" + ",".join(members) + "}"


def _insert_anywhere(
    draw: st.DrawFn, pairs: list[tuple[str, str]], extra: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    result = list(pairs)
    for pair in extra:
        result.insert(draw(st.integers(0, len(result))), pair)
    return result


DECOY_KEYS = st.text(st.sampled_from("abcdefmnopxyz_"), min_size=1, max_size=8).filter(
    lambda k: k not in ("name", "method", "params", "id", "jsonrpc", "arguments")
)


@st.composite
def disguised_call(draw: st.DrawFn, request_id: int) -> str:
    """One message: a call the gate may see as harmless, with `secret_tool` hidden in it."""
    shown_method = draw(st.sampled_from(["tools/call", "ping", "tools/list"]))
    shown_name = draw(st.sampled_from(["safe", "safe", SECRET]))
    params = [("name", json.dumps(shown_name)), ("arguments", "{}")]
    hide = draw(st.sets(st.sampled_from(["name", "params", "method"]), min_size=0, max_size=3))
    params_extra: list[tuple[str, str]] = []
    message_extra: list[tuple[str, str]] = []
    if "name" in hide:
        params_extra.append((draw(respelled("name")), json.dumps(SECRET)))
    if "params" in hide:
        shadow = draw(json_object([(draw(respelled("name")), json.dumps(SECRET))]))
        message_extra.append((draw(respelled("params")), shadow))
    if "method" in hide:
        message_extra.append((draw(respelled("method")), '"tools/call"'))
    for _ in range(draw(st.integers(0, 2))):
        decoy = (draw(DECOY_KEYS), json.dumps(SECRET))
        (params_extra if draw(st.booleans()) else message_extra).append(decoy)
    if draw(st.booleans()):  # nesting: a `params` inside the arguments is only data
        params[1] = ("arguments", draw(json_object([("params", '{"name":"secret_tool"}')])))
    params_text = draw(json_object(_insert_anywhere(draw, params, params_extra)))
    message = [
        ("jsonrpc", '"2.0"'),
        ("id", str(request_id)),
        ("method", json.dumps(shown_method)),
        ("params", params_text),
    ]
    return draw(json_object(_insert_anywhere(draw, message, message_extra)))


@st.composite
def body(draw: st.DrawFn) -> str:
    """One message or a batch (MCP 2025-03-26) of up to three, ids distinct."""
    count = draw(st.integers(1, 3))
    messages = [draw(disguised_call(request_id)) for request_id in range(1, count + 1)]
    if count == 1 and draw(st.booleans()):
        return messages[0]
    return "[" + ",".join(messages) + "]"


@pytest.fixture(scope="module")
def gate_url(
    hostile_backend: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A gate process whose server `go` blocks `secret_tool` on the hostile backend."""
    document = {
        "proxy": {},
        "mcpServers": {
            "go": {
                "transportType": "streamable-http",
                "url": f"{hostile_backend.url}/mcp",
                "options": {"toolFilter": {"mode": "block", "list": [SECRET]}},
                "serviceAuths": [{"type": "bearer", "tokens": [ALICE_TOKEN]}],
            }
        },
    }
    with gate_process(document, tmp_path_factory.mktemp("gate")) as gate:
        yield f"{gate.url}/go/mcp"


@pytest.fixture(scope="module")
def http() -> Iterator[httpx2.Client]:
    with httpx2.Client(timeout=HTTP_TIMEOUT_SECONDS) as client:
        yield client


def _ran(http: httpx2.Client, hostile: RunningServer) -> list[str]:
    return http.get(f"{hostile.url}/__calls").json()["calls"]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(text=body())
def test_no_spelling_of_a_call_runs_a_blocked_tool_on_a_go_backend(
    gate_url: str, http: httpx2.Client, hostile_backend: RunningServer, text: str
) -> None:
    """Issue 17 §1 (policy, against GHSA-wvj2-96wp-fq3f's class): the blocked tool never
    runs, and the gate's answer is a JSON-RPC refusal or the backend's, never a 5xx."""
    before = len(_ran(http, hostile_backend))
    headers = {**ALICE, "Content-Type": "application/json", "Accept": "application/json"}
    response = http.post(gate_url, content=text.encode(), headers=headers)
    ran = _ran(http, hostile_backend)[before:]
    assert SECRET not in ran
    assert response.status_code in (200, 202, 400), response.text
    if response.status_code == 400:
        assert response.json()["error"]["code"] in (-32600, -32700)
    else:
        assert set(ran) <= {"safe"}
