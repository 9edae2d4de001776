"""A real MCP server built on the official Python SDK (`mcp` v2), started by the test suite.

Run: `python tests/servers/py_server.py --transport {streamable-http,sse,stdio} --port N
[--host 127.0.0.1] [--stateless]`.

Endpoints are the SDK defaults: streamable HTTP at `/mcp`; legacy HTTP+SSE at `/sse` (GET)
with messages POSTed to `/messages/?session_id=<hex>`. The SDK's DNS-rebinding protection
stays at its default: bound to 127.0.0.1 it accepts only `Host: 127.0.0.1:*` / `localhost:*`
/ `[::1]:*` (421 otherwise) and only loopback `Origin`s (403 otherwise), so a proxy in front
must send the upstream's own Host. The server answers both protocol eras: `initialize`
(2025-11-25 and older, `Mcp-Session-Id` unless `--stateless`) and 2026-07-28 `server/discover`.

It owns no state beyond one process; tests own its lifecycle (tests/fixtures/mcp_servers.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Annotated

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resolve import Resolve, Sample
from mcp_types import CreateMessageResult, SamplingMessage, TextContent

GREETING_URI = "test://greeting"
GREETING_TEXT = "Hello from py_server"
ASK_LLM_MAX_TOKENS = 100
HANG_CANCELLED = "hang: cancelled by the client"

server = MCPServer("py-server", version="1.0.0", log_level="WARNING")


@server.tool()
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@server.tool()
def add(a: int, b: int) -> int:
    """Return a + b."""
    return a + b


@server.tool()
async def slow_count(n: int, ctx: Context) -> str:
    """Send n progress notifications (on the request's progress token), then return."""
    for i in range(1, n + 1):
        await ctx.report_progress(i, n, f"step {i}")
    return f"counted {n}"


def _sample_prompt(prompt: str) -> Sample:
    # Era-neutral sampling: a standalone sampling/createMessage request on handshake-era
    # connections, an InputRequiredResult round on 2026-07-28 ones (SDK resolve.py).
    message = SamplingMessage(role="user", content=TextContent(type="text", text=prompt))
    return Sample([message], max_tokens=ASK_LLM_MAX_TOKENS)


@server.tool()
def ask_llm(prompt: str, sampled: Annotated[CreateMessageResult, Resolve(_sample_prompt)]) -> str:
    """Ask the client's LLM (sampling/createMessage) and return the sampled text."""
    content = sampled.content
    return content.text if isinstance(content, TextContent) else ""


@server.tool()
def big(size_bytes: int) -> str:
    """Return a string of exactly size_bytes ASCII bytes."""
    return "x" * size_bytes


@server.tool()
def whoami(ctx: Context) -> str:
    """Return, as a JSON object, the HTTP headers this request carried (`{}` on stdio)."""
    headers = ctx.headers or {}
    return json.dumps({name.lower(): value for name, value in headers.items()}, sort_keys=True)


def _record_call(tool: str) -> str:
    """Say on stderr (the server's log), and in the file `PY_SERVER_CALL_LOG` names (a stdio
    child's stderr is the gate's), that this tool ran: what tests read to show that a call
    the gate refused never reached the backend."""
    line = f"tool called: {tool}"
    print(line, file=sys.stderr, flush=True)
    record = os.environ.get("PY_SERVER_CALL_LOG")
    if record:
        with open(record, "a", encoding="utf-8") as out:
            out.write(line + "\n")
    return f"{tool} done"


@server.tool()
def delete_repo(repo: str) -> str:
    """Pretend to delete a repository (a tool an access policy reserves); records the call."""
    return _record_call("delete_repo")


@server.tool()
def merge_pr(number: int) -> str:
    """Pretend to merge a pull request (a step-up tool); records the call."""
    return _record_call("merge_pr")


@server.tool()
def read_issue(number: int) -> str:
    """Pretend to read an issue (a tool everyone admitted may call); records the call."""
    return _record_call("read_issue")


@server.tool()
def pid() -> int:
    """Return this server's process id (which child a stdio session got)."""
    return os.getpid()


@server.tool()
def crash(exit_code: int = 3) -> str:
    """Exit the process at once, mid-call, without answering (a crashing stdio child)."""
    os._exit(exit_code)


@server.tool()
async def grow_tools(name: str, ctx: Context) -> str:
    """Add an echo tool called `name` to this process's server, then say so with
    notifications/tools/list_changed (a server whose tools change mid-session; on a shared
    HTTP server every later session sees the tool too, so tests use it over stdio)."""
    server.add_tool(echo, name=name)
    await ctx.session.send_tool_list_changed()
    return f"added {name}"


@server.tool()
async def hang(ctx: Context) -> str:
    """Report progress 1 of 1, then never return (a call to interrupt from outside); when
    the client cancels it, say so on stderr."""
    await ctx.report_progress(1, 1, "hanging")
    try:
        await anyio.sleep_forever()
    except anyio.get_cancelled_exc_class():
        print(HANG_CANCELLED, file=sys.stderr, flush=True)
        raise
    return "unreachable"


@server.resource(GREETING_URI, name="greeting", mime_type="text/plain")
def greeting() -> str:
    """A fixed greeting."""
    return GREETING_TEXT


@server.prompt()
def greet(name: str) -> str:
    """A prompt asking to greet someone."""
    return f"Please greet {name}."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transport", choices=["streamable-http", "sse", "stdio"], required=True)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--stateless", action="store_true", help="streamable HTTP without sessions")
    args = parser.parse_args()
    if args.transport == "stdio":
        server.run("stdio")
    elif args.transport == "sse":
        server.run("sse", host=args.host, port=args.port)
    else:
        server.run("streamable-http", host=args.host, port=args.port, stateless_http=args.stateless)


if __name__ == "__main__":
    main()
