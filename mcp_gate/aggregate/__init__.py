"""The aggregate endpoint (`type: aggregate`): the gate as one MCP server over several.

names.py       namespacing: `<member><delimiter><name>`, resource URIs under a prefix
members.py     the seam: open member server M as principal P (a message channel)
member_link.py one initialized member session of one aggregate session
discovery.py   what each member offers, cached per principal
session.py     the aggregate's MCP session: answers the client, routes to members
"""
