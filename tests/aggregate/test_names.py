"""The aggregate's namespace: names and URIs split back to the member they came from."""

from __future__ import annotations

from mcp_gate.aggregate.names import Namespace


def test_the_longest_member_name_wins_when_names_share_a_prefix():
    """Policy: member names may hold the delimiter; `a.b.tool` belongs to member `a.b`."""
    names = Namespace(["a", "a.b"], ".")
    assert names.split_name("a.b.tool") == ("a.b", "tool")
    assert names.split_name("a.tool") == ("a", "tool")
    assert names.split_name("a.") is None
    assert names.split_name("c.tool") is None
    assert names.split_name(7) is None


def test_resource_uris_map_back_exactly_and_templates_keep_their_variables():
    """docs/config.md: a resource's public URI carries the original whole, after the prefix."""
    names = Namespace(["docs"], "__")
    original = "file:///srv/a%20b.txt?rev=2#top"
    assert names.split_uri(names.uri("docs", original)) == ("docs", original)
    template = names.published("docs", "resourceTemplates", {"uriTemplate": "db://t/{id}"})
    assert template["uriTemplate"] == "mcp-gate://docs/db://t/{id}"
    assert names.split_uri("mcp-gate://docs/db://t/7") == ("docs", "db://t/7")
    assert names.split_uri("mcp-gate://other/x") is None


def test_resource_uris_inside_results_are_made_public_and_tool_names_are_not():
    """Resource links and embedded resources in a result name the public URI."""
    names = Namespace(["docs"], ".")
    result = {
        "content": [
            {"type": "resource_link", "uri": "db://a", "name": "a"},
            {"type": "resource", "resource": {"uri": "db://b", "text": "b"}},
            {"type": "text", "text": "db://c"},
        ],
        "structuredContent": {"uri": "db://d"},
    }
    published = names.published_result("docs", result)
    assert published == {
        "content": [
            {"type": "resource_link", "uri": "mcp-gate://docs/db://a", "name": "a"},
            {"type": "resource", "resource": {"uri": "mcp-gate://docs/db://b", "text": "b"}},
            {"type": "text", "text": "db://c"},
        ],
        "structuredContent": {"uri": "db://d"},
    }
