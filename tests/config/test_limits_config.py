"""`proxy.limits` and `proxy.auth.revocationCheckInterval`: read into the config, defaults
when absent, `requests: 0` turns a limit off, and misuse reported with its key path."""

from __future__ import annotations

from mcp_gate.config import parse_config, render_effective_config
from mcp_gate.config.model import LimitsConfig, RateLimit
from tests.fixtures.config_files import google_auth, minimal_document, problems_of


def _limits(limits: object) -> LimitsConfig:
    document = minimal_document()
    document["proxy"]["limits"] = limits
    return parse_config(document, {}).proxy.limits


def test_limits_are_read_and_requests_zero_turns_one_off() -> None:
    """`perUser` as written; `tokenPerAddress: {requests: 0}` is off; the one left out
    keeps its default."""
    limits = _limits({
        "perUser": {"requests": 600, "per": "1m"},
        "tokenPerAddress": {"requests": 0},
    })  # fmt: skip
    assert limits == LimitsConfig(
        per_user=RateLimit(600, 60.0),
        token_per_address=None,
        authorize_per_address=LimitsConfig().authorize_per_address,
    )


def test_per_user_limit_is_off_by_default() -> None:
    """No `proxy.limits`: no per-user bucket, the per-address defaults."""
    assert minimal_document()["proxy"].get("limits") is None
    assert parse_config(minimal_document(), {}).proxy.limits == LimitsConfig()


def test_bad_limits_name_their_key_path() -> None:
    """A missing `requests`, a negative count, a bad duration, an unknown key."""
    document = minimal_document()
    document["proxy"]["limits"] = {
        "perUser": {"per": "1m"},
        "tokenPerAddress": {"requests": -1, "per": "soon"},
        "perDay": {},
    }
    problems = "\n".join(problems_of(document))
    assert "proxy.limits.perUser.requests" in problems
    assert "proxy.limits.tokenPerAddress.requests" in problems
    assert "proxy.limits.tokenPerAddress.per" in problems
    assert "proxy.limits.perDay" in problems


def test_revocation_check_interval_is_read_and_shown() -> None:
    """`revocationCheckInterval: 1s` reaches the config and the effective config."""
    document = minimal_document()
    document["proxy"]["auth"] = {**google_auth(), "revocationCheckInterval": "1s"}
    config = parse_config(document, {})
    assert config.proxy.auth is not None
    assert config.proxy.auth.revocation_check_seconds == 1.0
    assert "revocationCheckInterval: 1s" in render_effective_config(config)
