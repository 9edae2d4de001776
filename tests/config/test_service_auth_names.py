"""`serviceAuths[].name`: the principal its credentials act as (`service:<name>`)."""

from __future__ import annotations

from mcp_gate.config import parse_config
from tests.fixtures.config_files import minimal_document, problems_of

CI = {"type": "bearer", "tokens": ["ci-token-value"]}


def _document(*entries: dict) -> dict:
    document = minimal_document()
    document["mcpServers"]["time"]["serviceAuths"] = list(entries)
    return document


def test_unnamed_entries_take_the_server_name_then_numbered_names():
    """policy: the first entry is `service:<server>`, the n-th `service:<server>-<n>`."""
    basic = {"type": "basic", "username": "batch", "password": "batch-password"}
    config = parse_config(_document(CI, basic), {})
    first, second = config.servers["time"].service_auths
    assert (first.name, second.name) == ("time", "time-2")
    assert first.principal_name("time", 0, 0) == "time"
    assert second.principal_name("time", 1, 0) == "time-2"


def test_a_named_entry_names_its_principal_and_numbers_extra_tokens():
    """policy: readable names in logs and policy; a second token is its own principal."""
    entry = {"type": "bearer", "name": "ci-bot", "tokens": ["token-a-value", "token-b-value"]}
    (auth,) = parse_config(_document(entry), {}).servers["time"].service_auths
    assert [auth.principal_name("time", 0, i) for i in (0, 1)] == ["ci-bot", "ci-bot#2"]


def test_two_entries_of_one_name_are_refused():
    """policy: two entries of one server never share a principal (nor its MCP sessions)."""
    problems = problems_of(_document({**CI, "name": "ci"}, {**CI, "name": "ci"}))
    assert problems == [
        "mcpServers.time.serviceAuths[1].name: the principal name 'ci' is already "
        "mcpServers.time.serviceAuths[0]'s; give each entry its own name"
    ]


def test_a_name_with_other_characters_is_refused():
    """policy: a principal name is plain text a log line and a policy rule can hold."""
    problems = problems_of(_document({**CI, "name": "ci bot:1"}))
    assert problems == [
        "mcpServers.time.serviceAuths[0].name: may hold only letters, digits, '.', '_' and "
        "'-' (1 to 64)"
    ]
