"""The aggregate's MCP session: the gate answers the client and routes to member sessions.

An `AggregateSession` is the `Channel` of a bridged session (proxy/bridged_fronts.py), so
the fronts give it what every bridged session has: the gate-minted session id bound to
its principal, both transports, SSE or JSON replies, progress routed to the request that
asked for it, member requests (sampling, elicitation) on the standalone stream, the idle
reaper and `maxPerUser`. Behind it, one member session per member, opened when first
needed (`MemberOpener`, members.py) and initialized with the client's own `initialize`
parameters (member_link.py).

- `initialize` and listings are answered from the members' catalogs (discovery.py,
  merged by merging.py under the namespace of names.py). A member that does not answer
  within `discovery.timeout`, or refuses (a user token not set, a backend down), is
  left out, with a log line; the others are listed.
- A call (`tools/call`, `prompts/get`, `resources/read`, subscriptions, completion) goes
  to its member with the member's own name or URI and a link-made id; the answer comes
  back under the client's id with its resource URIs made public. Cancellation follows
  the id both ways (MCP 2025-11-25 utilities §Cancellation); progress tokens travel as the
  client gave them, since each belongs to one request of one member.
- A member's own request gets an id of the aggregate's (`m<n>`), and the client's answer
  goes back to that member under the member's id.
- `list_changed` from a member drops that member's cached catalog for this principal and
  reaches the client; so does a member session that ends (its tools drop out).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from typing import Any

import aiohttp
import structlog

from mcp_gate.aggregate.discovery import DiscoveryCache, MemberCatalog, read_catalog, view_key
from mcp_gate.aggregate.member_link import MemberError, MemberLink
from mcp_gate.aggregate.members import MemberOpener
from mcp_gate.aggregate.merging import LIST_METHODS, VERSION, initialize_result, merged_page
from mcp_gate.aggregate.names import ROUTED_METHODS, Namespace
from mcp_gate.config.model import AggregateConfig
from mcp_gate.errors import GateError
from mcp_gate.jsonrpc import (
    HANDSHAKE_PROTOCOL_VERSIONS,
    INTERNAL_ERROR,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    Message,
    error_response,
    kind_of,
)
from mcp_gate.principal import Principal
from mcp_gate.proxy.channels import ChannelClosedError, QueueChannelBase
from mcp_gate.proxy.mcp_sessions import SessionLimitError

log = structlog.get_logger()

INVALID_PARAMS = -32602  # JSON-RPC 2.0 §5.1
LIST_CHANGED = {
    "tools": "notifications/tools/list_changed",
    "prompts": "notifications/prompts/list_changed",
    "resources": "notifications/resources/list_changed",
}


def _response(request_id: object, result: object) -> Message:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


class AggregateSession(QueueChannelBase):
    def __init__(
        self,
        name: str,
        principal: Principal,
        config: AggregateConfig,
        open_member: MemberOpener,
        cache: DiscoveryCache,
    ) -> None:
        super().__init__(name, config.discovery.timeout_seconds)
        self._principal = principal
        self._config = config
        self._open_member = open_member
        self._cache = cache
        self._names = Namespace(config.members, config.delimiter)
        self._client_params: dict[str, Any] = {}
        # Whose listing this session sees: the principal's, as a client with the declared
        # capabilities (a member may offer tools only to clients that can elicit, say).
        self._view = view_key(principal, {})
        self._links: dict[str, MemberLink] = {}
        self._opening: dict[str, asyncio.Task[MemberLink]] = {}
        # Forwarded client requests by (member, link id): the client's id and method.
        self._forwarded: dict[tuple[str, str], tuple[Any, str]] = {}
        # The same, by the client's id, for its cancellations.
        self._by_client_id: dict[Any, tuple[str, str]] = {}
        # Member requests by the aggregate's id: (member, the member's id).
        self._member_requests: dict[str, tuple[str, Any]] = {}
        self._member_ids = itertools.count(1)

    # The client's side.

    async def send(self, message: Message) -> None:
        kind = kind_of(message)
        if kind == "request":
            self._spawn(self._answer(message))
        elif kind == "notification":
            await self._client_notification(message)
        else:
            await self._client_response(message)

    async def aclose(self) -> None:
        self._end()
        for task in self._opening.values():
            task.cancel()
        await self._cancel_tasks()
        links, self._links = list(self._links.values()), {}
        for link in links:
            with contextlib.suppress(Exception):
                await link.aclose()

    def kill(self) -> None:
        for link in self._links.values():
            link.channel.kill()

    async def _answer(self, message: Message) -> None:
        try:
            await self._route_request(message)
        except MemberError as exc:
            await self._deliver(error_response(message["id"], exc.code, exc.message, exc.data))

    async def _route_request(self, message: Message) -> None:
        request_id, method = message["id"], message["method"]
        params = message.get("params")
        params = params if isinstance(params, dict) else {}
        if method == "initialize":
            await self._deliver(_response(request_id, await self._initialize(params)))
        elif method == "ping":
            await self._deliver(_response(request_id, {}))
        elif method in LIST_METHODS:
            await self._deliver(await self._listing(request_id, method, params))
        elif method == "logging/setLevel":
            await self._set_level(message)
            await self._deliver(_response(request_id, {}))
        elif (target := self._names.route(method, params)) is not None:
            await self._forward(message, *target)
        elif method in ROUTED_METHODS:
            # MCP 2025-11-25 tools §Error Handling: an unknown tool is invalid params.
            await self._deliver(
                error_response(request_id, INVALID_PARAMS, f"Unknown name or URI for {method}")
            )
        else:
            await self._deliver(
                error_response(request_id, METHOD_NOT_FOUND, f"Method not found: {method}")
            )

    async def _initialize(self, params: dict[str, Any]) -> dict[str, Any]:
        self._client_params = params
        capabilities = params.get("capabilities")
        self._view = view_key(
            self._principal, capabilities if isinstance(capabilities, dict) else {}
        )
        return initialize_result(self.server, params, await self._catalogs())

    async def _listing(self, request_id: Any, method: str, params: dict[str, Any]) -> Message:
        page = merged_page(self._names, method, params.get("cursor"), await self._catalogs())
        if page is None:
            return error_response(request_id, INVALID_PARAMS, "Invalid cursor")
        return _response(request_id, page)

    async def _catalogs(self) -> dict[str, MemberCatalog]:
        """Each member's catalog for this principal, in member order; those that failed
        or were too slow are left out."""
        found = await asyncio.gather(*(self._catalog(m) for m in self._config.members))
        return {m: c for m, c in zip(self._config.members, found, strict=True) if c is not None}

    async def _catalog(self, member: str) -> MemberCatalog | None:
        cached = self._cache.get(self._view, member)
        if cached is not None:
            return cached
        try:
            async with asyncio.timeout(self._config.discovery.timeout_seconds):
                link = await self._link(member)
                catalog = await read_catalog(link)
        except TimeoutError:
            self._left_out(member, "no answer within discovery.timeout")
            return None
        except MemberError as exc:
            self._left_out(member, exc.message[:200])
            return None
        self._cache.put(self._view, member, catalog)
        return catalog

    def _left_out(self, member: str, reason: str) -> None:
        log.warning("aggregate_member_left_out", server=self.server, member=member, reason=reason)

    async def _link(self, member: str) -> MemberLink:
        """The member's session of this aggregate session, opened and initialized once."""
        link = self._links.get(member)
        if link is not None and not link.closed:
            return link
        task = self._opening.get(member)
        if task is None:
            task = asyncio.create_task(self._open_link(member))
            self._opening[member] = task
            task.add_done_callback(lambda done: self._opened(member, done))
        # Shielded: a caller's timeout must not cancel an opening another caller awaits.
        return await asyncio.shield(task)

    def _opened(self, member: str, task: asyncio.Task[MemberLink]) -> None:
        self._opening.pop(member, None)
        if not task.cancelled():
            task.exception()  # retrieved: a caller that gave up waiting may never read it

    async def _open_link(self, member: str) -> MemberLink:
        try:
            channel = await self._open_member(member, self._principal)
        except SessionLimitError as exc:
            raise MemberError(INVALID_REQUEST, str(exc)) from None
        except (GateError, OSError, aiohttp.ClientError, ChannelClosedError) as exc:
            raise MemberError(
                INTERNAL_ERROR, f"member server {member!r} did not start: {exc}"
            ) from None
        link = MemberLink(member, channel, self._member_message, self._member_gone)
        link.start()
        try:
            await link.initialize(self._initialize_params())
        except BaseException:
            await link.aclose()
            raise
        self._links[member] = link
        return link

    def _initialize_params(self) -> dict[str, Any]:
        params = dict(self._client_params)
        params.setdefault("protocolVersion", HANDSHAKE_PROTOCOL_VERSIONS[-1])
        params.setdefault("capabilities", {})
        params.setdefault("clientInfo", {"name": "mcp-gate", "version": VERSION})
        return params

    async def _forward(self, message: Message, member: str, params: dict[str, Any]) -> None:
        request_id = message["id"]
        try:
            link = await self._link(member)
        except MemberError as exc:
            await self._deliver(error_response(request_id, exc.code, exc.message, exc.data))
            return
        link_id = link.new_id()
        self._forwarded[(member, link_id)] = (request_id, message["method"])
        self._by_client_id[request_id] = (member, link_id)
        try:
            await link.send({**message, "id": link_id, "params": params})
        except MemberError as exc:
            self._forget(member, link_id)
            await self._deliver(error_response(request_id, exc.code, exc.message))

    def _forget(self, member: str, link_id: str) -> tuple[Any, str] | None:
        forwarded = self._forwarded.pop((member, link_id), None)
        if forwarded is not None:
            self._by_client_id.pop(forwarded[0], None)
        return forwarded

    async def _set_level(self, message: Message) -> None:
        for link in list(self._links.values()):
            if "logging" in link.capabilities:
                with contextlib.suppress(MemberError):
                    await link.send({**message, "id": link.new_id()})

    async def _client_notification(self, message: Message) -> None:
        method = message.get("method")
        params = message.get("params")
        params = params if isinstance(params, dict) else {}
        if method == "notifications/cancelled":
            target = self._by_client_id.get(params.get("requestId"))
            link = self._links.get(target[0]) if target is not None else None
            if target is not None and link is not None:
                # MCP utilities §Cancellation: no answer is due any more; none is awaited.
                self._forget(*target)
                with contextlib.suppress(MemberError):
                    await link.send({**message, "params": {**params, "requestId": target[1]}})
        elif method != "notifications/initialized":
            # roots/list_changed, progress of a member's request: every open member hears.
            for link in list(self._links.values()):
                with contextlib.suppress(MemberError):
                    await link.send(message)

    async def _client_response(self, message: Message) -> None:
        target = self._member_requests.pop(str(message.get("id")), None)
        link = self._links.get(target[0]) if target is not None else None
        if target is None or link is None:
            return
        with contextlib.suppress(MemberError):
            await link.send({**message, "id": target[1]})

    # The members' side.

    async def _member_message(self, link: MemberLink, message: Message) -> None:
        kind = kind_of(message)
        member = link.member
        if kind == "response":
            forwarded = self._forget(member, str(message.get("id")))
            if forwarded is None:
                return  # the answer to a request of the aggregate's own that gave up
            answer = {**message, "id": forwarded[0]}
            if "result" in answer:
                answer["result"] = self._names.published_result(member, answer["result"])
            await self._deliver(answer)
        elif kind == "request":
            own_id = f"m{next(self._member_ids)}"
            self._member_requests[own_id] = (member, message["id"])
            await self._deliver({**message, "id": own_id})
        else:
            await self._member_notification(member, message)

    async def _member_notification(self, member: str, message: Message) -> None:
        method = message.get("method")
        params = message.get("params")
        params = params if isinstance(params, dict) else {}
        if method in LIST_CHANGED.values():
            self._cache.drop(self._view, member)
        elif method == "notifications/resources/updated" and isinstance(params.get("uri"), str):
            message = {
                **message,
                "params": {**params, "uri": self._names.uri(member, params["uri"])},
            }
        elif method == "notifications/cancelled":
            request_id = params.get("requestId")
            own = next(
                (k for k, v in self._member_requests.items() if v == (member, request_id)), None
            )
            if own is None:
                return
            message = {**message, "params": {**params, "requestId": own}}
        elif method == "notifications/message":
            message = {**message, "params": {"logger": member, **params}}
        await self._deliver(message)

    def _member_gone(self, link: MemberLink) -> None:
        """A member session ended by itself: its tools drop out; the next call reopens."""
        if self._links.get(link.member) is link:
            del self._links[link.member]
        for own_id in [k for k, (m, _) in self._member_requests.items() if m == link.member]:
            del self._member_requests[own_id]
        self._cache.drop(self._view, link.member)
        log.info("aggregate_member_ended", server=self.server, member=link.member)
        for kind, notice in LIST_CHANGED.items():
            if kind in link.capabilities and not self._closed:
                self._spawn(self._deliver({"jsonrpc": "2.0", "method": notice}))
