"""Every path the gate serves, once, under the path of `baseURL` (DESIGN §2)."""

from __future__ import annotations

from aiohttp import web

from mcp_gate.web import mcp_handlers, ops_handlers


def add_routes(app: web.Application, base_path: str) -> None:
    app.router.add_get(f"{base_path}/health", ops_handlers.health)
    app.router.add_get(f"{base_path}/ready", ops_handlers.ready)
    mcp = f"{base_path}/{{server}}/mcp"
    app.router.add_post(mcp, mcp_handlers.handle_mcp)
    app.router.add_get(mcp, mcp_handlers.handle_mcp, allow_head=False)
    app.router.add_delete(mcp, mcp_handlers.handle_mcp)
    app.router.add_get(f"{base_path}/{{server}}/sse", mcp_handlers.handle_sse, allow_head=False)
    app.router.add_post(f"{base_path}/{{server}}/message", mcp_handlers.handle_message)
