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
# Requests that name what they act on, and so the member that answers them.
ROUTED_BY_NAME = ("tools/call", "prompts/get")
ROUTED_BY_URI = ("resources/read", "resources/subscribe", "resources/unsubscribe")
ROUTED_METHODS = (*ROUTED_BY_NAME, *ROUTED_BY_URI, "completion/complete")


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

    def route(self, method: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """(member, the params in the member's own terms) of a routed request, or None."""
        if method in ROUTED_BY_NAME:
            split = self.split_name(params.get("name"))
            if split is not None:
                return split[0], {**params, "name": split[1]}
        elif method in ROUTED_BY_URI:
            split = self.split_uri(params.get("uri"))
            if split is not None:
                return split[0], {**params, "uri": split[1]}
        elif method == "completion/complete":
            ref = params.get("ref")
            if isinstance(ref, dict):
                # MCP 2025-11-25 completion: a prompt by name, a resource template by uri.
                key = "name" if ref.get("type") == "ref/prompt" else "uri"
                value = ref.get(key)
                split = self.split_name(value) if key == "name" else self.split_uri(value)
                if split is not None:
                    return split[0], {**params, "ref": {**ref, key: split[1]}}
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
