"""The seam between an aggregate and its members: open member server M as principal P.

An aggregate session reaches a member only through a `MemberOpener`: one call, the
member's name and the principal in, a message-level `Channel` out. The gate's opener,
`FrontMembers`, opens the session through the member's own bridged fronts
(proxy/bridged_fronts.py `BridgedSessions`), as a client of `/<member>/mcp` would get one:
the member's backend kind (stdio child, remote streamable HTTP or SSE), its user token
(a missing one gives the channel that answers every request with the /my/tokens error),
its `identity`, its tool filter and whatever else that session layer enforces hold per
member, and the session lives in the gate's registry (idle reaping, shutdown, offboarding).
Anything that must see member traffic (an access policy, a relay to another replica)
wraps or replaces the opener; the aggregate's own code does not change.

Member sessions count apart from `sessions.maxPerUser` (the aggregate session counts
there): per principal and aggregate, at most `discovery.maxConnsPerUser` (0: no limit).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from mcp_gate.aggregate.member_link import MemberError
from mcp_gate.jsonrpc import INVALID_REQUEST, Message
from mcp_gate.policy.engine import Caller
from mcp_gate.principal import Principal
from mcp_gate.proxy.bridged_fronts import BridgedSessions
from mcp_gate.proxy.channels import Channel, ChannelClosedError
from mcp_gate.proxy.mcp_sessions import McpSession, SessionRegistry
from mcp_gate.proxy.user_credentials import UserCredentials

# The quota keys of member sessions: `member:<aggregate>:<principal id>`.
MEMBER_QUOTA = "member:"


class MemberOpener(Protocol):
    async def __call__(self, member: str, principal: Principal) -> Channel:
        """A fresh MCP session of `member` for `principal` (not yet initialized);
        raises SessionLimitError at the cap, or what the backend's start raises."""
        ...


class MemberChannel:
    """A bridged member session seen as one channel: every answer and every message the
    member starts arrive on the session's standalone stream, in order."""

    def __init__(self, session: McpSession, registry: SessionRegistry) -> None:
        self._session = session
        self._registry = registry
        self._stream = session.open_standalone_stream()
        self.session_label = session.id[:8]

    async def send(self, message: Message) -> None:
        if self._session.closed.is_set():
            raise ChannelClosedError
        await self._session.send([message], "standalone")

    async def receive(self) -> Message:
        message = await self._stream.queue.get()
        if message is None:
            raise ChannelClosedError
        return message

    async def aclose(self) -> None:
        self._session.close_stream(self._stream)
        await self._registry.close(self._session.id, "aggregate session closed")

    def kill(self) -> None:
        self._session.channel.kill()


class FrontMembers:
    """The gate's `MemberOpener`: member sessions through the members' bridged fronts."""

    def __init__(
        self,
        aggregate: str,
        members: Mapping[str, BridgedSessions],
        credentials: UserCredentials,
        max_conns_per_user: int,
    ) -> None:
        self._aggregate = aggregate
        self._members = members
        self._credentials = credentials
        self._max_conns_per_user = max_conns_per_user

    async def __call__(self, member: str, principal: Principal) -> Channel:
        sessions = self._members[member]
        # The member's access policy holds for its caller as on the member's own routes;
        # the aggregate's hop has no client address or step-up scopes of the member, so
        # rules that need them refuse (docs/config.md, access).
        engine = sessions.backend.policy
        caller = Caller(principal)
        refusal = engine.refusal(caller)
        if refusal is not None:
            raise MemberError(INVALID_REQUEST, f"member server {member!r}: {refusal}")
        credential = await self._credentials.for_request(principal, sessions.backend.config)
        session = await sessions.open_for(
            principal,
            credential,
            engine.for_caller(caller) if engine.judges_tools else None,
            f"{MEMBER_QUOTA}{self._aggregate}:{principal.id}",
            self._max_conns_per_user,
        )
        return MemberChannel(session, sessions.registry)
