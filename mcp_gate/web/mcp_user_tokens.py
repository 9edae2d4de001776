"""The calling user's token on an MCP request: found, or the request refused before the backend.

For a server that needs a user token (usertokens/lookup.py), every MCP request looks up
its user's token: a remote backend gets it in its `url` and `headers` on each request; a
bridged session (a stdio child, whose `env` and `args` are filled at start, or a bridged
remote channel) keeps the fingerprint of the token it was opened with, and a request that
finds the user's token changed closes that session first, so the client gets 404 and
opens a fresh one with the new token (MCP transports §Session Management).

Without a token the backend is never contacted (issue 5 §4): each JSON-RPC request gets a
JSON-RPC error whose message says what to do and carries the full /my/tokens URL — in an
HTTP 200 JSON body on the streamable front, or on the stream of a gate-made session on the
legacy front (`RefusingChannel`, which answers every request itself).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

from mcp_gate.appkeys import AUTH
from mcp_gate.jsonrpc import Message, dumps, error_response, is_request
from mcp_gate.principal import Principal
from mcp_gate.proxy.backends import Backend
from mcp_gate.proxy.channels import ChannelClosedError
from mcp_gate.proxy.mcp_sessions import SessionRegistry
from mcp_gate.usertokens.lookup import look_up_user_token, needs_user_token
from mcp_gate.usertokens.store import token_fingerprint

# policy: a code of JSON-RPC 2.0 §5.1's implementation-defined server-error range.
USER_TOKEN_UNAVAILABLE = -32001
MY_TOKENS_PATH = "/my/tokens"


@dataclass(frozen=True)
class UserCredential:
    """The user token one MCP request carries to its backend."""

    needed: bool = False
    token: str | None = field(default=None, repr=False)
    # Why there is none, for the user; set when needed and missing.
    problem: str | None = None

    @property
    def fingerprint(self) -> str:
        """What a bridged session remembers of the token it started with ("" for none)."""
        return token_fingerprint(self.token) if self.token else ""


NOT_NEEDED = UserCredential()


async def user_credential(
    request: web.Request, backend: Backend, principal: Principal
) -> UserCredential:
    if not needs_user_token(backend.config):
        return NOT_NEEDED
    auth = request.app[AUTH]  # the config allows user tokens only with logins configured
    page_url = auth.url(MY_TOKENS_PATH)
    found = await look_up_user_token(
        auth.user_tokens, auth.connections, principal, backend.config, page_url
    )
    return UserCredential(True, found.token, found.problem)


def _error_data(request: web.Request) -> dict[str, str]:
    return {"url": request.app[AUTH].url(MY_TOKENS_PATH)}


def refuse_messages(
    request: web.Request, messages: list[Message] | None, is_batch: bool, problem: str
) -> web.Response:
    """The gate's answer in the backend's place: an error for each request (HTTP 200), or
    202 when the body holds no request; 400 for a GET or DELETE, which carry none."""
    data = _error_data(request)
    if messages is None:
        error = error_response(None, USER_TOKEN_UNAVAILABLE, problem, data)
        return web.Response(status=400, body=dumps(error), content_type="application/json")
    answers = [
        error_response(m["id"], USER_TOKEN_UNAVAILABLE, problem, data)
        for m in messages
        if is_request(m)
    ]
    if not answers:
        return web.Response(status=202)
    body = dumps(answers if is_batch else answers[0])
    return web.Response(body=body, content_type="application/json")


async def close_if_stale(
    registry: SessionRegistry,
    session_id: str | None,
    principal: Principal,
    server: str,
    credential: UserCredential,
) -> None:
    """Close the named bridged session if it was opened with another token than now."""
    session = registry.find(session_id, principal, server) if session_id else None
    if session is not None and session.credential != credential.fingerprint:
        await registry.close(session.id, "user token changed")


class RefusingChannel:
    """A bridged backend that is not there: every request gets the user-token error."""

    def __init__(self, problem: str, data: dict[str, str]) -> None:
        self._problem = problem
        self._data = data
        self._inbox: asyncio.Queue[Message | None] = asyncio.Queue()
        self.session_label = "-"

    async def send(self, message: Message) -> None:
        if is_request(message):
            error = error_response(message["id"], USER_TOKEN_UNAVAILABLE, self._problem, self._data)
            self._inbox.put_nowait(error)

    async def receive(self) -> Message:
        message = await self._inbox.get()
        if message is None:
            raise ChannelClosedError
        return message

    async def aclose(self) -> None:
        self._inbox.put_nowait(None)


def refusing_channel(request: web.Request, problem: str) -> RefusingChannel:
    return RefusingChannel(problem, _error_data(request))
