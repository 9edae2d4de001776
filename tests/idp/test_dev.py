"""The loopback-only dev provider (dev.py)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from mcp_gate.config.model import IdpConfig
from mcp_gate.errors import ConfigError
from mcp_gate.idp import (
    DevProvider,
    LoginRefusedError,
    build_identity_provider,
    verify_dev_provider_allowed,
)


async def test_dev_authorization_url_is_the_gates_own_login_page() -> None:
    """The dev 'IdP' is the gate: `<baseURL>/oauth/dev-login?state=...`, base path kept."""
    provider = DevProvider(base_url="http://127.0.0.1:8080/gate/")

    url = await provider.build_authorization_url(state="st-1", nonce="n", code_challenge="c")

    assert url == "http://127.0.0.1:8080/gate/oauth/dev-login?state=st-1"
    assert provider.redirect_uri == "http://127.0.0.1:8080/gate/oauth/callback"


async def test_dev_login_round_trip_yields_a_verified_identity() -> None:
    """The form's callback URL carries the email as the code; the exchange trusts it."""
    provider = DevProvider(base_url="http://localhost:8080")
    callback = urlsplit(provider.build_callback_url(email="Dana@Example.com", state="st-1"))
    query = {name: values[0] for name, values in parse_qs(callback.query).items()}

    identity = await provider.exchange_code(code=query["code"], code_verifier="", nonce="")

    assert query["state"] == "st-1"
    assert (identity.email, identity.email_verified, identity.hosted_domain) == (
        "Dana@Example.com",
        True,
        "example.com",
    )
    assert (identity.subject, identity.issuer) == ("dana@example.com", "http://localhost:8080")


async def test_dev_login_applies_the_allowlist() -> None:
    """docs/config.md `allowedDomains`: allowedDomains binds the dev provider too (by email
    domain)."""
    provider = DevProvider(base_url="http://127.0.0.1:8080", allowed_domains=("example.com",))

    with pytest.raises(LoginRefusedError) as refused:
        await provider.exchange_code(code="eve@elsewhere.test", code_verifier="", nonce="")

    assert refused.value.reason == "domain_not_allowed"


@pytest.mark.parametrize("typed", ["", "no-at-sign", "two@@example.com", "a b@example.com", "x@"])
async def test_dev_login_with_something_not_an_email_is_refused(typed: str) -> None:
    """The form asks for an email address; anything else gets a clear message."""
    provider = DevProvider(base_url="http://127.0.0.1:8080")

    with pytest.raises(LoginRefusedError) as refused:
        await provider.exchange_code(code=typed, code_verifier="", nonce="")

    assert refused.value.reason == "email_invalid"


def test_factory_builds_the_dev_provider(http: aiohttp.ClientSession) -> None:
    """`provider: dev` needs no client credentials."""
    provider = build_identity_provider(
        IdpConfig(provider="dev"), "http://127.0.0.1:8080", http, allowed_domains=()
    )
    assert isinstance(provider, DevProvider)


@pytest.mark.parametrize(
    ("addr", "base_url"),
    [
        ("127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("localhost:8080", "http://localhost:8080/gate"),
        ("[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_dev_provider_starts_on_loopback(addr: str, base_url: str) -> None:
    """Policy (dev.py): loopback listen address and loopback baseURL are fine."""
    verify_dev_provider_allowed(addr, base_url)


@pytest.mark.parametrize(
    ("addr", "base_url", "keys"),
    [
        ("0.0.0.0:8080", "http://127.0.0.1:8080", ["proxy.addr"]),
        (":8080", "http://127.0.0.1:8080", ["proxy.addr"]),
        ("127.0.0.1:8080", "https://mcp.example.com", ["proxy.baseURL"]),
        ("10.0.0.5:8080", "http://10.0.0.5:8080", ["proxy.addr", "proxy.baseURL"]),
    ],
)
def test_dev_provider_refuses_to_start_off_loopback(
    addr: str, base_url: str, keys: list[str]
) -> None:
    """Policy (dev.py): anyone could sign in as anyone, so never reachable off loopback."""
    with pytest.raises(ConfigError) as error:
        verify_dev_provider_allowed(addr, base_url)

    assert [problem.partition(":")[0] for problem in error.value.problems] == keys
    assert all("dev" in problem for problem in error.value.problems)
