"""The few HTML pages people see at the gate: consent, messages, the dev login form.

The page frame (`render_document`) and a signed-in page's heading with its Sign out button
(`render_signed_in_bar`) are shared with `my_tokens_page.py` and `home_page.py`.

Self-contained (inline CSS, no scripts, no external assets), every value escaped, and
served with headers that forbid framing (MCP security best practices §Confused Deputy:
`frame-ancestors 'none'`), caching and referrers.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from aiohttp import web

_CSS = """
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#57606a;--bg:#f6f8fa;--card:#fff;
--line:#d0d7de;--accent:#0b5cad;--warn:#9a6700}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9da7b3;--bg:#0d1117;
--card:#161b22;--line:#30363d;--accent:#4c9be8;--warn:#d29922}}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;color:var(--fg);
background:var(--bg)}main{max-width:34rem;margin:3rem auto;padding:2rem;background:var(--card);
border:1px solid var(--line);border-radius:12px}h1{font-size:1.35rem;margin:0 0 1rem}
p{margin:.6rem 0}.muted{color:var(--muted);font-size:.9rem}.warn{color:var(--warn)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:1rem 0}
dt{color:var(--muted)}dd{margin:0;word-break:break-all}code{font-size:.95em}
form{margin-top:1.5rem;display:flex;gap:.75rem;flex-wrap:wrap;align-items:center}
button,input{font:inherit;padding:.55rem 1.1rem;border-radius:8px;border:1px solid var(--line)}
button{cursor:pointer;background:var(--card);color:var(--fg)}
button.primary{background:var(--accent);color:#fff;border-color:var(--accent)}
input[type=email]{flex:1;min-width:14rem;background:var(--bg);color:var(--fg)}
button:focus-visible,input:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.bar{display:flex;justify-content:space-between;align-items:center;gap:1rem;flex-wrap:wrap}
.bar form{margin:0}
"""

_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def render_document(title: str, body: str, gate_name: str, *, extra_css: str = "") -> str:
    """A whole page around `body` (already escaped HTML); `extra_css` is the caller's own."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)} · {escape(gate_name)}</title>"
        f"<style>{_CSS}{extra_css}</style></head>"
        f'<body><main aria-labelledby="title">{body}</main></body></html>'
    )


def render_signed_in_bar(title: str, base_path: str, logout_csrf: str) -> str:
    """The heading of a signed-in user's page beside its Sign out button (POST /my/logout)."""
    return f"""
<div class="bar">
<h1 id="title">{escape(title)}</h1>
<form method="post" action="{escape(base_path)}/my/logout">
<input type="hidden" name="csrf" value="{escape(logout_csrf)}">
<button type="submit">Sign out</button>
</form>
</div>"""


def page_response(html: str, *, status: int = 200) -> web.Response:
    return web.Response(
        status=status, text=html, content_type="text/html", headers=_SECURITY_HEADERS
    )


def render_message(title: str, message: str, gate_name: str, *, hint: str = "") -> str:
    body = f'<h1 id="title">{escape(title)}</h1><p>{escape(message)}</p>'
    if hint:
        body += f'<p class="muted">{escape(hint)}</p>'
    return render_document(title, body, gate_name)


def _extra_scopes(scope: str) -> str:
    """One line per scope beyond `mcp`: a step-up the user must see (MCP authorization
    §Scope Challenge Handling: the AS decides, on a consent naming it)."""
    extra = [s for s in scope.split() if s != "mcp"]
    return "".join(
        f'<dt>Extra permission</dt><dd class="warn">scope <code>{escape(s)}</code>: '
        "what the server's administrators reserve for it</dd>\n"
        for s in extra
    )


def render_consent(
    *,
    gate_name: str,
    client_name: str,
    client_id: str,
    redirect_uri: str,
    server: str,
    scope: str,
    action: str,
    sealed_request: str,
    csrf_token: str,
) -> str:
    redirect_host = urlsplit(redirect_uri).hostname or redirect_uri
    local_only = redirect_host in ("localhost", "127.0.0.1", "::1")
    warning = (
        '<p class="warn">This application receives the result on this computer '
        f"({escape(redirect_host)}). Approve only if you just started it yourself.</p>"
        if local_only
        else ""
    )
    body = f"""
<h1 id="title">Allow {escape(client_name)} to use {escape(server)}?</h1>
<p>An application asks to act on your behalf on the MCP server
<strong>{escape(server)}</strong> at {escape(gate_name)}. You will sign in next.</p>
<dl>
<dt>Application</dt><dd>{escape(client_name)}</dd>
<dt>Client ID</dt><dd><code>{escape(client_id)}</code></dd>
<dt>Sends you back to</dt><dd><strong>{escape(redirect_host)}</strong><br>
<code>{escape(redirect_uri)}</code></dd>
<dt>Access</dt><dd>use the tools of {escape(server)} (scope <code>mcp</code>)</dd>
{_extra_scopes(scope)}</dl>
{warning}
<form method="post" action="{escape(action)}">
<input type="hidden" name="request" value="{escape(sealed_request)}">
<input type="hidden" name="csrf" value="{escape(csrf_token)}">
<button class="primary" type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
<p class="muted">Your choice is remembered for this application.</p>"""
    return render_document(f"Allow {client_name}?", body, gate_name)


def render_dev_login(*, gate_name: str, action: str, state: str, error: str = "") -> str:
    error_html = f'<p class="warn" role="alert">{escape(error)}</p>' if error else ""
    body = f"""
<h1 id="title">Sign in (demo)</h1>
<p>This gate runs the <code>dev</code> login for local trials: type any email address.
Nothing is checked; use Google or OIDC for anything real.</p>
{error_html}
<form method="post" action="{escape(action)}">
<input type="hidden" name="state" value="{escape(state)}">
<label for="email">Email</label>
<input id="email" type="email" name="email" required autocomplete="email"
placeholder="alice@example.com">
<button class="primary" type="submit">Sign in</button>
</form>"""
    return render_document("Sign in", body, gate_name)
