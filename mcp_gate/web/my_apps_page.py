"""The /my/apps page, and its confirmation step, as HTML.

One card per application (OAuth client) the signed-in user has authorized: its name and
client id, the host it receives codes at, the servers and scopes it holds, when it was
last used, and a Revoke button. Revoking takes two steps: the button leads to a page
naming what will end, whose own button revokes. Self-contained like every gate page
(pages.py: no script, no external asset, every value escaped, framing forbidden); every
form carries a CSRF token. Renders what it is given; reads no request and no storage.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from mcp_gate.web.pages import render_document, render_signed_in_bar

_CSS = """
main{max-width:46rem}
.card{border-top:1px solid var(--line);padding:1.25rem 0 .5rem}
.card h2{font-size:1.1rem;margin:0 0 .4rem}
.notice{border:1px solid var(--accent);border-radius:8px;padding:.6rem 1rem}
a{color:var(--accent)}
"""


@dataclass(frozen=True)
class AppCard:
    """One authorized application, as the page shows it."""

    client_id: str
    name: str
    redirect_hosts: tuple[str, ...]
    servers: tuple[str, ...]
    scopes: tuple[str, ...]
    authorized_at: float
    last_used_at: float | None
    csrf_token: str


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(timestamp))


def _details(app: AppCard) -> str:
    hosts = ", ".join(app.redirect_hosts) or "—"
    return f"""<dl>
<dt>Client ID</dt><dd><code>{escape(app.client_id)}</code></dd>
<dt>Sends codes to</dt><dd>{escape(hosts)}</dd>
<dt>Servers</dt><dd>{escape(", ".join(app.servers))}</dd>
<dt>Access</dt><dd>{escape(" ".join(app.scopes))}</dd>
<dt>Authorized</dt><dd>{escape(_when(app.authorized_at))}</dd>
<dt>Last used</dt><dd>{escape(_when(app.last_used_at))}</dd>
</dl>"""


def _form(app: AppCard, action: str, *, confirm: bool, label: str, primary: bool) -> str:
    confirm_field = '<input type="hidden" name="confirm" value="yes">' if confirm else ""
    return f"""<form method="post" action="{escape(action)}">
<input type="hidden" name="csrf" value="{escape(app.csrf_token)}">
<input type="hidden" name="client_id" value="{escape(app.client_id)}">
{confirm_field}
<button type="submit"{' class="primary"' if primary else ""}
aria-label="{escape(label)} {escape(app.name)}">{escape(label)}</button>
</form>"""


def render_my_apps(
    *,
    gate_name: str,
    email: str,
    apps: Sequence[AppCard],
    base_path: str,
    logout_csrf: str,
    notice: str = "",
) -> str:
    action = f"{base_path}/my/apps/revoke"
    notice_html = f'<p class="notice" role="status">{escape(notice)}</p>' if notice else ""
    cards = "".join(
        f"""
<section class="card" aria-labelledby="app-{index}">
<h2 id="app-{index}">{escape(app.name)}</h2>
{_details(app)}
{_form(app, action, confirm=False, label="Revoke", primary=False)}
</section>"""
        for index, app in enumerate(apps)
    )
    if not apps:
        cards = "<p>No application holds access on your behalf.</p>"
    body = f"""{render_signed_in_bar("Your connected applications", base_path, logout_csrf)}
<p class="muted">Signed in as <strong>{escape(email)}</strong>. These applications may call
MCP servers here as you. Revoking one ends its access at once; it must ask you again.</p>
{notice_html}
{cards}
<p><a href="{escape(base_path)}/">Back to your servers</a></p>"""
    return render_document("Your connected applications", body, gate_name, extra_css=_CSS)


def render_revoke_confirmation(*, gate_name: str, app: AppCard, base_path: str) -> str:
    body = f"""<h1 id="title">Revoke {escape(app.name)}?</h1>
<p>{escape(app.name)} will lose its access to {escape(", ".join(app.servers))} now: its
tokens stop working and its open sessions end. It can ask you to approve it again.</p>
{_details(app)}
{_form(app, f"{base_path}/my/apps/revoke", confirm=True, label="Revoke access", primary=True)}
<p><a href="{escape(base_path)}/my/apps">Keep it</a></p>"""
    return render_document(f"Revoke {app.name}?", body, gate_name, extra_css=_CSS)
