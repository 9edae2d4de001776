"""Client ID Metadata Documents: recognising, validating and caching them.

The fetcher here is a boundary fake serving fixture documents (tests cannot reach https on
the internet, and both SDKs require an https CIMD client_id); the real fetcher is tested in
test_cimd_fetcher.py.
"""

from __future__ import annotations

import json

import pytest

from mcp_gate.crypto.digest import token_digest
from mcp_gate.oauth.cimd import (
    CACHE_DEFAULT_SECONDS,
    CACHE_MAX_SECONDS,
    CACHE_MIN_SECONDS,
    CIMD_CACHE_KIND,
    CimdResolver,
    DocumentFetchError,
    FetchedDocument,
    cache_seconds,
    is_cimd_client_id,
)
from mcp_gate.oauth.errors import InvalidClient
from mcp_gate.oauth.redirect_uris import redirect_uri_matches
from mcp_gate.store.memory import MemoryStore

CLAUDE_CODE = "https://claude.ai/oauth/claude-code-client-metadata"
CLAUDE_CODE_DOCUMENT = {
    "client_id": CLAUDE_CODE,
    "client_name": "Claude Code",
    "client_uri": "https://claude.ai",
    "redirect_uris": ["http://localhost/callback", "http://127.0.0.1/callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
}


class FixtureFetcher:
    """Serves fixture documents by URL; 404 for the rest. Counts fetches."""

    def __init__(self) -> None:
        self.documents: dict[str, FetchedDocument] = {}
        self.fetched: list[str] = []

    def serve(self, url: str, document: object, cache_control: str = "") -> None:
        self.documents[url] = FetchedDocument(json.dumps(document).encode(), cache_control)

    async def fetch(self, url: str) -> FetchedDocument:
        self.fetched.append(url)
        if url not in self.documents:
            raise DocumentFetchError("HTTP status 404")
        return self.documents[url]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fetcher() -> FixtureFetcher:
    return FixtureFetcher()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def resolver(fetcher: FixtureFetcher, clock: FakeClock) -> CimdResolver:
    return CimdResolver(fetcher, MemoryStore(clock=clock), clock=clock)


@pytest.mark.parametrize(
    ("client_id", "expected"),
    [
        (CLAUDE_CODE, True),
        ("https://app.example:8443/oauth/client.json", True),
        ("https://app.example/client?v=2", True),
        ("http://app.example/client.json", False),
        ("https://app.example", False),
        ("https://app.example/", False),
        ("https://app.example/client.json#x", False),
        ("https://user@app.example/client.json", False),
        ("https://app.example/a/../client.json", False),
        ("https://app.example/./client.json", False),
        ("https://app.example/client json", False),
        ("https://app.example:bad/client.json", False),
        ("abcDEF123-_", False),
        ("", False),
    ],
)
def test_cimd_client_ids_are_https_urls_with_a_path(client_id: str, expected: bool) -> None:
    """Spec (CIMD draft §3): https, a path, no fragment, no userinfo, no dot segments."""
    assert is_cimd_client_id(client_id) is expected


async def test_document_resolves_to_a_public_client(
    resolver: CimdResolver, fetcher: FixtureFetcher, clock: FakeClock
) -> None:
    """Spec (MCP client registration §CIMD; draft §4.1): a valid document is a client."""
    fetcher.serve(CLAUDE_CODE, CLAUDE_CODE_DOCUMENT)
    client = await resolver.resolve(CLAUDE_CODE)
    assert client.client_id == CLAUDE_CODE
    assert client.source == "cimd"
    assert client.token_endpoint_auth_method == "none"
    assert client.client_secret_digest == ""
    assert client.client_name == "Claude Code"
    assert client.client_uri == "https://claude.ai"
    assert client.issued_at == int(clock.now)
    assert client.redirect_uris == ("http://localhost/callback", "http://127.0.0.1/callback")


async def test_port_less_loopback_uris_of_a_document_match_any_port(
    resolver: CimdResolver, fetcher: FixtureFetcher
) -> None:
    """Claude Code's CIMD document lists no port, and it uses ephemeral ones (RFC 8252 §7.3)."""
    fetcher.serve(CLAUDE_CODE, CLAUDE_CODE_DOCUMENT)
    client = await resolver.resolve(CLAUDE_CODE)
    assert redirect_uri_matches(client.redirect_uris, "http://localhost:49152/callback")
    assert not redirect_uri_matches(client.redirect_uris, "http://localhost:49152/other")


async def test_document_whose_client_id_differs_from_its_url_is_refused(
    resolver: CimdResolver, fetcher: FixtureFetcher
) -> None:
    """Spec (CIMD draft §4.1; MCP security §CIMD): client_id MUST equal the URL exactly."""
    for other in [CLAUDE_CODE + "/", "https://evil.example/oauth/claude-code-client-metadata"]:
        fetcher.serve(CLAUDE_CODE, {**CLAUDE_CODE_DOCUMENT, "client_id": other})
        with pytest.raises(InvalidClient, match="does not equal its URL"):
            await resolver.resolve(CLAUDE_CODE)


async def test_resolved_document_is_served_from_the_cache(
    resolver: CimdResolver, fetcher: FixtureFetcher
) -> None:
    """Spec (MCP client registration §CIMD: SHOULD cache): one fetch for many requests."""
    fetcher.serve(CLAUDE_CODE, CLAUDE_CODE_DOCUMENT, "public, max-age=600")
    first = await resolver.resolve(CLAUDE_CODE)
    for _ in range(3):
        assert await resolver.resolve(CLAUDE_CODE) == first
    assert fetcher.fetched == [CLAUDE_CODE]


async def test_cache_follows_max_age_within_bounds(fetcher: FixtureFetcher) -> None:
    """Spec (RFC 9111 §5.2.2.1) within our policy bounds: max-age=10 is kept 60 s."""
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    resolver = CimdResolver(fetcher, store, clock=clock)
    fetcher.serve(CLAUDE_CODE, CLAUDE_CODE_DOCUMENT, "max-age=10")
    await resolver.resolve(CLAUDE_CODE)
    clock.now += CACHE_MIN_SECONDS - 1
    await resolver.resolve(CLAUDE_CODE)
    assert len(fetcher.fetched) == 1
    clock.now += 2
    await resolver.resolve(CLAUDE_CODE)
    assert len(fetcher.fetched) == 2


async def test_no_store_document_is_fetched_every_time(
    resolver: CimdResolver, fetcher: FixtureFetcher
) -> None:
    """Spec (RFC 9111 §5.2.2.5): no-store is never kept."""
    fetcher.serve(CLAUDE_CODE, CLAUDE_CODE_DOCUMENT, "no-store")
    await resolver.resolve(CLAUDE_CODE)
    await resolver.resolve(CLAUDE_CODE)
    assert len(fetcher.fetched) == 2


async def test_resolver_without_a_store_caches_in_memory(fetcher: FixtureFetcher) -> None:
    """Contract: a resolver made with only a fetcher still caches."""
    resolver = CimdResolver(fetcher)
    fetcher.serve(CLAUDE_CODE, CLAUDE_CODE_DOCUMENT)
    await resolver.resolve(CLAUDE_CODE)
    await resolver.resolve(CLAUDE_CODE)
    assert len(fetcher.fetched) == 1


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("", CACHE_DEFAULT_SECONDS),
        ("public", CACHE_DEFAULT_SECONDS),
        ("max-age=600", 600),
        ('public, Max-Age="900"', 900),
        ("max-age=0", CACHE_MIN_SECONDS),
        ("max-age=-5", CACHE_MIN_SECONDS),
        ("max-age=abc", CACHE_MIN_SECONDS),
        ("max-age=31536000, immutable", CACHE_MAX_SECONDS),
        ("no-store", None),
        ("max-age=600, no-store", None),
        ("no-cache", None),
    ],
)
def test_cache_lifetime_comes_from_cache_control(header: str, seconds: int | None) -> None:
    """Spec (RFC 9111 §5.2.2) with policy bounds: 60 s to 24 h, 1 h when unsaid."""
    assert cache_seconds(header) == seconds


async def test_invalid_document_is_not_cached(
    resolver: CimdResolver, fetcher: FixtureFetcher
) -> None:
    """Spec (CIMD draft §4.3): invalid documents and errors MUST NOT be cached."""
    fetcher.documents[CLAUDE_CODE] = FetchedDocument(b"{not json", "max-age=3600")
    with pytest.raises(InvalidClient, match="not valid JSON"):
        await resolver.resolve(CLAUDE_CODE)
    fetcher.serve(CLAUDE_CODE, CLAUDE_CODE_DOCUMENT)
    assert (await resolver.resolve(CLAUDE_CODE)).client_name == "Claude Code"


async def test_failed_fetch_is_refused_with_its_reason_and_not_cached(
    resolver: CimdResolver, fetcher: FixtureFetcher
) -> None:
    """Spec (CIMD draft §4.2 abort on failure, §4.3 no caching of errors)."""
    with pytest.raises(InvalidClient, match="could not be fetched: HTTP status 404"):
        await resolver.resolve(CLAUDE_CODE)
    with pytest.raises(InvalidClient):
        await resolver.resolve(CLAUDE_CODE)
    assert len(fetcher.fetched) == 2


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"token_endpoint_auth_method": "private_key_jwt"}, "private_key_jwt"),
        ({"token_endpoint_auth_method": "client_secret_basic"}, "must be none"),
        ({"client_secret": "shh"}, "client_secret"),
        ({"redirect_uris": None}, "redirect_uris is required"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "javascript"),
        ({"redirect_uris": ["http://evil.example/cb"]}, "no usable redirect URI"),
        ({"grant_types": ["client_credentials"]}, "grant_types"),
    ],
)
async def test_unusable_document_is_refused_with_a_clear_reason(
    resolver: CimdResolver, fetcher: FixtureFetcher, change: dict[str, object], reason: str
) -> None:
    """Spec (MCP security §CIMD: validate the document); policy: public clients only."""
    fetcher.serve(CLAUDE_CODE, {**CLAUDE_CODE_DOCUMENT, **change})
    with pytest.raises(InvalidClient, match=reason):
        await resolver.resolve(CLAUDE_CODE)


@pytest.mark.parametrize("body", [b"[]", b'"x"', b"null", b"\xff\xfe"])
async def test_document_that_is_not_a_json_object_is_refused(
    resolver: CimdResolver, fetcher: FixtureFetcher, body: bytes
) -> None:
    """Spec (CIMD draft §4.1): the document is a JSON object."""
    fetcher.documents[CLAUDE_CODE] = FetchedDocument(body)
    with pytest.raises(InvalidClient, match="JSON"):
        await resolver.resolve(CLAUDE_CODE)


async def test_non_url_client_id_is_refused_without_fetching(
    resolver: CimdResolver, fetcher: FixtureFetcher
) -> None:
    """Contract: only URL-shaped ids reach the fetcher."""
    with pytest.raises(InvalidClient, match="not a valid client metadata document URL"):
        await resolver.resolve("http://app.example/client.json")
    assert fetcher.fetched == []


async def test_cache_entry_is_keyed_by_a_digest_of_the_url(fetcher: FixtureFetcher) -> None:
    """Contract (store/protocols.py): keys are ids or digests; the TTL is the policy one."""
    store = MemoryStore()
    resolver = CimdResolver(fetcher, store)
    fetcher.serve(CLAUDE_CODE, CLAUDE_CODE_DOCUMENT, "max-age=600")
    await resolver.resolve(CLAUDE_CODE)
    assert await store.ttl(CIMD_CACHE_KIND, token_digest(CLAUDE_CODE)) == pytest.approx(600)
