"""Shared pieces of the scale tests: the servers every cluster serves, as config documents."""

from __future__ import annotations

from typing import Any

from tests.fixtures.mcp_servers import py_stdio_command
from tests.fixtures.stdio_backends import ALICE_TOKEN, BOB_TOKEN

SERVICE_AUTHS = [
    {"type": "bearer", "tokens": [ALICE_TOKEN]},
    {"type": "bearer", "tokens": [BOB_TOKEN]},
]


def py_stdio_document() -> dict[str, Any]:
    command, args = py_stdio_command()
    return {
        "transportType": "stdio",
        "command": command,
        "args": args,
        "serviceAuths": SERVICE_AUTHS,
    }


def remote_document(transport: str, url: str) -> dict[str, Any]:
    return {"transportType": transport, "url": url, "serviceAuths": SERVICE_AUTHS}
