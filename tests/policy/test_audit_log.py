"""The audit log (docs/audit.md) after a scripted session: one JSON line per event, in
the documented schema, and not one secret the test saw (tokens, codes) in the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp.shared.auth import OAuthToken
from mcp.shared.exceptions import MCPError

from mcp_gate.audit import Audit
from mcp_gate.config.model import AuditConfig
from tests.fixtures.gate import remote
from tests.fixtures.mcp_clients import streamable_client
from tests.fixtures.mcp_servers import RunningServer
from tests.fixtures.oauth_client import Pkce, authorization_url, exchange_code, register, revoke
from tests.fixtures.oauth_flow import Browser, MemoryTokenStorage, sdk_oauth
from tests.fixtures.oauth_gate import OAuthGateFactory
from tests.fixtures.oidc_provider import OidcTestProvider
from tests.policy.test_tool_rules_end_to_end import ALICE, PARTNER, POLICY

# docs/audit.md: the fields every line has, and those each event adds.
COMMON = {"ts", "event"}
FIELDS = {
    "consent_given": {"client_id", "server", "scope"},
    "login_succeeded": {"principal", "email", "client_id", "server", "scope", "grant"},
    "token_issued": {"principal", "client_id", "server", "scope", "grant", "grant_type"},
    "session_opened": {"principal", "server", "mcp_session"},
    "session_closed": {"principal", "server", "mcp_session", "reason"},
    "tool_called": {"principal", "server", "tool", "decision", "outcome", "duration_ms"},
    "token_revoked": {"client_id", "grant"},
}


class RecordingStorage(MemoryTokenStorage):
    """Keeps every token the SDK was given, to look for them in the audit file."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[OAuthToken] = []

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.seen.append(tokens)
        await super().set_tokens(tokens)


async def test_a_scripted_session_leaves_one_line_per_event_and_no_secret(
    oauth_gate_factory: OAuthGateFactory,
    oidc_provider: OidcTestProvider,
    py_sse_server: RunningServer,
    py_streamable_server: RunningServer,
    tmp_path: Path,
) -> None:
    """Audit (docs/audit.md): login, consent, tokens, sessions, tool calls (allowed, forbidden,
    step-up), revocation; never a secret (grep for every token and code)."""
    path = tmp_path / "audit.jsonl"
    bridged = remote("gh", "sse", py_sse_server.url, policy=POLICY)
    passthrough = remote("pt", "streamable-http", py_streamable_server.url, policy=POLICY)
    audit = AuditConfig(sink=str(path))
    secrets: list[str] = []
    async with oauth_gate_factory(
        {"gh": bridged, "pt": passthrough},
        allowed_emails=(PARTNER,),
        proxy_fields={"audit": audit},
    ) as gate:
        url = gate.url("/gh/mcp")
        await oidc_provider.set_next_user(email=ALICE)
        storage = RecordingStorage()
        oauth = sdk_oauth(url, storage=storage)
        async with streamable_client(url, auth=oauth.provider) as client:
            await client.call_tool("read_issue", {"number": 1})
            await client.call_tool("merge_pr", {"number": 2})  # step-up, then allowed
        await oidc_provider.set_next_user(email=PARTNER)
        pt_url = gate.url("/pt/mcp")
        partner = sdk_oauth(pt_url, storage=RecordingStorage())
        # The handshake era: a backend session the pass-through binds (2026-07-28 has none).
        async with streamable_client(pt_url, mode="legacy", auth=partner.provider) as client:
            with pytest.raises(MCPError):
                await client.call_tool("delete_repo", {"repo": "acme/app"})
        manual = await register(gate.base_url, token_endpoint_auth_method="none")
        pkce = Pkce.new()
        start = authorization_url(gate.base_url, manual, pkce=pkce, resource=url)
        callback = await Browser().walk(start)
        answer = await exchange_code(
            gate.base_url, manual, callback.query["code"], pkce, resource=url
        )
        await revoke(gate.base_url, manual, answer.refresh_token)
        for recorded in (storage, partner.storage):
            assert isinstance(recorded, RecordingStorage)
            for token in recorded.seen:
                secrets += [token.access_token, token.refresh_token or ""]
        secrets += [c.query["code"] for c in oauth.callbacks + partner.callbacks]
        secrets += [callback.query["code"], answer.access_token, answer.refresh_token]
    text = path.read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    events = [line["event"] for line in lines]
    calls = [(x["tool"], x["decision"], x["outcome"]) for x in lines if x["event"] == "tool_called"]
    assert all(s and s not in text for s in secrets)
    for line in lines:
        assert COMMON | FIELDS.get(line["event"], set()) <= set(line), line
        assert line["ts"].endswith("Z")
    for event in FIELDS:
        assert event in events, event
    assert events.count("login_succeeded") == 4  # alice, her step-up, partner, the manual one
    assert ("read_issue", "allowed", "answered") in calls
    assert ("merge_pr", "needs_scope", "refused") in calls
    assert ("merge_pr", "allowed", "answered") in calls
    assert ("delete_repo", "forbidden", "refused") in calls
    assert not any("arguments" in line for line in lines)  # includeArguments is off
    sessions = {(x["event"], x["server"]) for x in lines if x["event"].startswith("session_")}
    assert sessions == {
        (event, server)
        for event in ("session_opened", "session_closed")
        for server in ("gh", "pt")  # bridged, and the pass-through's backend session
    }


def test_a_field_named_like_a_secret_is_refused() -> None:
    """policy: the emit API itself refuses a field that says it holds a credential."""
    with pytest.raises(ValueError, match="named like a secret"):
        Audit().emit("token_issued", access_token="x")
