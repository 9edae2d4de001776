"""The access-policy decisions for one server: may this caller use it, see a tool, call it.

A caller is a principal (principal.py), the address it calls from and the scopes of its
token. A server's policy (config `access`, `scopes`, `tools`) and its `toolFilter` are
compiled once, at start (`PolicyEngine`); a request asks `for_caller` for its view
(`ToolAccess`), whose answers are cached for the request's life. The rules:

- `access`: any one of its emails, domains, groups, clients admits (none listed: every
  principal that authenticated); `networks`, when set, must hold the client address too.
- a tool: `toolFilter` first (a filtered tool does not exist for anyone); then the first
  `tools` rule whose glob matches its name decides: its selector (if any) must name the
  caller, and its `scope` (if any) must be both held by the token and one the caller may
  hold (`scopes.<name>`). A tool matching no rule is callable by whoever `access` admits.
- a tool whose only lack is a scope the caller may hold is `needs_scope`: it is listed,
  and a call gets the step-up challenge (MCP 2025-11-25 authorization §Scope Challenge
  Handling); one that the caller may never call is `forbidden`: hidden, and refused.

Pure: no I/O, no HTTP, no clock. Matching: emails, domains and groups case-insensitively;
tool globs (`fnmatch`, case-sensitive: MCP tool names are) and client names exactly.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from mcp_gate.config.model import Selector, ServerPolicy, ToolFilter
from mcp_gate.policy.client_address import IpAddress
from mcp_gate.principal import Principal

Verdict = Literal["allowed", "forbidden", "needs_scope"]
# Kinds whose `subject` a selector's `clients` names: the client id, the workload's name,
# the `serviceAuths` entry's name.
_MACHINE_KINDS = frozenset({"client", "workload", "service"})


@dataclass(frozen=True, slots=True)
class Caller:
    principal: Principal
    address: IpAddress | None = None
    scopes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ToolDecision:
    """`reason` says why a forbidden tool is (for the caller's error); `scopes` lists what a
    `needs_scope` tool lacks."""

    verdict: Verdict
    reason: str = ""
    scopes: tuple[str, ...] = ()

    @property
    def visible(self) -> bool:
        return self.verdict != "forbidden"


ALLOWED = ToolDecision("allowed")
# A tool `toolFilter` hides: to every caller it does not exist.
FILTERED = ToolDecision("forbidden", "not available through this gate")


def selector_names(selector: Selector, principal: Principal) -> bool:
    """Whether any list of `selector` names `principal`."""
    if principal.kind == "user":
        email = (principal.email or "").lower()
        if email and (email in selector.emails or email.rpartition("@")[2] in selector.domains):
            return True
        return any(group.lower() in selector.groups for group in principal.groups)
    if principal.kind in _MACHINE_KINDS:
        return principal.subject in selector.clients
    return False


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    who: Selector | None
    scope: str


class PolicyEngine:
    """One server's compiled policy and tool filter."""

    def __init__(self, policy: ServerPolicy, tool_filter: ToolFilter | None = None) -> None:
        self._policy = policy
        self._tool_filter = tool_filter
        self._rules = tuple(
            _Rule(re.compile(fnmatch.translate(rule.name)), rule.who, rule.scope)
            for rule in policy.tools
        )

    @property
    def judges_tools(self) -> bool:
        """Whether tool lists and calls need judging at all (rules or a filter)."""
        return bool(self._rules) or self._tool_filter is not None

    @property
    def refuses_unnamed_calls(self) -> bool:
        """A `tools/call` without a name is on no allowlist; else the backend refuses it."""
        return self._tool_filter is not None and self._tool_filter.mode == "allow"

    @property
    def extra_scopes(self) -> tuple[str, ...]:
        """The scopes beyond `mcp` this server knows, in config order."""
        return tuple(self._policy.scopes)

    @property
    def names_groups(self) -> bool:
        """Whether `access` admits by group (which only a token's principal carries)."""
        access = self._policy.access
        return access is not None and access.who is not None and bool(access.who.groups)

    def refusal(self, caller: Caller) -> str | None:
        """Why the caller may not use the server at all; None when it may."""
        access = self._policy.access
        if access is None:
            return None
        if access.who is not None and not selector_names(access.who, caller.principal):
            return "you are not among the people and clients this server admits"
        if access.networks and not (
            caller.address is not None and any(caller.address in n for n in access.networks)
        ):
            return "this server is not reachable from your network address"
        return None

    def may_hold(self, principal: Principal, scope: str) -> bool:
        selector = self._policy.scopes.get(scope)
        return selector is not None and selector_names(selector, principal)

    def grantable(self, principal: Principal, requested: Iterable[str]) -> tuple[str, ...]:
        """Of `requested`, the extra scopes this principal may be granted (AS step-up)."""
        return tuple(s for s in dict.fromkeys(requested) if self.may_hold(principal, s))

    def decide(self, caller: Caller, tool: str) -> ToolDecision:
        if self._tool_filter is not None and not self._tool_filter.allows(tool):
            return FILTERED
        for rule in self._rules:
            if not rule.pattern.match(tool):
                continue
            if rule.who is not None and not selector_names(rule.who, caller.principal):
                return ToolDecision("forbidden", "only some people and clients may call it")
            if not rule.scope:
                return ALLOWED
            if self.may_hold(caller.principal, rule.scope):
                # policy: a `serviceAuths` credential has no token to step up; naming it in
                # the scope's rule is its grant.
                held = rule.scope in caller.scopes or caller.principal.kind == "service"
                return ALLOWED if held else ToolDecision("needs_scope", scopes=(rule.scope,))
            return ToolDecision("forbidden", f"it needs the scope {rule.scope}, not yours to hold")
        return ALLOWED

    def for_caller(self, caller: Caller) -> ToolAccess:
        return ToolAccess(self, caller)


class ToolAccess:
    """One caller's view of one server's tools, its decisions cached by tool name."""

    def __init__(self, engine: PolicyEngine, caller: Caller) -> None:
        self.engine = engine
        self.caller = caller
        self._decisions: dict[str, ToolDecision] = {}

    def decide(self, tool: str) -> ToolDecision:
        decision = self._decisions.get(tool)
        if decision is None:
            decision = self._decisions[tool] = self.engine.decide(self.caller, tool)
        return decision

    def shows(self, tool: str) -> bool:
        return self.decide(tool).visible
