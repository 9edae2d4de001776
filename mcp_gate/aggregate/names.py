"""Namespacing of an aggregate: which member a tool, prompt or resource belongs to.

Tools and prompts are named `<member><delimiter><name>` (mcp-front's `postgres.query`);
resources, whose identity is a URI the client reads back, are published as
`mcp-gate://<member>/<original URI>`, a URI of its own that the Python SDK's URL type
keeps intact (the member in the authority, the original in the path), and a template
keeps its RFC 6570 variables, so an expanded template maps back the same way. A name is
split by the longest member name it starts with, so member names holding the delimiter
stay unambiguous. Pure: rewrites decoded JSON, knows nothing of sessions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

RESOURCE_SCHEME = "mcp-gate"


class Namespace:
    def __init__(self, members: Iterable[str], delimiter: str) -> None:
        # Longest first: `a.b` before `a`, so `a.b.tool` is the tool of member `a.b`.
        self.members = tuple(sorted(members, key=len, reverse=True))
        self.delimiter = delimiter

    def name(self, member: str, name: str) -> str:
        return f"{member}{self.delimiter}{name}"

    def split_name(self, name: object) -> tuple[str, str] | None:
        """(member, the member's own name), or None when no member's prefix fits."""
        if not isinstance(name, str):
            return None
        for member in self.members:
            prefix = f"{member}{self.delimiter}"
            if name.startswith(prefix) and len(name) > len(prefix):
                return member, name[len(prefix) :]
        return None

    def uri(self, member: str, uri: str) -> str:
        return f"{RESOURCE_SCHEME}://{member}/{uri}"

    def split_uri(self, uri: object) -> tuple[str, str] | None:
        if not isinstance(uri, str):
            return None
        for member in self.members:
            prefix = f"{RESOURCE_SCHEME}://{member}/"
            if uri.startswith(prefix) and len(uri) > len(prefix):
                return member, uri[len(prefix) :]
        return None

    def published(self, member: str, kind: str, item: dict[str, Any]) -> dict[str, Any]:
        """A listed tool, prompt, resource or resource template under its public name."""
        item = dict(item)
        if kind in ("tools", "prompts") and isinstance(item.get("name"), str):
            item["name"] = self.name(member, item["name"])
        elif kind == "resources" and isinstance(item.get("uri"), str):
            item["uri"] = self.uri(member, item["uri"])
        elif kind == "resourceTemplates" and isinstance(item.get("uriTemplate"), str):
            item["uriTemplate"] = self.uri(member, item["uriTemplate"])
        return item

    def published_result(self, member: str, result: object) -> object:
        """A member's result with every resource URI in it (contents of a read, resource
        links and embedded resources in tool results and prompt messages) made public."""
        return self._rewrite(member, result)

    def _rewrite(self, member: str, node: object) -> object:
        if isinstance(node, list):
            return [self._rewrite(member, item) for item in node]
        if not isinstance(node, dict):
            return node
        rewritten = {key: self._rewrite(member, value) for key, value in node.items()}
        # MCP schema: ResourceContents and ResourceLink carry `uri` beside a content field
        # or a `type: resource_link`; a tool's `name`/`title` never sit with `uri`.
        uri = node.get("uri")
        if isinstance(uri, str) and (
            node.get("type") == "resource_link" or "text" in node or "blob" in node
        ):
            rewritten["uri"] = self.uri(member, uri)
        return rewritten
