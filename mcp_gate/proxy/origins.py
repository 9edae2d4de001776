"""Where a backend's requests may go: the origin of its configured URL, and nowhere else.

The configured headers of a server (API keys, the user's token) are meant for that server.
A URL the gate did not take from the config, as it stands, is checked against the
configured origin before anything is sent to it: the legacy SSE `endpoint` event, which
the backend names itself (MCP 2024-11-05 transports §HTTP with SSE), and a `url` rendered
with a user's token (`url_shape`, which also sees a path shortened by `..`). URLs are read
as aiohttp will request them (yarl's parse: scheme, host, port with its default, dot
segments resolved), so no URL parser differential lies between the check and the request.
Pure.
"""

from __future__ import annotations

from urllib.parse import urljoin

from yarl import URL

Origin = tuple[str, str, int]


def origin_of(url: str) -> Origin | None:
    """(scheme, host, port) of an absolute http(s) URL; None for anything else."""
    try:
        parsed = URL(url)
        port = parsed.port
    except ValueError:
        return None
    if parsed.scheme not in ("http", "https") or not parsed.host or port is None:
        return None
    return parsed.scheme, parsed.host.lower(), port


def url_shape(url: str) -> tuple[Origin, int] | None:
    """The origin and the number of path segments aiohttp will request (after it resolves
    `.` and `..` segments), or None for a URL it would not take."""
    origin = origin_of(url)
    return None if origin is None else (origin, len(URL(url).raw_parts))


def is_same_origin(url: str, configured: str) -> bool:
    origin = origin_of(url)
    return origin is not None and origin == origin_of(configured)


def resolve_endpoint(stream_url: str, data: str) -> str | None:
    """The URL an `endpoint` event names, resolved against its stream's URL; None when it
    leaves the stream's origin.

    policy: the configured credentials go to the backend's own origin only.
    """
    endpoint = urljoin(stream_url, data.strip())
    return endpoint if is_same_origin(endpoint, stream_url) else None
