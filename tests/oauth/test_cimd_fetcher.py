"""The real CIMD fetcher: SSRF guards, DNS pinning, and limits, over real TLS.

Refusals of loopback and private targets run with the production resolver and address
policy and never connect. The rest fetch from tests/fixtures/cimd_server.py, a loopback
HTTPS server for the made-up host `cimd.test`; for those the fetcher gets a resolver
that knows that name and an address policy that admits loopback, the two things that
cannot run here for real.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from mcp_gate.oauth.cimd import (
    CimdResolver,
    DocumentFetchError,
    HttpsDocumentFetcher,
    IpAddress,
    is_public_address,
)
from tests.fixtures.cimd_server import CimdServer, resolve_test_host


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space (RFC 6598)
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.1",
        "233.252.0.1",  # multicast that Python 3.11 calls global
        "240.0.0.1",
        "192.0.0.8",  # IETF protocol assignments that Python 3.11 calls global
        "192.0.2.1",
        "198.18.0.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "::127.0.0.1",  # IPv4-compatible (deprecated)
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2001:db8::1",
        "2001::1",  # Teredo
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    """Spec (MCP security best practices §SSRF): no private, loopback, link-local, etc."""
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "160.79.104.10", "2606:4700::1111", "2001:4860:4860::8888",
     "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"],
)  # fmt: skip
def test_public_addresses_are_allowed(address: str) -> None:
    """Contract: ordinary internet addresses, and IPv6 forms embedding one, are fetchable."""
    assert is_public_address(ipaddress.ip_address(address))


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/client.json",
        "https://localhost/client.json",
        "https://[::1]/client.json",
        "https://10.0.0.1/client.json",
        "https://169.254.169.254/latest/meta-data",
        "https://[::ffff:192.168.0.1]/client.json",
        "https://2130706433/client.json",  # 127.0.0.1 as one decimal number
    ],
)
async def test_real_fetcher_refuses_non_public_hosts_before_connecting(
    http: aiohttp.ClientSession, url: str
) -> None:
    """Spec (MCP security §CIMD: SSRF); the production resolver and policy, no request sent."""
    with pytest.raises(DocumentFetchError, match="non-public address"):
        await HttpsDocumentFetcher(http).fetch(url)


@pytest.mark.parametrize(
    "url", ["http://app.example/client.json", "ftp://app.example/c", "https://u@app.example/c"]
)
async def test_real_fetcher_refuses_anything_but_plain_https(
    http: aiohttp.ClientSession, url: str
) -> None:
    """Spec (CIMD draft §3; MCP security §Communication Security): https only."""
    with pytest.raises(DocumentFetchError, match="only https"):
        await HttpsDocumentFetcher(http).fetch(url)


async def test_loopback_server_is_refused_and_sees_no_request(
    http: aiohttp.ClientSession, cimd_server: CimdServer
) -> None:
    """Spec (MCP security §CIMD: SSRF): a listening loopback server is never contacted."""
    with pytest.raises(DocumentFetchError, match="non-public"):
        await HttpsDocumentFetcher(http).fetch(f"https://127.0.0.1:{cimd_server.port}/client.json")
    assert cimd_server.hosts_seen == []


def _loopback_allowed(address: IpAddress) -> bool:
    return address.is_loopback


@pytest.fixture
async def tls_http(cimd_server: CimdServer) -> AsyncIterator[aiohttp.ClientSession]:
    """A session trusting the test CA, like the gate's session trusts public CAs."""
    connector = aiohttp.TCPConnector(ssl=cimd_server.client_ssl)
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


def _test_fetcher(
    http: aiohttp.ClientSession, *, timeout_seconds: float = 5.0
) -> HttpsDocumentFetcher:
    return HttpsDocumentFetcher(
        http,
        resolve=resolve_test_host,
        is_allowed_address=_loopback_allowed,
        timeout_seconds=timeout_seconds,
    )


async def test_document_is_fetched_from_the_vetted_address_with_its_host_name(
    tls_http: aiohttp.ClientSession, cimd_server: CimdServer
) -> None:
    """Spec (MCP security §CIMD: pin DNS): connect to the checked IP; TLS and Host use the name.

    `cimd.test` does not resolve on this machine, so the fetch succeeding proves the
    connection went to the address the fetcher vetted; the certificate check passing
    proves TLS verified the host name, not the IP.
    """
    url = cimd_server.url("/client.json")
    fetched = await _test_fetcher(tls_http).fetch(url)
    assert json.loads(fetched.body)["client_id"] == url
    assert fetched.cache_control == "max-age=600"
    assert cimd_server.hosts_seen == [f"cimd.test:{cimd_server.port}"]


async def test_certificate_for_another_name_is_refused(
    tls_http: aiohttp.ClientSession, cimd_server: CimdServer
) -> None:
    """Spec (RFC 9110 §4.3.4): the certificate must name the host of the URL."""
    with pytest.raises(DocumentFetchError, match="connection failed"):
        await _test_fetcher(tls_http).fetch(f"https://other.test:{cimd_server.port}/client.json")
    assert cimd_server.hosts_seen == []


async def test_redirect_is_not_followed(
    tls_http: aiohttp.ClientSession, cimd_server: CimdServer
) -> None:
    """Spec (MCP security best practices §SSRF): no redirects."""
    with pytest.raises(DocumentFetchError, match="redirects are not followed"):
        await _test_fetcher(tls_http).fetch(cimd_server.url("/redirect"))
    assert len(cimd_server.hosts_seen) == 1


async def test_oversized_document_is_refused(
    tls_http: aiohttp.ClientSession, cimd_server: CimdServer
) -> None:
    """Spec (MCP security §CIMD: cap size); policy: 16 KiB, counted as it streams."""
    with pytest.raises(DocumentFetchError, match="larger than 16384 bytes"):
        await _test_fetcher(tls_http).fetch(cimd_server.url("/big"))


async def test_error_status_is_refused(
    tls_http: aiohttp.ClientSession, cimd_server: CimdServer
) -> None:
    """Spec (CIMD draft §4.2): a failed fetch aborts."""
    with pytest.raises(DocumentFetchError, match="HTTP status 404"):
        await _test_fetcher(tls_http).fetch(cimd_server.url("/missing"))


async def test_slow_server_is_cut_off_at_the_time_limit(
    tls_http: aiohttp.ClientSession, cimd_server: CimdServer
) -> None:
    """Spec (MCP security §CIMD: cap time); a server that never answers fails the fetch."""
    with pytest.raises(DocumentFetchError, match=r"no answer within 0\.3 s"):
        await _test_fetcher(tls_http, timeout_seconds=0.3).fetch(cimd_server.url("/hang"))


async def test_unresolvable_host_is_refused(tls_http: aiohttp.ClientSession) -> None:
    """Contract: a name that does not resolve is a fetch failure with a clear reason."""
    with pytest.raises(DocumentFetchError, match="does not resolve"):
        await _test_fetcher(tls_http).fetch("https://nowhere.test/client.json")


async def test_resolver_with_the_real_fetcher_builds_the_client(
    tls_http: aiohttp.ClientSession, cimd_server: CimdServer
) -> None:
    """End to end within the AS: URL client id → TLS fetch → validated, cached client."""
    resolver = CimdResolver(_test_fetcher(tls_http))
    url = cimd_server.url("/client.json")
    client = await resolver.resolve(url)
    assert client.client_name == "Test Client"
    assert client.redirect_uris == ("http://127.0.0.1/callback",)
    await resolver.resolve(url)
    assert len(cimd_server.hosts_seen) == 1
