"""The audit log's `tool_called` lines: one per `tools/call` a client sends, whoever
answers it (the backend, or the gate refusing it).

`decision` is the policy's (`allowed`, `forbidden`, `needs_scope`; policy/engine.py).
`outcome` is what became of the call as far as the gate can see: `refused` (the gate
answered), `answered` / `failed` (the HTTP answer that carried the result was below /
at or above 400), `sent` (a legacy POST: the result rides the SSE stream, after this
line). `duration_ms` runs from the gate's reading of the request to its answer.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from mcp_gate.appkeys import AUDIT, SERVER_NAME
from mcp_gate.jsonrpc import Message
from mcp_gate.proxy.call import McpCall
from mcp_gate.proxy.tool_filter import tool_name_of


def _calls(call: McpCall) -> list[Message]:
    return [m for m in call.messages or () if m.get("method") == "tools/call"]


def audit_refused(request: web.Request, call: McpCall, decision: str) -> None:
    """Lines for the calls of a request the gate refused before any front saw it."""
    for message in _calls(call):
        _emit(request, call, message, decision, "refused", 0.0)


def audited(
    call: McpCall,
    answer: Callable[[McpCall], Awaitable[web.StreamResponse]],
    *,
    legacy: bool = False,
) -> Awaitable[web.StreamResponse]:
    """`answer(call)`, with a `tool_called` line for each of its calls afterwards. Not a
    coroutine: a request with no call to audit awaits `answer(call)` itself, without a
    frame of this function around it."""
    calls = _calls(call) if call.request.app[AUDIT].enabled else []
    if not calls:
        return answer(call)
    return _answer_and_audit(call, answer, calls, legacy)


async def _answer_and_audit(
    call: McpCall,
    answer: Callable[[McpCall], Awaitable[web.StreamResponse]],
    calls: list[Message],
    legacy: bool,
) -> web.StreamResponse:
    request = call.request
    started = time.monotonic()
    response = await answer(call)
    elapsed_ms = (time.monotonic() - started) * 1000
    for message in calls:
        name = tool_name_of(message)
        decision = "allowed"
        if call.tools is not None and isinstance(name, str):
            decision = call.tools.decide(name).verdict
        if decision != "allowed":
            outcome = "refused"
        elif legacy and response.status < 300:
            outcome = "sent"
        else:
            outcome = "answered" if response.status < 400 else "failed"
        _emit(request, call, message, decision, outcome, elapsed_ms)
    return response


def _emit(
    request: web.Request,
    call: McpCall,
    message: Message,
    decision: str,
    outcome: str,
    elapsed_ms: float,
) -> None:
    audit = request.app[AUDIT]
    params = message.get("params")
    arguments = params.get("arguments") if isinstance(params, dict) else None
    name = tool_name_of(message)
    audit.emit(
        "tool_called",
        principal=call.principal.id,
        email=call.principal.email,
        client_id=call.principal.client_id or None,
        server=request.get(SERVER_NAME),
        tool=name if isinstance(name, str) else None,
        decision=decision,
        outcome=outcome,
        duration_ms=round(elapsed_ms, 1),
        address=call.client_address,
        arguments=arguments if audit.include_arguments else None,
    )
