"""The client repository and client authentication at the token endpoint."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest
from mcp.client.auth.oauth2 import OAuthContext
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata

from mcp_gate.oauth.cimd import CimdResolver, DocumentFetchError, FetchedDocument
from mcp_gate.oauth.clients import (
    CLIENT_KIND,
    CLIENT_TTL_SECONDS,
    ClientRepository,
    authenticate_client,
    build_static_client,
    parse_client_credentials,
)
from mcp_gate.oauth.errors import InvalidClient, InvalidRequest
from mcp_gate.oauth.models import Client
from mcp_gate.oauth.registration import register_client
from mcp_gate.store.memory import MemoryStore

DAY = 24 * 3600.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class NoDocuments:
    async def fetch(self, url: str) -> FetchedDocument:
        raise DocumentFetchError("HTTP status 404")


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def registered(method: str) -> tuple[Client, str | None]:
    client, secret, _ = register_client(
        {"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": method},
        now=0,
    )
    return client, secret


async def test_saved_client_loads_back_equal() -> None:
    """Contract: save then load returns the same record."""
    repository = ClientRepository(MemoryStore())
    client, _ = registered("client_secret_post")
    await repository.save(client)
    assert await repository.load(client.client_id) == client


async def test_unknown_and_malformed_client_ids_load_as_none() -> None:
    """Contract: None for anything not registered, without trusting the id's shape."""
    repository = ClientRepository(MemoryStore())
    for client_id in ["", "nope", "a:b", "x" * 500, "https://a.example/client.json"]:
        assert await repository.load(client_id) is None


async def test_unused_client_expires_after_90_days() -> None:
    """Policy (claude.ai registers on every connection): DCR clients nobody uses are
    garbage-collected."""
    clock = FakeClock()
    repository = ClientRepository(MemoryStore(clock=clock))
    client, _ = registered("none")
    await repository.save(client)
    clock.now += CLIENT_TTL_SECONDS - 1
    assert await repository.load(client.client_id) is not None
    clock.now += CLIENT_TTL_SECONDS + 1
    assert await repository.load(client.client_id) is None


async def test_client_in_use_is_renewed_and_never_expires() -> None:
    """Policy: loading renews the 90 days, so an active client keeps working."""
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    repository = ClientRepository(store)
    client, _ = registered("none")
    await repository.save(client)
    for _ in range(10):  # 10 x 30 days, used once a month
        clock.now += 30 * DAY
        assert await repository.load(client.client_id) == client
    assert await store.ttl(CLIENT_KIND, client.client_id) == CLIENT_TTL_SECONDS


async def test_url_client_id_goes_to_the_cimd_resolver() -> None:
    """Spec (MCP client registration §CIMD): URL client ids are resolved, not looked up."""
    repository = ClientRepository(MemoryStore(), CimdResolver(NoDocuments()))
    with pytest.raises(InvalidClient, match="HTTP status 404"):
        await repository.load("https://app.example/oauth/client.json")


async def test_only_dcr_clients_are_saved() -> None:
    """Contract: CIMD clients live in the CIMD cache, not as registrations."""
    cimd = Client(client_id="https://a.example/c.json", redirect_uris=("https://a.example/cb",))
    with pytest.raises(ValueError, match="cimd"):
        await ClientRepository(MemoryStore()).save(Client(**{**cimd.__dict__, "source": "cimd"}))


VSCODE_REDIRECTS = ("http://127.0.0.1:33418/", "https://vscode.dev/redirect")
STATIC_SECRET = "0123456789abcdef0123456789abcdef"


def vscode(secret: str | None = None) -> Client:
    return build_static_client("vscode", "Visual Studio Code", VSCODE_REDIRECTS, secret)


def test_static_clients_are_public_without_a_secret_and_confidential_with_one() -> None:
    """MCP 2025-11-25 authorization §Preregistration; the record holds the secret's digest, never
    the secret."""
    public, confidential = vscode(), vscode(STATIC_SECRET)
    assert (public.token_endpoint_auth_method, public.client_secret_digest) == ("none", "")
    assert confidential.token_endpoint_auth_method == "client_secret_basic"
    assert STATIC_SECRET not in repr(confidential)
    assert public.source == confidential.source == "static"
    assert public.display_name == "Visual Studio Code"


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_static_confidential_client_authenticates_only_with_its_secret(method: str) -> None:
    """Spec (RFC 6749 §2.3.1, §5.2 invalid_client): the configured secret, by either method."""
    client = vscode(STATIC_SECRET)
    authenticate_client(client, method, STATIC_SECRET)
    for presented in ("wrong", "", None):
        with pytest.raises(InvalidClient):
            authenticate_client(client, method, presented)
    with pytest.raises(InvalidClient):
        authenticate_client(client, "none", None)


async def test_static_client_loads_without_the_store_and_never_expires() -> None:
    """Policy: pre-registered clients live in memory for the life of the process."""
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    dotted = build_static_client("team.tool~2", "Team tool", VSCODE_REDIRECTS, None)
    repository = ClientRepository(store, static=[vscode(), dotted])
    assert await repository.load("vscode") == vscode()
    clock.now += 10 * CLIENT_TTL_SECONDS
    assert await repository.load("vscode") == vscode()
    assert await repository.load("team.tool~2") == dotted  # not DCR-shaped, still found
    assert await store.get(CLIENT_KIND, "vscode") is None


async def test_static_client_wins_over_a_stored_registration_with_its_id() -> None:
    """Policy: `load` looks at static clients first, so a stored record cannot shadow one."""
    store = MemoryStore()
    dcr, _ = registered("none")
    impostor = Client(
        **{**dcr.__dict__, "client_id": "vscode", "redirect_uris": ("https://x.example/cb",)}
    )
    await ClientRepository(store).save(impostor)
    assert await ClientRepository(store, static=[vscode()]).load("vscode") == vscode()


async def test_registration_cannot_take_a_static_id() -> None:
    """Policy: a DCR client is never saved under a pre-registered client's id."""
    repository = ClientRepository(MemoryStore(), static=[vscode()])
    dcr, _ = registered("none")
    with pytest.raises(ValueError, match="pre-registered"):
        await repository.save(Client(**{**dcr.__dict__, "client_id": "vscode"}))
    with pytest.raises(ValueError, match="static"):
        await repository.save(vscode())


async def test_dcr_and_cimd_clients_still_load_beside_static_ones() -> None:
    """Contract: static clients add to DCR and CIMD, they do not replace them."""
    repository = ClientRepository(MemoryStore(), CimdResolver(NoDocuments()), static=[vscode()])
    dcr, _ = registered("none")
    await repository.save(dcr)
    assert await repository.load(dcr.client_id) == dcr
    assert await repository.load("vscode-insiders") is None
    with pytest.raises(InvalidClient, match="HTTP status 404"):
        await repository.load("https://app.example/oauth/client.json")


@pytest.mark.parametrize(
    ("clients", "reason"),
    [
        ([vscode(), vscode(STATIC_SECRET)], "share the id"),
        ([registered("none")[0]], "not a pre-registered"),
        (
            [build_static_client("https://a.example/c.json", "A", ("https://a.example/cb",), None)],
            "not a pre-registered",
        ),
    ],
    ids=["duplicate-id", "not-static", "url-id"],
)
def test_repository_refuses_static_clients_that_break_its_rules(
    clients: list[Client], reason: str
) -> None:
    """Contract: unique ids, built by `build_static_client`, never a CIMD URL."""
    with pytest.raises(ValueError, match=reason):
        ClientRepository(MemoryStore(), static=clients)


@pytest.mark.parametrize(
    ("authorization", "form", "expected"),
    [
        (basic("id-1", "s3cr_t"), {}, ("id-1", "s3cr_t", "client_secret_basic")),
        (basic("id-1", "s3cr_t"), {"client_id": "id-1"}, ("id-1", "s3cr_t", "client_secret_basic")),
        (
            basic(quote("a b:c", safe=""), quote("p@ss:w/rd", safe="")),
            {},
            ("a b:c", "p@ss:w/rd", "client_secret_basic"),
        ),
        ("basic " + base64.b64encode(b"id-1:").decode(), {}, ("id-1", "", "client_secret_basic")),
        (None, {"client_id": "id-1", "client_secret": "s"}, ("id-1", "s", "client_secret_post")),
        (None, {"client_id": "id-1"}, ("id-1", None, "none")),
        (
            None,
            {"client_id": "https://a.example/c.json"},
            ("https://a.example/c.json", None, "none"),
        ),
    ],
)
def test_client_credentials_are_read_per_method(
    authorization: str | None, form: dict[str, str], expected: tuple[str, str | None, str]
) -> None:
    """Spec (RFC 6749 §2.3.1): Basic (URL-encoded or not), client_secret_post, none."""
    assert tuple(parse_client_credentials(authorization, form)) == (*expected, None)


@pytest.mark.parametrize(
    ("authorization", "form", "error", "reason"),
    [
        (basic("id-1", "s"), {"client_id": "id-2"}, InvalidRequest, "differs"),
        (basic("id-1", "s"), {"client_secret": "s"}, InvalidRequest, "not both"),
        (None, {}, InvalidClient, "required"),
        (None, {"client_secret": "s"}, InvalidClient, "required"),
        ("Bearer abc", {"client_id": "id-1"}, InvalidClient, "Basic"),
        ("Basic !!!", {}, InvalidClient, "malformed"),
        ("Basic " + base64.b64encode(b"no-colon").decode(), {}, InvalidClient, "malformed"),
        ("Basic " + base64.b64encode(b"\xff:x").decode(), {}, InvalidClient, "malformed"),
    ],
)
def test_contradictory_or_malformed_credentials_are_refused(
    authorization: str | None, form: dict[str, str], error: type[Exception], reason: str
) -> None:
    """Spec (RFC 6749 §2.3: one method per request; §5.2 invalid_client / invalid_request)."""
    with pytest.raises(error, match=reason):
        parse_client_credentials(authorization, form)


def test_credentials_repr_hides_the_secret() -> None:
    """Policy: secrets never appear in reprs."""
    credentials = parse_client_credentials(basic("id-1", "TOPSECRET"), {})
    assert "TOPSECRET" not in repr(credentials)


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_secret_client_authenticates_with_its_secret_by_either_method(method: str) -> None:
    """Spec (RFC 6749 §2.3.1); policy: either secret method is accepted."""
    client, secret = registered("client_secret_basic")
    authenticate_client(client, method, secret)


@pytest.mark.parametrize(
    ("method", "presented"),
    [("client_secret_basic", "wrong"), ("client_secret_post", ""), ("none", None)],
)
def test_secret_client_without_its_secret_is_refused(method: str, presented: str | None) -> None:
    """Spec (RFC 6749 §5.2 invalid_client): a confidential client must authenticate."""
    client, _ = registered("client_secret_post")
    with pytest.raises(InvalidClient):
        authenticate_client(client, method, presented)


def test_public_client_needs_no_secret_and_may_not_present_one() -> None:
    """Spec (RFC 6749 §2.1); policy: a secret it was never issued is refused."""
    client, _ = registered("none")
    authenticate_client(client, "none", None)
    authenticate_client(client, "client_secret_basic", "")  # Basic with an empty password
    with pytest.raises(InvalidClient, match="public"):
        authenticate_client(client, "client_secret_post", "guess")


@pytest.mark.parametrize("method", [None, "none", "client_secret_post", "client_secret_basic"])
def test_python_sdk_token_request_authenticates(method: str | None) -> None:
    """Interop (RFC 6749 §2.3.1, as the Python SDK does it): the SDK's own token-request code,
    against our parser."""
    redirect_uris = ["http://localhost:3030/callback"]
    request: dict[str, object] = {"redirect_uris": redirect_uris}
    if method:
        request["token_endpoint_auth_method"] = method
    client, secret, body = register_client(request, now=0)
    context = OAuthContext(
        server_url="https://gate.example/s/time/mcp",
        client_metadata=OAuthClientMetadata(redirect_uris=redirect_uris),  # type: ignore[arg-type]
        storage=None,  # type: ignore[arg-type]  # not used by prepare_token_auth
        redirect_handler=None,
        callback_handler=None,
        client_info=OAuthClientInformationFull.model_validate(body),
    )
    form, headers = context.prepare_token_auth(
        {"grant_type": "authorization_code", "code": "c", "client_id": client.client_id}, {}
    )
    client_id, presented, used, _ = parse_client_credentials(headers.get("Authorization"), form)
    assert client_id == client.client_id
    authenticate_client(client, str(used), presented)
    assert presented == secret
