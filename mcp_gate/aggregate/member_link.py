"""One member session of one aggregate session: its handshake, its requests, its reader.

The aggregate is the member's MCP client (MCP 2025-11-25 lifecycle): `initialize` with
the capabilities and client info the aggregate's own client declared (so a member knows
it may ask for sampling or elicitation), then `notifications/initialized`. Requests the
aggregate makes for itself (listings) wait here for their answers, bounded by the
caller's timeout; everything else the member sends (answers to forwarded client
requests, its own requests, notifications) goes to the aggregate session's handler in
the order it came. Ids the link gives its requests are its own (`g<n>`), so the client's
ids never reach a member and two members' ids never meet.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from mcp_gate.jsonrpc import Message, kind_of
from mcp_gate.proxy.channels import Channel, ChannelClosedError

log = structlog.get_logger()


class MemberError(Exception):
    """A member answered a request of the aggregate with a JSON-RPC error, or is gone."""

    def __init__(self, code: int, message: str, data: object = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


OnMessage = Callable[["MemberLink", Message], Awaitable[None]]
OnClosed = Callable[["MemberLink"], None]


class MemberLink:
    def __init__(
        self, member: str, channel: Channel, on_message: OnMessage, on_closed: OnClosed
    ) -> None:
        self.member = member
        self.channel = channel
        self.capabilities: dict[str, Any] = {}
        self.initialize_result: dict[str, Any] = {}
        self._on_message = on_message
        self._on_closed = on_closed
        self._ids = itertools.count(1)
        self._waiting: dict[str, asyncio.Future[Message]] = {}
        self._reader: asyncio.Task[None] | None = None
        self.closed = False

    def new_id(self) -> str:
        return f"g{next(self._ids)}"

    def start(self) -> None:
        self._reader = asyncio.create_task(self._read(), name=f"aggregate-member-{self.member}")

    async def initialize(self, client_params: dict[str, Any]) -> None:
        """The MCP handshake as the aggregate's client began it; MemberError on refusal."""
        result = await self.request("initialize", client_params)
        self.initialize_result = result
        capabilities = result.get("capabilities")
        self.capabilities = capabilities if isinstance(capabilities, dict) else {}
        await self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """The result of one request of the aggregate's own; MemberError otherwise."""
        request_id = self.new_id()
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        message: Message = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        try:
            await self.send(message)
            answer = await future
        finally:
            self._waiting.pop(request_id, None)
        error = answer.get("error")
        if isinstance(error, dict):
            raise MemberError(
                int(error.get("code", 0)), str(error.get("message", "")), error.get("data")
            )
        result = answer.get("result")
        return result if isinstance(result, dict) else {}

    async def send(self, message: Message) -> None:
        try:
            await self.channel.send(message)
        except ChannelClosedError:
            raise MemberError(-32000, f"member server {self.member!r} is gone") from None

    async def _read(self) -> None:
        try:
            while True:
                message = await self.channel.receive()
                waiter = self._waiting.get(message.get("id"))  # type: ignore[arg-type]
                if kind_of(message) == "response" and waiter is not None:
                    if not waiter.done():
                        waiter.set_result(message)
                    continue
                await self._on_message(self, message)
        except ChannelClosedError:
            pass
        finally:
            self.closed = True
            for waiter in self._waiting.values():
                if not waiter.done():
                    waiter.set_exception(
                        MemberError(-32000, f"member server {self.member!r} is gone")
                    )
        self._on_closed(self)

    async def aclose(self) -> None:
        self.closed = True
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self.channel.aclose()
