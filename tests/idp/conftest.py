"""Fixtures of the idp tests: an HTTP client session and the scripted IdP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from pytest_aiohttp import AiohttpServer

from tests.idp.scripted_idp import ScriptedIdp


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """The gate's client session toward the IdP (one per test, as the app has one)."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def scripted_idp(aiohttp_server: AiohttpServer) -> ScriptedIdp:
    """A scripted IdP listening on loopback; see tests/idp/scripted_idp.py."""
    idp = ScriptedIdp()
    server = await aiohttp_server(idp.build_app())
    idp.issuer = str(server.make_url("")).rstrip("/")
    return idp
