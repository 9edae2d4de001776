"""`Strict-Transport-Security` on every response of a gate whose baseURL is https, never on http."""

from __future__ import annotations

import aiohttp
import pytest

from tests.fixtures.gate import make_config, remote, running_gate
from tests.fixtures.mcp_servers import RunningServer
from tests.fixtures.ports import free_port

HSTS = "max-age=31536000; includeSubDomains"
TIMEOUT = aiohttp.ClientTimeout(total=30)


async def _headers_of_every_kind_of_response(
    base_url: str, echo: RunningServer
) -> dict[str, tuple[int, str | None]]:
    """Status and HSTS header of a page, a 404, a 502 and an SSE stream of a gate."""
    port = free_port()
    servers = {
        "stream": remote("stream", "streamable-http", f"{echo.url}/stream?events=1"),
        "dead": remote("dead", "streamable-http", f"http://127.0.0.1:{free_port()}/mcp"),
    }
    config = make_config(servers, port=port, base_url=base_url.format(port=port))
    requests = {
        "health": ("GET", "/health", {}),
        "unknown path": ("GET", "/no/such/page", {}),
        "backend down": (
            "POST",
            "/dead/mcp",
            {"json": {"jsonrpc": "2.0", "id": 1, "method": "ping"}},
        ),
        "sse stream": ("GET", "/stream/mcp", {"headers": {"Accept": "text/event-stream"}}),
    }
    seen = {}
    async with running_gate(config), aiohttp.ClientSession(timeout=TIMEOUT) as http:
        for name, (method, path, options) in requests.items():
            async with http.request(method, f"http://127.0.0.1:{port}{path}", **options) as answer:
                seen[name] = (answer.status, answer.headers.get("Strict-Transport-Security"))
    return seen


async def test_https_base_url_sends_hsts_on_every_response(echo_headers_server: RunningServer):
    """RFC 6797 §6.1: behind a TLS terminator (baseURL https), pages, errors, 404s and
    streams all carry the header; a year, subdomains included (policy)."""
    seen = await _headers_of_every_kind_of_response(
        "https://gate.example.test", echo_headers_server
    )
    assert seen == {
        "health": (200, HSTS),
        "unknown path": (404, HSTS),
        "backend down": (502, HSTS),
        "sse stream": (200, HSTS),
    }


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:{port}", "http://gate.example.test"])
async def test_http_base_url_never_sends_hsts(base_url: str, echo_headers_server: RunningServer):
    """RFC 6797 §7.2: a host reached over plain http must not send the header."""
    seen = await _headers_of_every_kind_of_response(base_url, echo_headers_server)
    assert {name: header for name, (_, header) in seen.items()} == dict.fromkeys(seen)
    assert [status for status, _ in seen.values()] == [200, 404, 502, 200]
