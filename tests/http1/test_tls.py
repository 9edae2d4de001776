"""HTTPS backends: the certificate is checked, SNI names the host, connections are kept.

The backend is the aiohttp shapes server behind a certificate for `localhost` from a test
CA made for the test (tests/fixtures/tls.py); the client trusts that CA only where a test
says so.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from pytest_aiohttp import AiohttpServer

from mcp_gate.http1 import Client, UpstreamConnectError
from tests.fixtures.tls import LoopbackTls, issue_loopback_tls
from tests.http1.conftest import BODY_TIMEOUT_SECONDS, TEST_TIMEOUTS
from tests.http1.shapes_server import STATE, ShapesState, build_app

TLS_HOST = "localhost"


@pytest.fixture
def tls(tmp_path: Path) -> LoopbackTls:
    return issue_loopback_tls(tmp_path, TLS_HOST)


@pytest.fixture
async def https_shapes(
    aiohttp_server: AiohttpServer, tls: LoopbackTls
) -> tuple[int, ShapesState, list[str | None]]:
    """The shapes server over TLS: its port, its state, and the SNI names it was sent."""
    names: list[str | None] = []

    def record(_: ssl.SSLObject, name: str | None, __: ssl.SSLContext) -> None:
        names.append(name)

    tls.server.sni_callback = record
    app = build_app()
    server = await aiohttp_server(app, ssl=tls.server)
    assert server.port is not None
    return server.port, app[STATE], names


async def test_https_checks_the_certificate_sends_sni_and_keeps_the_connection(
    tls: LoopbackTls, https_shapes: tuple[int, ShapesState, list[str | None]]
):
    """RFC 9110 §4.3.4 (verify the server), RFC 6066 §3 (SNI), RFC 9112 §9.3 (persistence)."""
    port, state, names = https_shapes
    async with Client(timeouts=TEST_TIMEOUTS, ssl_context=tls.client) as http:
        for _ in range(3):
            response = await http.request("GET", f"https://{TLS_HOST}:{port}/json")
            assert response.status == 200
            await response.read(max_bytes=4096, timeout_seconds=BODY_TIMEOUT_SECONDS)
        async with await http.request("GET", f"https://{TLS_HOST}:{port}/chunked") as streamed:
            assert len(b"".join([chunk async for chunk in streamed])) == 10 * 1000
    assert names == [TLS_HOST]
    assert state.connections == 1


async def test_certificate_from_an_unknown_ca_is_refused(
    https_shapes: tuple[int, ShapesState, list[str | None]],
):
    """RFC 9110 §4.3.4: by default the system's CAs decide; a test CA is not one of them."""
    port, state, _ = https_shapes
    async with Client(timeouts=TEST_TIMEOUTS) as http:
        with pytest.raises(UpstreamConnectError, match="TLS certificate refused") as raised:
            await http.request("GET", f"https://{TLS_HOST}:{port}/json")
    assert raised.value.status == 502
    assert state.peer_ports == []


async def test_certificate_for_another_name_is_refused(
    tls: LoopbackTls, https_shapes: tuple[int, ShapesState, list[str | None]]
):
    """RFC 9110 §4.3.4: the certificate must name the host the URL names."""
    port, state, _ = https_shapes
    async with Client(timeouts=TEST_TIMEOUTS, ssl_context=tls.client) as http:
        with pytest.raises(UpstreamConnectError, match="TLS certificate refused"):
            await http.request("GET", f"https://127.0.0.1:{port}/json")
    assert state.peer_ports == []
