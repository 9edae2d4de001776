"""Prompts, resources and resource templates of every member through the aggregate's
namespace, read back through it, across the members' pages (docs/config.md)."""

from __future__ import annotations

import mcp_types as types
import pytest

from tests.aggregate.members import four_members, names, signed_in_client, text_of
from tests.fixtures.mcp_clients import EVERYTHING_SERVER, PY_SERVER


@pytest.fixture
def servers(everything_streamable_server, py_sse_server, py_streamable_server):
    return four_members(everything_streamable_server, py_sse_server, py_streamable_server)


def _text(result: types.ReadResourceResult) -> str:
    return "".join(c.text for c in result.contents if isinstance(c, types.TextResourceContents))


async def test_prompts_of_members_list_and_get_under_their_names(
    oauth_gate_factory, oidc_provider, servers
):
    """docs/config.md: prompts namespaced like tools; prompts/get reaches the member."""
    await oidc_provider.set_next_user(email="alice@example.com", hd="example.com")
    async with (
        oauth_gate_factory(servers) as gate,
        signed_in_client(gate.url("/all/mcp")) as client,
    ):
        listed = names((await client.list_prompts()).prompts)
        greeting = text_of(await client.get_prompt("py.greet", {"name": "Ada"}))
    assert "py.greet" in listed
    assert [name for name in listed if name.startswith("everything.")]
    assert "Ada" in greeting


async def test_resources_of_members_list_and_read_back_under_the_uri_prefix(
    oauth_gate_factory, oidc_provider, servers
):
    """docs/config.md: resource URIs carry the member in a prefix the gate maps back; every
    page of a member that pages (server-everything) is in the aggregate's listing."""
    await oidc_provider.set_next_user(email="alice@example.com", hd="example.com")
    async with (
        oauth_gate_factory(servers) as gate,
        signed_in_client(gate.url("/all/mcp")) as client,
    ):
        uris: list[str] = []
        cursor = None
        for _ in range(50):
            page = await client.list_resources(cursor=cursor)
            uris.extend(str(resource.uri) for resource in page.resources)
            cursor = page.next_cursor
            if cursor is None:
                break
        greeting = await client.read_resource(f"mcp-gate://py/{PY_SERVER.resource_uri}")
        templates = [
            t.uri_template for t in (await client.list_resource_templates()).resource_templates
        ]
        dynamic = await client.read_resource(
            f"mcp-gate://everything/{EVERYTHING_SERVER.resource_uri}"
        )
    assert f"mcp-gate://py/{PY_SERVER.resource_uri}" in uris
    assert len([uri for uri in uris if uri.startswith("mcp-gate://everything/")]) > 1
    assert all(uri.startswith(("mcp-gate://py/", "mcp-gate://everything/")) for uri in uris)
    assert _text(greeting).startswith(PY_SERVER.resource_text_prefix)
    assert [str(c.uri) for c in greeting.contents] == [f"mcp-gate://py/{PY_SERVER.resource_uri}"]
    assert any(t.startswith("mcp-gate://everything/demo://") for t in templates)
    assert _text(dynamic).startswith(EVERYTHING_SERVER.resource_text_prefix)
