"""The policy engine's decisions (policy/engine.py) and the client address
(policy/client_address.py), as pure functions: each rule of docs/config.md (access,
scopes, tools) in a sentence."""

from __future__ import annotations

import ipaddress

from mcp_gate.config.model import AccessRule, Selector, ServerPolicy, ToolFilter, ToolRule
from mcp_gate.policy.client_address import client_address, parse_address
from mcp_gate.policy.engine import Caller, PolicyEngine
from mcp_gate.principal import ANONYMOUS, Principal

ENG = "eng@example.com"
ADMINS = "admins@example.com"
ALICE = Principal.user("a1", "Alice@Example.com")
PARTNER = Principal.user("p1", "partner@other.org")
CAROL = Principal(
    "user", "user:c1", "carol@elsewhere.net", subject="c1", groups=("Eng@Example.com",)
)
BOT = Principal.client("ci-bot")
OTHER_BOT = Principal.client("rogue")
NET = ipaddress.ip_network("10.0.0.0/8")
POLICY = ServerPolicy(
    access=AccessRule(
        who=Selector(
            emails=("partner@other.org",),
            domains=("example.com",),
            groups=(ENG,),
            clients=("ci-bot",),
        ),
    ),
    scopes={"admin": Selector(groups=(ADMINS,), emails=("alice@example.com",))},
    tools=(
        ToolRule("delete_*", who=Selector(groups=(ENG,))),
        ToolRule("merge_*", scope="admin"),
        ToolRule("delete_all"),  # never reached: the first matching glob decides
    ),
)
ENGINE = PolicyEngine(POLICY)


def test_any_one_selector_list_admits_and_nothing_else_does() -> None:
    """`access` (docs/config.md): emails, domains, groups, clients; each alone admits."""
    for principal in (ALICE, PARTNER, CAROL, BOT):
        assert ENGINE.refusal(Caller(principal)) is None, principal
    for principal in (OTHER_BOT, ANONYMOUS, Principal.user("x", "x@evil.example")):
        assert ENGINE.refusal(Caller(principal)) is not None, principal


def test_networks_must_also_hold_the_client_address() -> None:
    """docs/config.md: networks is an additional condition, never an alternative."""
    engine = PolicyEngine(ServerPolicy(access=AccessRule(Selector(clients=("ci-bot",)), (NET,))))
    inside, outside = ipaddress.ip_address("10.1.2.3"), ipaddress.ip_address("192.0.2.1")
    assert engine.refusal(Caller(BOT, inside)) is None
    assert "network" in (engine.refusal(Caller(BOT, outside)) or "")
    assert engine.refusal(Caller(BOT, None)) is not None
    assert engine.refusal(Caller(OTHER_BOT, inside)) is not None


def test_the_first_matching_glob_decides_and_unmatched_tools_follow_access() -> None:
    """`tools` (docs/config.md): first matching name wins; others follow `access`."""
    assert ENGINE.decide(Caller(CAROL), "delete_all").verdict == "allowed"  # by group
    forbidden = ENGINE.decide(Caller(PARTNER), "delete_all")
    assert (forbidden.verdict, forbidden.visible) == ("forbidden", False)
    assert ENGINE.decide(Caller(PARTNER), "read_issue").verdict == "allowed"


def test_a_scope_rule_asks_for_a_step_up_only_of_who_may_hold_it() -> None:
    """MCP authorization §Scope Challenge Handling; the scope holder is named by `scopes`."""
    need = ENGINE.decide(Caller(ALICE), "merge_pr")
    assert (need.verdict, need.scopes, need.visible) == ("needs_scope", ("admin",), True)
    held = ENGINE.decide(Caller(ALICE, scopes=frozenset({"mcp", "admin"})), "merge_pr")
    assert held.verdict == "allowed"
    assert ENGINE.decide(Caller(PARTNER), "merge_pr").verdict == "forbidden"
    # a token holding the scope is not enough once the principal is no longer named
    stale = ENGINE.decide(Caller(PARTNER, scopes=frozenset({"admin"})), "merge_pr")
    assert stale.verdict == "forbidden"


def test_only_principals_a_scope_names_may_be_granted_it() -> None:
    """policy: the AS grants an extra scope only to whom `scopes.<name>` names."""
    assert ENGINE.grantable(ALICE, ["admin", "admin", "nope"]) == ("admin",)
    assert ENGINE.grantable(PARTNER, ["admin"]) == ()
    assert ENGINE.grantable(Principal("user", "user:z", "z@x.org", groups=(ADMINS,)), ["admin"])


def test_tool_filter_applies_beside_the_rules() -> None:
    """docs/config.md: the existing toolFilter keeps working; both apply."""
    engine = PolicyEngine(POLICY, ToolFilter("block", ("read_issue",)))
    assert engine.decide(Caller(ALICE), "read_issue").verdict == "forbidden"
    assert engine.decide(Caller(PARTNER), "delete_x").verdict == "forbidden"
    assert engine.decide(Caller(ALICE), "echo").verdict == "allowed"


def test_client_address_believes_only_trusted_proxies() -> None:
    """policy: X-Forwarded-For read from the right, past trusted hops only."""
    trusted = (ipaddress.ip_network("10.0.0.0/8"),)
    assert str(client_address("10.0.0.5", ["203.0.113.9, 10.0.0.7"], trusted)) == "203.0.113.9"
    # an untrusted peer is the client, whatever it claims
    assert str(client_address("198.51.100.1", ["10.1.1.1"], trusted)) == "198.51.100.1"
    # the spoofed left-most entry is never read past an untrusted hop
    spoofed = client_address("10.0.0.5", ["10.9.9.9, 198.51.100.2"], trusted)
    assert str(spoofed) == "198.51.100.2"
    assert client_address("10.0.0.5", ["not-an-address"], trusted) is None
    assert str(client_address("10.0.0.5", [], ())) == "10.0.0.5"
    assert str(parse_address("[::ffff:192.0.2.1]")) == "192.0.2.1"
