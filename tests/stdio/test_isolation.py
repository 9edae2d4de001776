"""Users sharing a stdio server: a child each, nobody sees anybody else's messages, a cap each.

Two principals (two serviceAuths bearer tokens) on one stdio server. A session
belongs to the principal that opened it (MCP 2025-11-25 security best practices §Session
Hijacking: bind session ids to the user), one child per session, at most
`sessions.maxPerUser` live children per user, the next one refused clearly, not queued.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace

import mcp_types as types
import pytest
from mcp.client.session import ClientRequestContext

from mcp_gate.config.model import ServerConfig
from tests.fixtures.gate import running_gate
from tests.fixtures.mcp_clients import ProgressLog
from tests.fixtures.process_table import gate_children
from tests.fixtures.stdio_backends import (
    ALICE,
    BOB,
    RawLegacySession,
    RawSession,
    py_stdio,
    raw_http,
    sdk_client,
    stdio_gate_config,
    stdio_server,
)

pytestmark = pytest.mark.usefixtures("no_stray_children")


def _signed_sampling(signature: str):  # type: ignore[no-untyped-def]
    """A sampling callback that signs its answers, so a misrouted request would show."""

    async def answer(
        context: ClientRequestContext, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult:
        content = params.messages[-1].content
        prompt = content.text if isinstance(content, types.TextContent) else ""
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=f"{signature} sampled {prompt}"),
            model="test-model",
        )

    return answer


async def _busy_session(client: object, who: str) -> tuple[int, str, str, tuple[float, ...]]:
    """pid, echo, sampling and progress of one user's session, all at once."""
    progress = ProgressLog()
    pid_result, echo, sampled, _ = await asyncio.gather(
        client.call_tool("pid", {}),  # type: ignore[attr-defined]
        client.call_tool("echo", {"text": f"echo for {who}"}),  # type: ignore[attr-defined]
        client.call_tool("ask_llm", {"prompt": f"question of {who}"}),  # type: ignore[attr-defined]
        client.call_tool("slow_count", {"n": 5}, progress_callback=progress),  # type: ignore[attr-defined]
    )
    return (
        int(pid_result.content[0].text),
        echo.content[0].text,
        sampled.content[0].text,
        progress.progress,
    )


async def test_two_users_at_once_get_two_children_and_only_their_own_messages() -> None:
    """Issue 4 §1: one child per session; responses, progress and sampling requests of one
    user's session never reach the other's client."""
    async with (
        running_gate(stdio_gate_config(py_stdio())) as gate,
        sdk_client(gate.url("/py/mcp"), ALICE, sampling_callback=_signed_sampling("A")) as alice,
        sdk_client(gate.url("/py/mcp"), BOB, sampling_callback=_signed_sampling("B")) as bob,
    ):
        seen_by_alice, seen_by_bob = await asyncio.gather(
            _busy_session(alice, "alice"), _busy_session(bob, "bob")
        )
        children = {p.pid for p in gate_children()}
    assert seen_by_alice[1:] == ("echo for alice", "A sampled question of alice", (1, 2, 3, 4, 5))
    assert seen_by_bob[1:] == ("echo for bob", "B sampled question of bob", (1, 2, 3, 4, 5))
    assert seen_by_alice[0] != seen_by_bob[0]
    assert {seen_by_alice[0], seen_by_bob[0]} <= children


async def test_a_session_id_presented_by_another_user_does_not_exist_for_them() -> None:
    """docs/THREAT_MODEL.md, session hijacking: another user presenting a session gets 404 on POST,
    GET and DELETE, and the owner's session carries on untouched."""
    async with (
        running_gate(stdio_gate_config(py_stdio())) as gate,
        raw_http() as http,
    ):
        url = gate.url("/py/mcp")
        alice = RawSession(http, url, ALICE)
        await alice.initialize()
        bob = RawSession(http, url, BOB, session_id=alice.session_id)
        await bob.call_tool("echo", {"text": "bob was here"})
        post_status = bob.last_status
        stream_headers = {**BOB, "Accept": "text/event-stream"}
        stream_headers["Mcp-Session-Id"] = alice.session_id or ""
        async with http.get(url, headers=stream_headers) as response:
            get_status = response.status
        delete_status = await bob.delete()
        still = await alice.call_tool("echo", {"text": "alice still here"})
        await alice.delete()
    assert (post_status, get_status, delete_status) == (404, 404, 404)
    assert still["result"]["content"][0]["text"] == "alice still here"


async def test_a_legacy_session_id_presented_by_another_user_does_not_exist_for_them() -> None:
    """docs/THREAT_MODEL.md, session hijacking, legacy front: Bob's POST to Alice's
    `/message?sessionId=…` gets 404."""
    async with (
        running_gate(stdio_gate_config(py_stdio())) as gate,
        raw_http() as http,
        RawLegacySession(http, gate.base_url, "py", ALICE) as alice,
    ):
        await alice.initialize()
        echo = {"jsonrpc": "2.0", "id": 99, "method": "tools/call"}
        async with http.post(alice.endpoint, json=echo, headers=BOB) as response:
            bob_status = response.status
        reply = await alice.request("tools/call", {"name": "echo", "arguments": {"text": "ok"}})
    assert bob_status == 404
    assert reply["result"]["content"][0]["text"] == "ok"


async def test_max_per_user_caps_live_children_and_refuses_the_next_session_clearly() -> None:
    """Issue 4 §1: at `maxPerUser` live sessions the next one is refused at once (429 with a
    JSON-RPC error saying why), starts no child, and leaves other users alone; closing a
    session frees its slot."""
    async with (
        running_gate(stdio_gate_config(py_stdio(), max_per_user=2)) as gate,
        raw_http() as http,
    ):
        url = gate.url("/py/mcp")
        first, second, third = (RawSession(http, url, ALICE) for _ in range(3))
        await first.initialize()
        await second.initialize()
        children_at_cap = len(gate_children())
        refused = await third.initialize()
        refused_status, children_after = third.last_status, len(gate_children())
        stream_headers = {**ALICE, "Accept": "text/event-stream"}
        async with http.get(gate.url("/py/sse"), headers=stream_headers) as response:
            legacy_status = response.status
        bob = RawSession(http, url, BOB)
        await bob.initialize()
        assert await first.delete() == 200
        reopened = await third.initialize()
        for session in (second, third, bob):
            await session.delete()
    assert refused_status == 429
    assert "limit is 2" in refused["error"]["message"]
    assert children_after == children_at_cap == 2
    assert bob.session_id is not None
    assert legacy_status == 429
    assert "result" in reopened


async def test_concurrent_session_opens_never_overshoot_the_cap() -> None:
    """policy: a session being opened holds its slot already, so a burst of initialize
    requests gets exactly `maxPerUser` children."""
    async with (
        running_gate(stdio_gate_config(py_stdio(), max_per_user=2)) as gate,
        raw_http() as http,
    ):
        sessions = [RawSession(http, gate.url("/py/mcp"), ALICE) for _ in range(5)]
        replies = await asyncio.gather(*(session.initialize() for session in sessions))
        opened = sum(1 for reply in replies if "result" in reply)
        refusals = [reply["error"]["message"] for reply in replies if "error" in reply]
        children = len(gate_children())
        for session in sessions:
            if session.session_id:
                await session.delete()
    assert opened == children == 2
    assert len(refusals) == 3
    assert all("limit is 2" in message for message in refusals)


async def test_max_per_user_zero_means_no_limit() -> None:
    """docs/config.md (mcp-front's meaning): `maxPerUser: 0` sets no limit."""
    async with (
        running_gate(stdio_gate_config(py_stdio(), max_per_user=0)) as gate,
        raw_http() as http,
    ):
        sessions = [RawSession(http, gate.url("/py/mcp"), ALICE) for _ in range(3)]
        replies = [await session.initialize() for session in sessions]
        for session in sessions:
            await session.delete()
    assert all("result" in reply for reply in replies)


def _open_stdio_server() -> ServerConfig:
    """The benchmark's minimal stdio server (starts in tens of ms), with no authentication."""
    return stdio_server("open", sys.executable, ["-m", "bench.stdio_server"], service_auths=())


async def test_anonymous_callers_are_not_capped_together_by_max_per_user() -> None:
    """Issue 14 §6 (policy): with no authentication every caller is one anonymous
    principal; `maxPerUser` (10) does not cap them all together: 20 sessions open."""
    config = stdio_gate_config(_open_stdio_server())
    async with running_gate(config) as gate, raw_http() as http:
        sessions = [RawSession(http, gate.url("/open/mcp"), {}) for _ in range(20)]
        replies = [await session.initialize() for session in sessions]
        opened = {session.session_id for session in sessions}
        for session in sessions:
            await session.delete()
    assert all("result" in reply for reply in replies)
    assert len(opened) == 20


async def test_anonymous_sessions_are_capped_per_client_address() -> None:
    """policy (docs/config.md `sessions.maxPerAddress`): anonymous sessions count per
    client address; past the cap the next one is a 429 that says why."""
    config = stdio_gate_config(_open_stdio_server())
    config = replace(
        config,
        proxy=replace(config.proxy, sessions=replace(config.proxy.sessions, max_per_address=3)),
    )
    async with running_gate(config) as gate, raw_http() as http:
        sessions = [RawSession(http, gate.url("/open/mcp"), {}) for _ in range(4)]
        replies = [await session.initialize() for session in sessions]
        for session in sessions[:3]:
            await session.delete()
    assert all("result" in reply for reply in replies[:3])
    assert sessions[3].last_status == 429
    assert "limit is 3" in replies[3]["error"]["message"]
