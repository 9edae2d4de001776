"""The request as it leaves the client, seen byte for byte by a hand-written server.

A raw server (tests/http1/raw_server.py) stands in for the backend here because the test
reads the exact request line and header lines, which real servers normalise away.
"""

from __future__ import annotations

import pytest
from multidict import CIMultiDict

from mcp_gate.http1 import Client, parse_url
from tests.http1.conftest import BODY_TIMEOUT_SECONDS
from tests.http1.raw_server import RawRequest, RawServer, answer_every_request, raw_server


async def _sent(http: Client, server: RawServer, method: str, path: str, **kw) -> RawRequest:
    response = await http.request(method, server.url(path), **kw)
    await response.read(max_bytes=1024, timeout_seconds=BODY_TIMEOUT_SECONDS)
    return server.requests[-1]


async def test_request_line_host_first_and_headers_in_the_callers_order(http: Client):
    """RFC 9112 §3, RFC 9110 §7.2: origin-form target; Host from the URL, as the first field."""
    async with raw_server(answer_every_request) as server:
        sent = await _sent(
            http, server, "GET", "/mcp?session=a%20b", headers=[("Accept", "a"), ("X-Two", "2")]
        )
    assert sent.request_line == "GET /mcp?session=a%20b HTTP/1.1"
    assert sent.header_lines == [f"Host: 127.0.0.1:{server.port}", "Accept: a", "X-Two: 2"]


async def test_given_host_and_repeated_headers_are_sent_as_given(http: Client):
    """RFC 9110 §7.2, §5.3: a caller's Host wins; a multidict's repeated field goes out twice."""
    headers = CIMultiDict([("X-Repeat", "a"), ("host", "backend.example"), ("X-Repeat", "b")])
    async with raw_server(answer_every_request) as server:
        sent = await _sent(http, server, "GET", "/", headers=headers)
    assert sent.header_lines == ["host: backend.example", "X-Repeat: a", "X-Repeat: b"]


async def test_body_is_framed_by_the_client_whatever_the_caller_says(http: Client):
    """RFC 9112 §6.2: Content-Length is the body's; a caller's framing fields are dropped."""
    async with raw_server(answer_every_request) as server:
        sent = await _sent(
            http,
            server,
            "POST",
            "/",
            headers={"Content-Length": "999", "Transfer-Encoding": "chunked"},
            body=b'{"jsonrpc":"2.0"}',
        )
        empty = await _sent(http, server, "POST", "/")
        get = await _sent(http, server, "GET", "/")
    assert sent.header_lines[1:] == ["Content-Length: 17"]
    assert sent.body == b'{"jsonrpc":"2.0"}'
    # RFC 9110 §8.6: a POST with no content still says so; a GET without content says nothing.
    assert empty.header_lines[1:] == ["Content-Length: 0"]
    assert get.header_lines[1:] == []


async def test_header_value_with_a_line_break_is_refused_before_anything_is_sent(http: Client):
    """RFC 9110 §5.5 (no CR/LF in a value): a templated token cannot smuggle a header."""
    async with raw_server(answer_every_request) as server:
        with pytest.raises(ValueError, match="'Authorization'") as raised:
            await http.request(
                "GET", server.url("/"), headers={"Authorization": "Bearer x\r\nX-Evil: 1"}
            )
        with pytest.raises(ValueError, match="token"):
            await http.request("GET", server.url("/"), headers={"Bad Name": "v"})
    assert "Bearer" not in str(raised.value)
    assert server.connections == 0


async def test_url_user_information_becomes_basic_credentials(http: Client):
    """RFC 3986 §3.2.1, RFC 7617: as the aiohttp client did, userinfo is sent as Basic auth."""
    async with raw_server(answer_every_request) as server:
        url = server.url("/").replace("://", "://ci%40example:s3cret@")
        response = await http.request("GET", url)
        await response.read(max_bytes=1024, timeout_seconds=BODY_TIMEOUT_SECONDS)
    assert server.requests[0].header_lines[1:] == ["Authorization: Basic Y2lAZXhhbXBsZTpzM2NyZXQ="]


def test_url_parts_give_origin_target_and_host_header():
    """RFC 6454 §4, RFC 9112 §3.2.1, RFC 9110 §7.2: origin, origin-form target, Host."""
    target = parse_url("HTTPS://Backend.Example/mcp/ a?x=1#frag")
    assert str(target.origin) == "https://backend.example:443"
    assert target.path == "/mcp/%20a?x=1"
    assert target.host_header == "backend.example"
    ipv6 = parse_url("http://[::1]:8080")
    assert (ipv6.origin.host, ipv6.path, ipv6.host_header) == ("::1", "/", "[::1]:8080")
    assert parse_url("http://bücher.example/").origin.host == "xn--bcher-kva.example"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://host/", "scheme"),
        ("/relative", "scheme"),
        ("http:///path", "no host"),
        ("http://host:99999/", "[Pp]ort"),
    ],
)
def test_url_that_is_not_absolute_http_is_refused(url: str, reason: str):
    """Policy: only absolute http and https URLs name a backend."""
    with pytest.raises(ValueError, match=reason):
        parse_url(url)
