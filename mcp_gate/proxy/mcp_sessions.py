"""Bridged MCP sessions: a gate-minted session id, its owner, its channel, its streams.

When the client's transport differs from the backend's (or the backend is a stdio child),
the gate terminates the MCP session itself: it mints the id, binds it to the principal that
opened it (MCP 2025-11-25 security best practices §Session Hijacking), and routes each
backend message to the client stream it belongs to:

- a response goes to the stream that carries its request (a streamable POST stream);
- a progress notification goes to the stream of the request that asked for that token;
- anything else the backend starts (requests such as sampling, notifications) goes to the
  standalone stream (the streamable GET stream, or the legacy SSE stream), or, while none
  is open, to the newest request stream, or waits in a bounded backlog;
- a response whose request stream is gone (its client left) is dropped: MCP transports
  §Listening for Messages forbids responses on the standalone stream.

A legacy SSE client has only the standalone stream, so it gets everything there.
The caller's view of the server's tools (`tool_filter.py`) applies here: a `tools/call` it
may not make is answered by the session itself, and every result holding a tool list is
filtered on the way back, whatever request it answers, by the view of the session's latest
request (its token may have gained a scope since the session opened).
A session whose backend ends (a crashed child) fails its pending requests and leaves the
registry at once, freeing its owner's slot. The registry caps live sessions per principal
(`sessions.maxPerUser`, counted over every replica: session_quota.py) and closes idle
ones; each session's owner record (bindings.py) names this replica, so the others relay
its requests here.
This module knows nothing of HTTP; fronts (`bridge.py`) turn streams (`client_streams.py`)
into responses.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Literal

import structlog

from mcp_gate.audit import Audit
from mcp_gate.errors import StorageUnavailableError
from mcp_gate.jsonrpc import Message, RequestId, is_request, kind_of, progress_token_of
from mcp_gate.policy.engine import ToolAccess
from mcp_gate.principal import Principal
from mcp_gate.proxy.bindings import SessionBindings
from mcp_gate.proxy.channels import Channel, ChannelClosedError, closed_error
from mcp_gate.proxy.client_streams import ClientStream, RequestStream
from mcp_gate.proxy.session_quota import SessionQuota
from mcp_gate.proxy.tool_filter import check_call, filter_response

log = structlog.get_logger()

ReplyMode = Literal["stream", "json", "standalone"]

# policy: server-initiated messages kept for a client that has no stream open yet.
BACKLOG_MESSAGES = 256


class Latch:
    """Set once, never cleared: the part of `asyncio.Event` a session's `closed` needs.

    An `asyncio.Event` allocates a deque of waiters up front (~600 B, on every idle
    session); this makes its future only when something waits.
    """

    __slots__ = ("_set", "_waiter")

    def __init__(self) -> None:
        self._set = False
        self._waiter: asyncio.Future[None] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def wait(self) -> None:
        if self._set:
            return
        if self._waiter is None:
            self._waiter = asyncio.get_running_loop().create_future()
        # Shielded: one waiter that is cancelled must not cancel the others' future.
        await asyncio.shield(self._waiter)


class McpSession:
    """One bridged MCP session: owner, channel to the backend, and the client streams."""

    def __init__(
        self,
        server: str,
        principal: Principal,
        channel: Channel,
        clock: Callable[[], float],
        tool_access: ToolAccess | None = None,
        credential: str = "",
        session_id: str | None = None,
    ) -> None:
        # MCP transports: secure, non-deterministic
        self.id = session_id or secrets.token_urlsafe(24)
        self.server = server
        self.principal = principal
        self.channel = channel
        # Fingerprint of the user token the backend was opened with ("" for none): a
        # request carrying another token closes the session (bridged_fronts.py).
        self.credential = credential
        # Whose sessions this one counts among for `maxPerUser` (SessionRegistry).
        self.quota_key = principal.id
        channel.session_label = self.id[:8]
        self._clock = clock
        # The owner's view of the tools at its latest request (None: nothing is judged).
        self.tool_access = tool_access
        self.last_active = clock()
        # Wall-clock time it opened: compared with revocation marks (oauth/revocations.py).
        self.opened_at = time.time()
        self._request_streams: list[RequestStream] = []
        self._standalone: ClientStream | None = None
        # Requests whose responses go to the standalone stream (the legacy front).
        self._standalone_ids: set[RequestId] = set()
        # Made on first use: most sessions never need one, and an empty deque is ~600 B.
        self._backlog: deque[Message] | None = None
        self._pump: asyncio.Task[None] | None = None
        self._on_backend_gone: Callable[[McpSession], None] | None = None
        self.closed = Latch()

    def start(self, on_backend_gone: Callable[[McpSession], None] | None = None) -> None:
        """Start routing backend messages; `on_backend_gone` hears of a backend that ended
        by itself (not of a session closed by the gate)."""
        self._on_backend_gone = on_backend_gone
        self._pump = asyncio.create_task(self._run_pump(), name=f"mcp-session-{self.server}")

    def touch(self) -> None:
        self.last_active = self._clock()

    def has_standalone_stream(self) -> bool:
        return self._standalone is not None

    def is_idle(self, now: float, timeout_seconds: float) -> bool:
        # policy: a client holding a stream open is present, however quiet the traffic.
        if self._standalone is not None or self._request_streams:
            return False
        return now - self.last_active > timeout_seconds

    def open_standalone_stream(self) -> ClientStream:
        stream = ClientStream()
        self._standalone = stream
        backlog, self._backlog = self._backlog, None
        while backlog:
            stream.queue.put_nowait(backlog.popleft())
        return stream

    def close_stream(self, stream: ClientStream) -> None:
        self.touch()
        if stream is self._standalone:
            self._standalone = None
        elif stream in self._request_streams:
            self._request_streams.remove(stream)

    async def send(self, messages: list[Message], reply: ReplyMode) -> ClientStream | None:
        """Send client messages to the backend.

        `reply` says where the backend's responses to these requests go: a new request
        stream (`"stream"`, an SSE reply; `"json"`, a JSON reply that carries responses only)
        or the standalone stream (`"standalone"`, the legacy front). A request stream is
        returned when one was made.
        """
        self.touch()
        stream: RequestStream | None = None
        requests = [m for m in messages if is_request(m)]
        if requests and reply != "standalone":
            stream = RequestStream(
                pending_ids={m["id"] for m in requests},
                progress_tokens=(
                    {t for m in requests if (t := progress_token_of(m)) is not None}
                    if reply == "stream"
                    else set()
                ),
                takes_other_messages=reply == "stream",
            )
            # Registered before sending, so a fast reply cannot miss its stream.
            self._request_streams.append(stream)
        elif requests:
            self._standalone_ids.update(m["id"] for m in requests)
        if self.closed.is_set():
            # The backend ended before these could be sent: nothing will ever answer them.
            if stream is not None:
                self._fail(stream)
            return stream
        forwarded, refusals = self._apply_tool_filter(messages)
        for refusal in refusals:
            await self._route(refusal)
        try:
            for message in forwarded:
                await self.channel.send(message)
        except ChannelClosedError:
            if stream is not None:
                self._fail(stream)
        return stream

    def _apply_tool_filter(self, messages: list[Message]) -> tuple[list[Message], list[Message]]:
        """(messages to send on, answers the session gives itself to filtered calls)."""
        if self.tool_access is None:
            return messages, []
        forwarded: list[Message] = []
        refusals: list[Message] = []
        for message in messages:
            refusal = check_call(self.tool_access, message)
            if refusal is None:
                forwarded.append(message)
            elif "id" in message:  # a notification-shaped call is dropped unanswered
                refusals.append(refusal)
        return forwarded, refusals

    async def _run_pump(self) -> None:
        try:
            while True:
                message = await self.channel.receive()
                await self._route(message)
        except ChannelClosedError:
            pass
        finally:
            self._finish()
        # Reached only when the backend ended by itself (a cancelled pump stops above).
        if self._on_backend_gone is not None:
            self._on_backend_gone(self)

    async def _route(self, message: Message) -> None:
        # policy: only the client's traffic counts as activity, or a backend that chats on
        # its own (logs, list-changed) would keep an abandoned session alive forever.
        kind = kind_of(message)
        if kind == "response":
            request_id = message.get("id")
            if not isinstance(request_id, str | int | float):
                log.info("backend_response_dropped", server=self.server, reason="no usable id")
                return
            if self.tool_access is not None:
                message = filter_response(self.tool_access, message)
            for stream in self._request_streams:
                if request_id in stream.pending_ids:
                    stream.pending_ids.discard(request_id)
                    await stream.queue.put(message)
                    if not stream.pending_ids:
                        stream.end()
                        self._request_streams.remove(stream)
                    return
            if request_id not in self._standalone_ids:
                log.debug("backend_response_dropped", server=self.server, reason="client gone")
                return
            self._standalone_ids.discard(request_id)
        elif kind == "notification":
            params = message.get("params")
            token = params.get("progressToken") if isinstance(params, dict) else None
            for stream in self._request_streams:
                if isinstance(token, str | int | float) and token in stream.progress_tokens:
                    await stream.queue.put(message)
                    return
        target = self._standalone or next(
            (s for s in reversed(self._request_streams) if s.takes_other_messages), None
        )
        if target is None:
            if self._backlog is None:
                self._backlog = deque(maxlen=BACKLOG_MESSAGES)
            self._backlog.append(message)
        else:
            await target.queue.put(message)

    def _fail(self, stream: RequestStream) -> None:
        for request_id in stream.pending_ids:
            with contextlib.suppress(asyncio.QueueFull):
                stream.queue.put_nowait(closed_error(request_id))
        stream.pending_ids.clear()
        stream.end()

    def _finish(self) -> None:
        """The backend is gone: pending requests get errors, every stream ends."""
        if self.closed.is_set():
            return
        for stream in self._request_streams:
            self._fail(stream)
        self._request_streams.clear()
        if self._standalone is not None:
            for request_id in self._standalone_ids:
                with contextlib.suppress(asyncio.QueueFull):
                    self._standalone.queue.put_nowait(closed_error(request_id))
            self._standalone.end()
        self._standalone_ids.clear()
        self.closed.set()

    async def aclose(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        else:
            self._finish()
        await self.channel.aclose()


# The quota keys of anonymous callers: one per client address.
ADDRESS_QUOTA = "address:"


def address_quota(address: str | None) -> str:
    return f"{ADDRESS_QUOTA}{address or 'unknown'}"


class SessionLimitError(Exception):
    """The principal already holds `sessions.maxPerUser` live sessions, on all replicas."""


class NotTakingSessionsError(Exception):
    """This replica is stopping: a new session must open on another one (503)."""


class SessionRegistry:
    """Live bridged sessions of this process, with the per-user cap and the idle reaper.

    The cap counts every replica's sessions (`quota`, in the store); each session's owner
    record (`bindings`: principal and replica) lets any replica find and relay to it."""

    def __init__(
        self,
        *,
        idle_timeout_seconds: float,
        max_per_user: int,
        quota: SessionQuota,
        bindings: SessionBindings,
        max_per_address: int = 0,
        clock: Callable[[], float] = time.monotonic,
        audit: Audit | None = None,
    ) -> None:
        self._audit = audit or Audit()
        self._sessions: dict[str, McpSession] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._quota = quota
        self._bindings = bindings
        self.idle_timeout_seconds = idle_timeout_seconds
        self.max_per_user = max_per_user
        self.max_per_address = max_per_address
        self.clock = clock
        # Set when the replica stops: sessions open elsewhere from then on.
        self.draining = False

    def __len__(self) -> int:
        return len(self._sessions)

    def sessions(self) -> list[McpSession]:
        """The live sessions (for operations and tests)."""
        return [s for s in self._sessions.values() if not s.closed.is_set()]

    async def open_session(
        self,
        server: str,
        principal: Principal,
        open_channel: Callable[[], Awaitable[Channel]],
        tool_access: ToolAccess | None = None,
        credential: str = "",
        quota_key: str | None = None,
        limit: int | None = None,
    ) -> McpSession:
        """A new session on a fresh backend channel; SessionLimitError at the cap.

        `quota_key` names whose sessions it counts among: the principal by default (for
        `maxPerUser`); the fronts give anonymous callers (a server without authentication)
        `address_quota(address)`, counted against `maxPerAddress`. The place in the quota
        is taken before the backend starts, so concurrent opens cannot overshoot it.
        `limit` replaces that key's cap (an aggregate's members: discovery.maxConnsPerUser)."""
        if self.draining:
            raise NotTakingSessionsError("this replica is stopping; open the session again")
        quota = quota_key or principal.id
        if limit is None:
            address = quota.startswith(ADDRESS_QUOTA)
            limit = self.max_per_address if address else self.max_per_user
        session_id = secrets.token_urlsafe(24)  # MCP transports: secure, non-deterministic
        # `maxPerUser: 0` (or `maxPerAddress: 0`) means no limit (docs/config.md).
        if not await self._quota.reserve(quota, session_id, limit):
            raise SessionLimitError(
                f"you already have {limit} open sessions (the limit is {limit}); "
                "close one or wait for an idle one to expire"
            )
        try:
            channel = await open_channel()
            await self._bindings.bind(server, session_id, principal)
        except BaseException:
            await self._quota.release(session_id)
            raise
        session = McpSession(
            server, principal, channel, self.clock, tool_access, credential, session_id
        )
        session.quota_key = quota
        self.add(session)
        return session

    def add(self, session: McpSession) -> None:
        self._sessions[session.id] = session
        session.start(on_backend_gone=self._backend_gone)
        log.info("mcp_session_opened", server=session.server, mcp_session=session.id[:8])
        self._audit.emit(
            "session_opened",
            principal=session.principal.id,
            client_id=session.principal.client_id or None,
            server=session.server,
            mcp_session=session.id[:8],
        )

    def _backend_gone(self, session: McpSession) -> None:
        if self._sessions.get(session.id) is session:
            task = asyncio.create_task(self.close(session.id, "backend ended"))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    def find(self, session_id: str, principal: Principal, server: str) -> McpSession | None:
        """The session, if it exists, is alive, and belongs to this principal and server."""
        session = self._sessions.get(session_id)
        if session is None or session.closed.is_set():
            return None
        # A session presented by anyone but its owner does not exist for them (404).
        if session.principal.id != principal.id or session.server != server:
            return None
        return session

    async def close(self, session_id: str, reason: str) -> None:
        session = self._sessions.pop(session_id, None)
        if session is not None:
            await session.aclose()
            # policy: a store that is down must not keep the child alive; the records lapse
            # on their own (the quota's lease, the binding's TTL).
            with contextlib.suppress(StorageUnavailableError):
                await self._quota.release(session_id)
                await self._bindings.forget(session.server, session_id)
            log.info(
                "mcp_session_closed",
                server=session.server,
                mcp_session=session_id[:8],
                reason=reason,
            )
            self._audit.emit(
                "session_closed",
                principal=session.principal.id,
                client_id=session.principal.client_id or None,
                server=session.server,
                mcp_session=session_id[:8],
                reason=reason,
            )

    async def reap(self) -> int:
        """Close sessions idle longer than the timeout, or whose backend has gone."""
        now = self.clock()
        stale = {
            sid: "ended" if s.closed.is_set() else "idle"
            for sid, s in self._sessions.items()
            if s.closed.is_set() or s.is_idle(now, self.idle_timeout_seconds)
        }
        for sid, reason in stale.items():
            await self.close(sid, reason)
        return len(stale)

    def close_principal(self, principal_id: str, reason: str) -> int:
        """Close every session of this principal (its access was revoked), in the background;
        returns how many."""
        ids = [sid for sid, s in self._sessions.items() if s.principal.id == principal_id]
        for sid in ids:
            task = asyncio.create_task(self.close(sid, reason))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        return len(ids)

    async def close_revoked(self, is_revoked: Callable[[McpSession], Awaitable[bool]]) -> int:
        """Close the sessions `is_revoked` says were revoked (the reaper's check of
        `mcp-gate revoke` marks), asking once per principal."""
        firsts: dict[str, McpSession] = {}
        for session in self._sessions.values():
            if session.principal.kind in ("user", "client", "workload"):
                kept = firsts.setdefault(session.principal.id, session)
                if session.opened_at < kept.opened_at:
                    firsts[session.principal.id] = session  # the oldest: the first revoked
        closed = 0
        for principal_id, session in firsts.items():
            if await is_revoked(session):
                closed += self.close_principal(principal_id, "revoked")
        return closed

    def kill_children(self) -> None:
        """Kill every session's backend process now, unwaited (the gate exits at once)."""
        for session in self._sessions.values():
            session.channel.kill()

    async def close_all(self) -> None:
        await asyncio.gather(
            *(self.close(sid, "shutdown") for sid in list(self._sessions)),
            *list(self._closing),
            return_exceptions=True,
        )
