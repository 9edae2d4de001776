"""The gate's home page (`/`) as HTML: what the gate is, and how to connect to its servers.

Signed out: what this gate is and a sign-in button. Signed in: one card per server the user
may use, with its MCP URL and copy-paste setup for Claude Code (`claude mcp add`), Cursor
and VS Code (their `mcp.json` shapes) and Claude Desktop (through `npx mcp-remote`), and a
link to `/my/tokens` for the servers that need the user's own token and one to `/my/apps`
(the applications that hold access as the user). A gate without
logins shows the servers anyone may use. Self-contained like every gate page (pages.py: no
script, no external asset, every value escaped, framing forbidden); snippets select whole
on a click (`user-select: all`), since a copy button would need a script. Renders what it
is given; reads no request, no config and no storage.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from mcp_gate.published_urls import ServerEndpoints
from mcp_gate.web.pages import render_document, render_signed_in_bar

_CSS = """
main{max-width:46rem}
a{color:var(--accent)}
a.button{display:inline-block;margin-top:1rem;padding:.55rem 1.1rem;border-radius:8px;
background:var(--accent);color:#fff;text-decoration:none;font-weight:600}
a.button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.card{border-top:1px solid var(--line);padding:1.25rem 0 .5rem}
.card h2{font-size:1.1rem;margin:0 0 .4rem}
.card dl{margin:.5rem 0}
details{margin:.35rem 0;border:1px solid var(--line);border-radius:8px;padding:.4rem .8rem}
summary{cursor:pointer;font-weight:600}
summary:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
pre{margin:.5rem 0;padding:.6rem .8rem;background:var(--bg);border:1px solid var(--line);
border-radius:6px;overflow-x:auto;font-size:.85rem;line-height:1.4}
pre code,dd code{user-select:all}
.tag{font-size:.8rem;border:1px solid var(--line);border-radius:999px;padding:.05rem .55rem;
color:var(--muted);margin-left:.4rem;vertical-align:middle}
"""

# What the sign-in button leads to, in the words of someone about to press it.
_PROVIDER_WORDS = {
    "google": "with your Google Workspace account",
    "oidc": "with your organisation's account",
    "dev": "with the demo login: any email address, nothing is checked",
}


@dataclass(frozen=True)
class ServerCard:
    """One server on the page, as this user may use it."""

    endpoints: ServerEndpoints
    # The server needs a token of the user's own, set at /my/tokens.
    needs_user_token: bool = False


def _json(document: object) -> str:
    return json.dumps(document, indent=2)


def _setups(name: str, url: str) -> list[tuple[str, str, str]]:
    """(client, where it goes, snippet) for each client the page explains."""
    return [
        ("Claude Code", "in a terminal", shlex.join(["claude", "mcp", "add", "--transport",
                                                      "http", name, url])),
        ("Cursor", "~/.cursor/mcp.json, or .cursor/mcp.json in a project",
         _json({"mcpServers": {name: {"url": url}}})),
        ("VS Code", ".vscode/mcp.json in a workspace, or MCP: Open User Configuration",
         _json({"servers": {name: {"type": "http", "url": url}}})),
        ("Claude Desktop", "claude_desktop_config.json; runs npx mcp-remote (Node.js)",
         _json({"mcpServers": {name: {"command": "npx", "args": ["mcp-remote", url]}}})),
    ]  # fmt: skip


def _card(card: ServerCard, my_tokens_path: str) -> str:
    server = card.endpoints
    heading_id = f"server-{server.name}"
    token = (
        "<p>This server needs a token of your own: save it under "
        f'<a href="{escape(my_tokens_path)}">your service tokens</a> first.</p>'
        if card.needs_user_token
        else ""
    )
    setups = "".join(
        f"<details><summary>{escape(client)}</summary>"
        f'<p class="muted">{escape(where)}</p><pre><code>{escape(snippet)}</code></pre></details>'
        for client, where, snippet in _setups(server.name, server.mcp)
    )
    tag = '<span class="tag">your token</span>' if card.needs_user_token else ""
    return f"""
<section class="card" aria-labelledby="{escape(heading_id)}">
<h2 id="{escape(heading_id)}">{escape(server.name)}{tag}</h2>
<dl>
<dt>MCP URL</dt><dd><code>{escape(server.mcp)}</code></dd>
<dt>Legacy SSE</dt><dd><code>{escape(server.sse)}</code></dd>
</dl>
{token}{setups}
</section>"""


_CLIENTS = "an MCP client (Claude Code, Cursor, VS Code, Claude Desktop, …)"


def _intro(gate_name: str, *, signs_in: bool) -> str:
    if not signs_in:
        return (
            f"<p><strong>{escape(gate_name)}</strong> is a gateway to MCP servers. Point "
            f"{_CLIENTS} at a server's URL below; the gate passes its requests on.</p>"
        )
    return (
        f"<p><strong>{escape(gate_name)}</strong> puts MCP servers behind single sign-on. "
        f"Point {_CLIENTS} at a server's URL; the first time, it opens your browser to sign "
        "you in, and from then on the gate passes its requests to the server on your behalf.</p>"
    )


def _cards(cards: Sequence[ServerCard], my_tokens_path: str, empty: str) -> str:
    if not cards:
        return f"<p>{escape(empty)}</p>"
    return "".join(_card(card, my_tokens_path) for card in cards)


def render_signed_out(*, gate_name: str, sign_in_path: str, provider: str) -> str:
    """The page before signing in: what the gate is, and the button that signs in."""
    words = _PROVIDER_WORDS.get(provider, _PROVIDER_WORDS["oidc"])
    body = f"""
<h1 id="title">{escape(gate_name)}</h1>
{_intro(gate_name, signs_in=True)}
<p>Sign in to see the servers you may use and how to set up your client.</p>
<a class="button" href="{escape(sign_in_path)}">Sign in</a>
<p class="muted">Sign in {escape(words)}.</p>"""
    return render_document("Home", body, gate_name, extra_css=_CSS)


def render_signed_in(
    *,
    gate_name: str,
    email: str,
    cards: Sequence[ServerCard],
    base_path: str,
    logout_csrf: str,
) -> str:
    """The page of a signed-in user: their servers, with setup for each client."""
    my_tokens = f"{base_path}/my/tokens"
    body = f"""{render_signed_in_bar("Your MCP servers", base_path, logout_csrf)}
<p class="muted">Signed in as <strong>{escape(email)}</strong>. Add a server to your MCP
client with its URL below; the client opens this browser to sign you in the first time.</p>
<p><a href="{escape(my_tokens)}">Your service tokens</a>: the tokens of your own that some
servers need. <a href="{escape(base_path)}/my/apps">Your connected applications</a>: the MCP
clients that may act as you, and revoking them.</p>
{_cards(cards, my_tokens, "This gate has no MCP servers configured yet.")}"""
    return render_document("Your MCP servers", body, gate_name, extra_css=_CSS)


def render_open_gate(*, gate_name: str, cards: Sequence[ServerCard]) -> str:
    """The page of a gate without logins: the servers anyone who reaches it may use."""
    body = f"""
<h1 id="title">{escape(gate_name)}</h1>
{_intro(gate_name, signs_in=False)}
<p class="muted">This gate has no sign-in: the servers below are open to whoever reaches
it; servers with their own credentials (<code>serviceAuths</code>) are not listed.</p>
{_cards(cards, "", "No server here is open without credentials.")}"""
    return render_document("Home", body, gate_name, extra_css=_CSS)
