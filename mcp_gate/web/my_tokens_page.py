"""The /my/tokens page, and the short notices around it, as HTML.

One card per server that asks for a user token: its name, instructions and help link,
whether this user has set it (shown only as a masked hint, never the value), and forms
to set, replace and delete it, or to connect and disconnect a service account. Every form
carries a CSRF token. Self-contained like every gate page (pages.py: no script, no
external asset, every value escaped, framing forbidden); accessible: labelled fields,
one heading per card, errors announced (`role="alert"`) and tied to their field.
Renders what it is given; reads no request and no storage.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Literal

from mcp_gate.web.pages import render_document, render_signed_in_bar

_CSS = """
main{max-width:46rem}
:root{--ok:#1a7f37;--err:#cf222e}
@media (prefers-color-scheme:dark){:root{--ok:#3fb950;--err:#f85149}}
.card{border-top:1px solid var(--line);padding:1.25rem 0 .5rem}
.card h2{font-size:1.1rem;margin:0 0 .4rem}
.card form{margin-top:.9rem}
.state{font-weight:600}.state.on{color:var(--ok)}
.notice{border:1px solid var(--ok);border-radius:8px;padding:.6rem 1rem}
.error{color:var(--err);font-weight:600}
label{font-weight:600;width:100%}
input[type=password]{flex:1;min-width:14rem;background:var(--bg);color:var(--fg)}
a{color:var(--accent)}
"""

CardKind = Literal["manual", "oauth"]


@dataclass(frozen=True)
class TokenCard:
    """What the page shows for one server, for the signed-in user."""

    server: str
    display_name: str
    kind: CardKind
    instructions: str
    help_url: str
    is_set: bool
    # Masked hint of a pasted token (`••••x4Qa`); "" for a service connection.
    hint: str
    saved_at: float | None
    csrf_token: str
    error: str = ""


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(timestamp))


def _hidden(csrf_token: str, action: str) -> str:
    return (
        f'<input type="hidden" name="csrf" value="{escape(csrf_token)}">'
        f'<input type="hidden" name="action" value="{escape(action)}">'
    )


def _status(card: TokenCard) -> str:
    if card.kind == "oauth":
        if not card.is_set:
            return '<p><span class="state">Not connected</span></p>'
        return (
            '<p><span class="state on">Connected</span> '
            f'<span class="muted">since {escape(_when(card.saved_at))}; '
            "access renews by itself</span></p>"
        )
    if not card.is_set:
        return '<p><span class="state">Not set</span></p>'
    return (
        f'<p><span class="state on">Set</span> <code>{escape(card.hint)}</code> '
        f'<span class="muted">saved {escape(_when(card.saved_at))}</span></p>'
    )


def _manual_forms(card: TokenCard, action: str) -> str:
    field_id = f"token-{card.server}"
    described = [f"{field_id}-help"] + ([f"{field_id}-error"] if card.error else [])
    error = (
        f'<p class="error" id="{escape(field_id)}-error" role="alert">{escape(card.error)}</p>'
        if card.error
        else ""
    )
    verb = "Replace" if card.is_set else "Save"
    label = f"{'New token' if card.is_set else 'Token'} for {card.display_name}"
    forms = f"""{error}
<form method="post" action="{escape(action)}">
{_hidden(card.csrf_token, "save")}
<label for="{escape(field_id)}">{escape(label)}</label>
<input id="{escape(field_id)}" name="token" type="password" required autocomplete="off"
spellcheck="false" aria-describedby="{escape(" ".join(described))}"
{'aria-invalid="true"' if card.error else ""}>
<button class="primary" type="submit">{verb} token</button>
</form>"""
    if card.is_set:
        forms += f"""
<form method="post" action="{escape(action)}">
{_hidden(card.csrf_token, "delete")}
<button type="submit">Delete token</button>
</form>"""
    return forms


def _oauth_forms(card: TokenCard, action: str) -> str:
    error = f'<p class="error" role="alert">{escape(card.error)}</p>' if card.error else ""
    verb = "Reconnect" if card.is_set else "Connect"
    forms = f"""{error}
<form method="post" action="{escape(action)}/connect">
<input type="hidden" name="csrf" value="{escape(card.csrf_token)}">
<button class="primary" type="submit">{verb} {escape(card.display_name)}</button>
</form>"""
    if card.is_set:
        forms += f"""
<form method="post" action="{escape(action)}">
{_hidden(card.csrf_token, "delete")}
<button type="submit">Disconnect</button>
</form>"""
    return forms


def _card(card: TokenCard, action: str) -> str:
    heading_id = f"server-{card.server}"
    help_id = f"token-{card.server}-help"
    instructions = escape(card.instructions) if card.instructions else ""
    link = (
        f' <a href="{escape(card.help_url)}" rel="noopener noreferrer" target="_blank">'
        f"Where to get it</a>"
        if card.help_url
        else ""
    )
    forms = _oauth_forms(card, action) if card.kind == "oauth" else _manual_forms(card, action)
    return f"""
<section class="card" aria-labelledby="{escape(heading_id)}">
<h2 id="{escape(heading_id)}">{escape(card.display_name)}</h2>
<p class="muted" id="{escape(help_id)}">{instructions}{link}</p>
{_status(card)}
{forms}
</section>"""


def render_my_tokens(
    *,
    gate_name: str,
    email: str,
    cards: Sequence[TokenCard],
    base_path: str,
    logout_csrf: str,
    notice: str = "",
) -> str:
    """The page; `base_path` is baseURL's path, every form posts under it."""
    notice_html = f'<p class="notice" role="status">{escape(notice)}</p>' if notice else ""
    body = "".join(_card(card, f"{base_path}/my/tokens/{card.server}") for card in cards)
    if not cards:
        body = "<p>No server here asks for a token of your own.</p>"
    page = f"""{render_signed_in_bar("Your service tokens", base_path, logout_csrf)}
<p class="muted">Signed in as <strong>{escape(email)}</strong>. Tokens are stored encrypted
and sent only to their own server, on your requests. Stored tokens are never shown again.</p>
{notice_html}
{body}"""
    return render_document("Your service tokens", page, gate_name, extra_css=_CSS)


def render_notice_page(
    *, gate_name: str, title: str, text: str, link_href: str, link_text: str
) -> str:
    body = (
        f'<h1 id="title">{escape(title)}</h1><p>{escape(text)}</p>'
        f'<p><a href="{escape(link_href)}">{escape(link_text)}</a></p>'
    )
    return render_document(title, body, gate_name, extra_css=_CSS)
