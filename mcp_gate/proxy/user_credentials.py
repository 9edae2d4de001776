"""The calling user's token on an MCP request: found, or the request refused before the backend.

For a server that needs a user token (usertokens/lookup.py), every MCP request carries its
user's token (`UserCredential`): a remote backend gets it in its `url` and `headers` on each
request; a bridged session (a stdio child, whose `env` and `args` are filled at start, or a
bridged remote channel) keeps the fingerprint of the token it was opened with, and a request
that finds the user's token changed closes that session first, so the client gets 404 and
opens a fresh one with the new token (MCP transports §Session Management).

Without a token the backend is never contacted: each JSON-RPC request gets a JSON-RPC
error whose message says what to do and carries the full /my/tokens URL — in an HTTP 200
JSON body on the streamable front (`refuse_messages`), or on the stream of a gate-made
session on the legacy front (`RefusingChannel`, which answers every request itself).
Knows nothing of where tokens are stored: `UserCredentials` is given the lookup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from mcp_gate.config.model import ServerConfig
from mcp_gate.jsonrpc import Message, dumps, error_response, is_request
from mcp_gate.principal import Principal
from mcp_gate.proxy.channels import ChannelClosedError
from mcp_gate.proxy.message_queue import MessageQueue
from mcp_gate.usertokens.lookup import UserTokenLookup, needs_user_token
from mcp_gate.usertokens.store import token_fingerprint

# policy: a code of JSON-RPC 2.0 §5.1's implementation-defined server-error range.
USER_TOKEN_UNAVAILABLE = -32001

LookUp = Callable[[Principal, ServerConfig], Awaitable[UserTokenLookup]]


@dataclass(frozen=True)
class UserCredential:
    """The user token one MCP request carries to its backend."""

    needed: bool = False
    token: str | None = field(default=None, repr=False)
    # Why there is none, for the user; set when needed and missing.
    problem: str | None = None
    # Where the user sets it (the error's `data.url`).
    page_url: str = ""

    @property
    def fingerprint(self) -> str:
        """What a bridged session remembers of the token it started with ("" for none)."""
        return token_fingerprint(self.token) if self.token else ""


NOT_NEEDED = UserCredential()


class UserCredentials:
    """Finds the credential of each request; servers without user tokens cost nothing."""

    def __init__(self, look_up: LookUp | None, page_url: str) -> None:
        self._look_up = look_up
        self._page_url = page_url
        # Server name → whether it needs a user token (a server's config never changes).
        self._needs: dict[str, bool] = {}

    def needed(self, server: ServerConfig) -> bool:
        """Whether the server's requests carry a user token (else `for_request` is
        NOT_NEEDED, and callers need not await it)."""
        if self._look_up is None:
            return False
        needs = self._needs.get(server.name)
        if needs is None:
            needs = self._needs[server.name] = needs_user_token(server)
        return needs

    async def for_request(self, principal: Principal, server: ServerConfig) -> UserCredential:
        if self._look_up is None or not self.needed(server):
            return NOT_NEEDED
        found = await self._look_up(principal, server)
        return UserCredential(True, found.token, found.problem, self._page_url)


def refuse_messages(
    credential: UserCredential, messages: list[Message] | None, is_batch: bool
) -> web.Response:
    """The gate's answer in the backend's place: an error for each request (HTTP 200), or
    202 when the body holds no request; 400 for a GET or DELETE, which carry none."""
    problem = credential.problem or ""
    data = {"url": credential.page_url}
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


class RefusingChannel:
    """A bridged backend that is not there: every request gets the user-token error."""

    def __init__(self, credential: UserCredential) -> None:
        self._problem = credential.problem or ""
        self._data = {"url": credential.page_url}
        self._inbox: MessageQueue[Message | None] = MessageQueue()
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

    def kill(self) -> None:
        """Nothing runs behind it."""
