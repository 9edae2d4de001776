"""A server's access policy keys: `mcpServers.<name>.access`, `.scopes` and `.tools`.

Owns their meaning and checks: selector lists (emails, domains, groups, clients), CIDR
`networks`, scope names (RFC 6749 §3.3 scope-token characters, never `mcp`, which every
token holds), tool-name globs, and that a tool rule's `scope` names one of the server's
`scopes`. Every problem names its key path. Decides nothing about requests: that is
`policy/engine.py`.
"""

from __future__ import annotations

import ipaddress
import re

from mcp_gate.config.model import AccessRule, IpNetwork, Selector, ServerPolicy, ToolRule
from mcp_gate.config.section import Section
from mcp_gate.config.values import describe, resolve

SELECTOR_KEYS = ("emails", "domains", "groups", "clients")
ACCESS_KEYS = (*SELECTOR_KEYS, "networks")
TOOL_RULE_KEYS = ("name", *SELECTOR_KEYS, "scope")
# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ); policy: at most 64 of them.
_SCOPE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,64}")
# The scope every gate token holds (oauth/resources.py MCP_SCOPE; not imported: config
# knows nothing of the authorization server).
_BASE_SCOPE = "mcp"
_EMAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}")
_DOMAIN = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


def parse_policy(server: Section, *, has_auth: bool) -> ServerPolicy:
    access = _access(server) if server.has("access") else None
    scopes = _scopes(server)
    tools = _tools(server, scopes)
    policy = ServerPolicy(access=access, scopes=scopes, tools=tools)
    needs_identity = (access is not None and access.who is not None) or scopes or tools
    if needs_identity and not has_auth and not server.has("serviceAuths"):
        key = "access" if server.has("access") else "scopes" if scopes else "tools"
        server.ctx.error(
            server.at(key),
            "names who may call, but nobody signs in: add proxy.auth or serviceAuths",
        )
    return policy


def _access(server: Section) -> AccessRule:
    section = server.child("access", ACCESS_KEYS)
    if section.data.get("networks") == []:
        section.ctx.error(section.at("networks"), "lists no network: nobody could connect")
    return AccessRule(who=_selector(section), networks=parse_networks(section, "networks"))


def parse_networks(section: Section, key: str) -> tuple[IpNetwork, ...]:
    """A list of CIDR networks (a bare address is a /32 or /128), each problem by path."""
    networks: list[IpNetwork] = []
    for path, item in section.items(key):
        text = resolve(section.ctx, path, item)
        if not isinstance(text, str):
            continue
        try:
            networks.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            section.ctx.error(
                path, f"expected a network like 10.0.0.0/8 or 2001:db8::/32, got {text!r}"
            )
    return tuple(networks)


def _selector(section: Section) -> Selector | None:
    """The selector lists of `section`; None when it has none (nobody is named)."""
    if not any(section.has(key) for key in SELECTOR_KEYS):
        return None
    return Selector(
        emails=_checked(section, "emails", _EMAIL, "an email address like alice@example.com"),
        domains=tuple(
            d.removeprefix("@")
            for d in _checked(section, "domains", _DOMAIN, "a domain like example.com")
        ),
        groups=tuple(g.lower() for g in _texts(section, "groups")),
        clients=_texts(section, "clients"),
    )


def _texts(section: Section, key: str) -> tuple[str, ...]:
    values = []
    for path, item in section.items(key):
        text = resolve(section.ctx, path, item)
        if isinstance(text, str) and text.strip():
            values.append(text.strip())
        elif isinstance(text, str):
            section.ctx.error(path, f"expected a non-empty string, got {describe(item)}")
    return tuple(values)


def _checked(
    section: Section, key: str, pattern: re.Pattern[str], expected: str
) -> tuple[str, ...]:
    values = []
    for index, text in enumerate(_texts(section, key)):
        value = text.lower().removeprefix("@") if key == "domains" else text.lower()
        if not pattern.fullmatch(value):
            section.ctx.error(f"{section.at(key)}[{index}]", f"expected {expected}, got {text!r}")
        values.append(value)
    return tuple(values)


def _scopes(server: Section) -> dict[str, Selector]:
    scopes: dict[str, Selector] = {}
    for path, name, raw in server.entries("scopes"):
        if name == _BASE_SCOPE:
            server.ctx.error(path, f"every token holds {_BASE_SCOPE!r}; name a scope beyond it")
            continue
        if not _SCOPE.fullmatch(name):
            server.ctx.error(
                path,
                "a scope name is up to 64 visible characters, no spaces, quotes or backslashes",
            )
            continue
        section = Section(server.ctx, path, raw, SELECTOR_KEYS)
        selector = _selector(section)
        if selector is None and not section.broken:
            server.ctx.error(path, f"say who may hold it: one of {', '.join(SELECTOR_KEYS)}")
        scopes[name] = selector or Selector()
    return scopes


def _tools(server: Section, scopes: dict[str, Selector]) -> tuple[ToolRule, ...]:
    rules = []
    for path, raw in server.items("tools"):
        section = Section(server.ctx, path, raw, TOOL_RULE_KEYS)
        if not section.need("name", "the tool name or glob the rule is for, like delete_*"):
            continue
        name = section.text("name")
        if not name:
            server.ctx.error(section.at("name"), "must not be empty")
        scope = section.text("scope")
        if section.has("scope") and scope not in scopes:
            known = ", ".join(sorted(scopes)) or "none"
            server.ctx.error(
                section.at("scope"),
                f"names no scope of this server's `scopes` (declared: {known})",
            )
        rules.append(ToolRule(name=name, who=_selector(section), scope=scope))
    return tuple(rules)
