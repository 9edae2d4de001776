"""Fixtures of the HTTP/1.1 client tests: both event loops, and a client that is closed after.

Every async test in this folder runs twice, under asyncio's own event loop and under uvloop
(which the gate runs on, on Linux), through pytest-asyncio's loop-factory hook.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass

import pytest
import uvloop
from pytest_aiohttp import AiohttpServer

from mcp_gate.http1 import Client, PoolSettings, Timeouts
from tests.http1.shapes_server import STATE, ShapesState, build_app

# Bounds for waits on loopback; a healthy exchange takes milliseconds.
TEST_TIMEOUTS = Timeouts(connect_seconds=5.0, headers_seconds=5.0)
BODY_TIMEOUT_SECONDS = 5.0
MAX_BODY_BYTES = 64 * 1024 * 1024


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


@pytest.fixture
async def http() -> AsyncIterator[Client]:
    """A client with the default pool settings and short timeouts."""
    async with Client(PoolSettings(), timeouts=TEST_TIMEOUTS) as client:
        yield client


@dataclass
class ShapesServer:
    port: int
    state: ShapesState

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
async def shapes(aiohttp_server: AiohttpServer) -> ShapesServer:
    """The aiohttp shapes server (tests/http1/shapes_server.py) on a loopback port."""
    app = build_app()
    server = await aiohttp_server(app)
    assert server.port is not None
    return ShapesServer(server.port, app[STATE])
