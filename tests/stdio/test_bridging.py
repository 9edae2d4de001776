"""The bridge is transparent: server-to-client requests, their answers, and cancellation cross
it both ways, on both fronts, to a stdio child.

Issue 4 §2: elicitation (`elicitation/create`) and roots (`roots/list`, which
server-everything asks for as soon as the session is initialized, before the client has any
request open) reach the client and its answers reach the child; a client's
`notifications/cancelled` reaches the child, which stops the call (and says so on stderr,
which the gate logs). Sampling and progress are walked in test_fronts.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import mcp_types as types
import pytest
from mcp import Client
from mcp.client.session import ClientRequestContext
from pydantic import FileUrl
from structlog.testing import capture_logs

from tests.fixtures.gate import running_gate
from tests.fixtures.stdio_backends import (
    ALICE,
    cancel_a_hanging_call,
    everything_stdio,
    py_stdio,
    sdk_client,
    sdk_sse_client,
    stdio_gate_config,
)

pytestmark = pytest.mark.usefixtures("no_stray_children")

FRONTS = pytest.mark.parametrize("front", ["mcp", "sse"])
ROOT_URI = "file:///home/alice/project"


async def _elicit(
    context: ClientRequestContext, params: types.ElicitRequestParams
) -> types.ElicitResult:
    return types.ElicitResult(action="accept", content={"name": "Alice Example", "check": True})


async def _roots(context: ClientRequestContext) -> types.ListRootsResult:
    return types.ListRootsResult(roots=[types.Root(uri=FileUrl(ROOT_URI), name="alice's project")])


@asynccontextmanager
async def _connected(url: str, front: str) -> AsyncIterator[Client]:
    opened: AbstractAsyncContextManager[Client] = (
        sdk_client(url, ALICE, elicitation_callback=_elicit, list_roots_callback=_roots)
        if front == "mcp"
        else sdk_sse_client(url, ALICE, elicitation_callback=_elicit, list_roots_callback=_roots)
    )
    async with opened as client:
        yield client


def _text(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


@FRONTS
async def test_elicitation_and_roots_requests_reach_the_client_and_back(front: str) -> None:
    """Server-to-client requests and the client's answers cross the bridge intact."""
    async with (
        running_gate(stdio_gate_config(everything_stdio())) as gate,
        _connected(gate.url(f"/everything/{front}"), front) as client,
    ):
        elicited = _text(await client.call_tool("trigger-elicitation-request", {}))
        roots = _text(await client.call_tool("get-roots-list", {}))
    assert "- Name: Alice Example" in elicited
    assert "- Agreed to terms: true" in elicited
    assert ROOT_URI in roots


@FRONTS
async def test_a_cancelled_call_is_cancelled_in_the_child(front: str) -> None:
    """The client's notifications/cancelled reaches the child, which stops the call; the
    session carries on."""
    with capture_logs() as logs:
        async with (
            running_gate(stdio_gate_config(py_stdio())) as gate,
            _connected(gate.url(f"/py/{front}"), front) as client,
        ):
            await cancel_a_hanging_call(client, "hang", logs)
            after = _text(await client.call_tool("echo", {"text": "still going"}))
    assert after == "still going"
