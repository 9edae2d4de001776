"""The Directory API client (`idp.googleGroups`) against a local stand-in for Google's
token endpoint and groups.list (tests/fixtures/google_directory.py): there is no Google
here, so the stand-in checks the JWT bearer assertion and pages as the docs describe."""

from __future__ import annotations

import time

import aiohttp
import pytest

from mcp_gate.idp.errors import IdpError
from mcp_gate.idp.google_groups import DirectoryGroups
from mcp_gate.idp.service_account_key import ServiceAccountKeyError, parse_service_account_key
from tests.fixtures.google_directory import ADMIN, DirectoryStandIn


class Clock:
    """Starts now (the stand-in checks the assertion's times against its own clock)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


CACHE_SECONDS = 10.0


async def _client(google_directory: DirectoryStandIn, http, clock=None, admin: str = ADMIN):
    key = parse_service_account_key(google_directory.service_account_key())
    return DirectoryGroups(
        http,
        key,
        admin,
        directory_url=google_directory.url,
        cache_seconds=CACHE_SECONDS,
        clock=clock or Clock(),
    )


async def test_groups_of_a_user_are_read_across_pages(google_directory: DirectoryStandIn):
    """A signed assertion buys a token; groups.list pages through `nextPageToken`."""
    google_directory.memberships["alice@example.com"] = [
        "eng@example.com", "admins@example.com", "oncall@example.com",
    ]  # fmt: skip
    async with aiohttp.ClientSession() as http:
        directory = await _client(google_directory, http)
        groups = await directory.load_groups("alice@example.com")
    assert groups == ("eng@example.com", "admins@example.com", "oncall@example.com")
    assert google_directory.token_requests == 1
    assert [r.get("pageToken") for r in google_directory.list_requests] == [None, "2"]
    assert {r["userKey"] for r in google_directory.list_requests} == {"alice@example.com"}


async def test_groups_are_cached_for_the_interval_and_the_token_reused(
    google_directory: DirectoryStandIn,
):
    """Within `cache_seconds` no request; past it, one list with the same access token."""
    google_directory.memberships["bob@example.com"] = ["eng@example.com"]
    clock = Clock()
    async with aiohttp.ClientSession() as http:
        directory = await _client(google_directory, http, clock)
        await directory.load_groups("bob@example.com")
        google_directory.memberships["bob@example.com"] = ["eng@example.com", "ops@example.com"]
        cached = await directory.load_groups("bob@example.com")
        clock.now += CACHE_SECONDS + 1
        later = await directory.load_groups("bob@example.com")
    assert cached == ("eng@example.com",)
    assert later == ("eng@example.com", "ops@example.com")
    assert len(google_directory.list_requests) == 2
    assert google_directory.token_requests == 1  # the access token lasts an hour


async def test_a_refused_assertion_is_an_idp_error(google_directory: DirectoryStandIn):
    """Acting as someone the service account may not impersonate: the token is refused."""
    async with aiohttp.ClientSession() as http:
        directory = await _client(google_directory, http, admin="mallory@example.com")
        with pytest.raises(IdpError) as refused:
            await directory.load_groups("alice@example.com")
    assert refused.value.reason == "token_request_failed"
    assert "BEGIN" not in str(refused.value)


async def test_an_unknown_user_is_an_idp_error_not_an_empty_list(
    google_directory: DirectoryStandIn,
):
    """Fail closed: a 404 from groups.list does not read as "in no group"."""
    async with aiohttp.ClientSession() as http:
        directory = await _client(google_directory, http)
        with pytest.raises(IdpError):
            await directory.load_groups("nobody@example.com")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("not json", "is not JSON"),
        ('{"type": "authorized_user"}', "is not a service account key"),
        ('{"type": "service_account", "private_key": "x"}', "has no client_email"),
        ('{"type": "service_account", "client_email": "a@b", "private_key": "x"}', "private_key"),
    ],
)
def test_unfit_keys_are_refused_naming_the_field(text: str, says: str) -> None:
    with pytest.raises(ServiceAccountKeyError, match=says):
        parse_service_account_key(text)
