"""`mcpServers.<name>.identity`: the headers, environment and JWT that tell a backend who calls.

Owns the meaning and checks of `identity.headers` (remote servers), `identity.env` (stdio
servers, at child start) and `identity.jwt` (remote servers; needs `proxy.auth`, which
holds the signing keys): templates with known placeholders only (`backend_identity/
templates.py`), header names that are tokens (RFC 9110 §5.6.2) and none the gate owns
(framing, hop-by-hop, the client's `Authorization` and cookies, the MCP and tracing headers
it forwards from the client) nor one the server's `headers` already set, variable names
the server's `env` does not set. Reads no files, signs nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from mcp_gate.backend_identity.templates import template_problem
from mcp_gate.config.model import IdentityConfig, IdentityJwt, Templated
from mcp_gate.config.section import Section
from mcp_gate.config.values import resolve, split_url

IDENTITY_KEYS = ("headers", "env", "jwt")
JWT_KEYS = ("header", "ttl", "audience")
DEFAULT_JWT_TTL_SECONDS = 60.0
# policy: an identity JWT is an assertion for one backend; an hour bounds a leaked one.
MAX_JWT_TTL_SECONDS = 3600.0
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 §5.6.2 token
# Headers the gate sets or forwards itself (framing, RFC 9110 §7.6.1 hop-by-hop, the MCP
# transport's and tracing headers taken from the client, the client's credentials).
GATE_OWNED_HEADERS = frozenset(
    name.lower()
    for name in (
        "Host", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "TE",
        "Trailer", "Upgrade", "Authorization", "Cookie", "Accept", "Accept-Encoding",
        "Content-Type", "Origin", "User-Agent", "MCP-Protocol-Version", "Mcp-Session-Id",
        "Mcp-Method", "Mcp-Name", "Last-Event-ID", "traceparent", "tracestate", "baggage",
    )
)  # fmt: skip
GATE_OWNED_PREFIXES = ("mcp-param-", "proxy-")


def parse_identity(
    server: Section,
    *,
    remote: bool,
    url: Templated | None,
    headers: Mapping[str, Templated],
    env: Mapping[str, Templated],
    has_auth: bool,
) -> IdentityConfig | None:
    if not server.has("identity"):
        return None
    section = server.child("identity", IDENTITY_KEYS)
    if remote:
        section.forbid(("env",), "only for stdio servers, whose children read it at start")
    else:
        section.forbid(("headers", "jwt"), "only for sse and streamable-http servers")
    configured = {name.lower() for name in headers}
    identity_headers = _templates(section, "headers", taken=configured, header=True)
    jwt = _jwt(section, url, taken=configured | {h.lower() for h in identity_headers})
    if jwt is not None and not has_auth:
        section.ctx.error(section.at("jwt"), "needs proxy.auth, which holds the signing keys")
    return IdentityConfig(
        headers=identity_headers,
        env=_templates(section, "env", taken=set(env), header=False),
        jwt=jwt,
    )


def _templates(section: Section, key: str, *, taken: set[str], header: bool) -> dict[str, str]:
    rendered = {}
    for path, name, raw in section.entries(key):
        template = resolve(section.ctx, path, raw)
        if not isinstance(template, str):
            continue
        problem = _header_name_problem(name) if header else _env_name_problem(name)
        if problem is None and (name.lower() if header else name) in taken:
            problem = f"the server's {key} already set it; set it in one place"
        problem = problem or template_problem(template)
        if problem is not None:
            section.ctx.error(path, problem)
            continue
        rendered[name] = template
    return rendered


def _jwt(section: Section, url: Templated | None, *, taken: set[str]) -> IdentityJwt | None:
    if not section.has("jwt"):
        return None
    jwt = section.child("jwt", JWT_KEYS)
    jwt.need("header", "the header the backend reads the JWT from, like X-Mcp-Gate-Identity")
    header = jwt.text("header")
    problem = None
    if header.lower() != "authorization":  # sent as `Authorization: Bearer <jwt>`
        problem = _header_name_problem(header) if header else None
    if problem is None and header.lower() in taken:
        problem = "the server's headers or identity.headers already set it"
    if problem is not None:
        jwt.ctx.error(jwt.at("header"), problem)
    ttl = jwt.duration("ttl", DEFAULT_JWT_TTL_SECONDS)
    if ttl > MAX_JWT_TTL_SECONDS:
        jwt.ctx.error(jwt.at("ttl"), "must be at most 1h")
    return IdentityJwt(header=header, audience=_audience(jwt, url), ttl_seconds=ttl)


def _audience(jwt: Section, url: Templated | None) -> str:
    """`audience`, or the backend's URL without userinfo, query and fragment."""
    audience = jwt.text("audience")
    if audience:
        return audience
    if not isinstance(url, str):
        # A URL read from the environment, or a $userToken template, is nothing to print.
        if url is not None:
            jwt.need("audience", "the server's url is a secret or a $userToken template")
        return ""
    parts = split_url(url)
    return f"{parts.scheme}://{parts.hostname or ''}{_port(parts.port)}{parts.path}"


def _port(port: int | None) -> str:
    return f":{port}" if port is not None else ""


def _header_name_problem(name: str) -> str | None:
    lower = name.lower()
    if not _HEADER_NAME.fullmatch(name):
        return "not a valid header name"
    if lower in GATE_OWNED_HEADERS or lower.startswith(GATE_OWNED_PREFIXES):
        return "a header the gate sets or forwards itself; choose another name"
    return None


def _env_name_problem(name: str) -> str | None:
    if not name or "=" in name or "\0" in name:
        return "not a valid environment variable name"
    return None
