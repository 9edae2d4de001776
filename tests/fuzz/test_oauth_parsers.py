"""Property: the authorization server's parsers of outside input raise only their
documented errors (an OAuth error of the RFC, or the "show a page" error of /authorize),
whatever arrives. Policy (docs/deploy.md): bad input gets a clear 4xx, never a 500.
"""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from mcp_gate.errors import OAuthError
from mcp_gate.oauth.authorize import (
    RedirectedError,
    UntrustedRequestError,
    parse_authorization_request,
)
from mcp_gate.oauth.cimd import parse_cimd_document
from mcp_gate.oauth.clients import parse_client_credentials
from mcp_gate.oauth.models import Client
from mcp_gate.oauth.pkce import parse_challenge, verify_verifier
from mcp_gate.oauth.redirect_uris import classify_redirect_uri, redirect_uri_matches
from mcp_gate.oauth.registration import register_client
from mcp_gate.oauth.resources import ResourceIndex, canonical_uri
from tests.fuzz.strategies import (
    bent_document,
    json_values,
    raised,
    redirect_uri_like,
    urlish_text,
)

_VALID_REGISTRATION: dict[str, object] = {
    "client_name": "fuzz client",
    "redirect_uris": ["http://127.0.0.1:3000/callback"],
    "token_endpoint_auth_method": "none",
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "application_type": "native",
    "scope": "mcp",
    "client_uri": "https://client.example",
}
_CIMD_URL = "https://client.example/oauth/client.json"
_CLIENT = Client(client_id="fuzz", redirect_uris=("http://127.0.0.1:3000/callback",))
_RESOURCES = ResourceIndex("https://gate.example", ["alpha", "beta"])
_PARAMS = {
    "response_type": "code",
    "client_id": "fuzz",
    "redirect_uri": "http://127.0.0.1:4000/callback",
    "state": "s",
    "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    "code_challenge_method": "S256",
    "resource": "https://gate.example/alpha/mcp",
    "scope": "mcp",
}


@given(redirect_uri_like)
def test_redirect_uri_classification_accepts_or_names_the_problem(uri: str) -> None:
    """RFC 7591 §2 / RFC 8252 §7: a redirect URI is classified, or refused with a reason."""
    error = raised(OAuthError, lambda: classify_redirect_uri(uri))
    assert error is None or error.error == "invalid_redirect_uri"
    assert isinstance(redirect_uri_matches(["http://127.0.0.1/cb", "cursor://x/cb"], uri), bool)


@given(st.one_of(bent_document(_VALID_REGISTRATION), st.dictionaries(urlish_text, json_values)))
def test_registration_document_registers_or_is_refused_with_an_rfc_7591_error(
    document: dict[str, object],
) -> None:
    """RFC 7591 §3.2.2: invalid_redirect_uri or invalid_client_metadata, nothing else."""
    registered: list[tuple[Client, object]] = []
    error = raised(OAuthError, lambda: registered.append(register_client(document, now=0.0)[::2]))
    assert error is None or error.error in ("invalid_redirect_uri", "invalid_client_metadata")
    for client, body in registered:
        assert client.redirect_uris
        json.dumps(body)  # the 201 body is always serialisable


@given(
    st.one_of(
        st.binary(max_size=200),
        bent_document({**_VALID_REGISTRATION, "client_id": _CIMD_URL}).map(
            lambda d: json.dumps(d).encode()
        ),
        st.integers(min_value=4300, max_value=6000).map(
            lambda n: b'{"client_id": ' + b"9" * n + b"}"
        ),
    )
)
def test_client_metadata_document_parses_or_is_invalid_client(body: bytes) -> None:
    """draft-ietf-oauth-client-id-metadata-document §4: a bad document is `invalid_client`."""
    error = raised(OAuthError, lambda: parse_cimd_document(_CIMD_URL, body, now=0.0))
    assert error is None or error.error == "invalid_client"


@given(bent_document(_PARAMS).map(lambda d: {k: str(v) for k, v in d.items()}))
def test_authorization_request_is_pending_or_a_documented_refusal(params: dict[str, str]) -> None:
    """RFC 6749 §4.1.2.1: a page for an untrusted redirect, an error redirect otherwise."""
    error = raised(
        (UntrustedRequestError, RedirectedError),  # type: ignore[arg-type]
        lambda: parse_authorization_request(params, _CLIENT, _RESOURCES, now=0.0),
    )
    if isinstance(error, RedirectedError):
        assert error.redirect_uri.startswith("http://127.0.0.1:")
        assert error.error.error
    elif isinstance(error, UntrustedRequestError):
        assert error.message


@given(
    st.one_of(st.none(), urlish_text),
    st.dictionaries(st.sampled_from(["client_id", "client_secret", "x"]), urlish_text),
)
def test_token_request_client_credentials_parse_or_are_an_oauth_error(
    authorization: str | None, form: dict[str, str]
) -> None:
    """RFC 6749 §2.3.1, §5.2: unreadable credentials are invalid_client / invalid_request."""
    error = raised(OAuthError, lambda: parse_client_credentials(authorization, form))
    assert error is None or error.error in ("invalid_client", "invalid_request")


@given(st.one_of(st.none(), urlish_text), st.one_of(st.none(), urlish_text))
def test_pkce_values_are_accepted_or_refused_as_rfc_7636_says(
    challenge: str | None, verifier: str | None
) -> None:
    """RFC 7636 §4.4.1 / §4.6: invalid_request at /authorize, invalid_grant at /token."""
    at_authorize = raised(OAuthError, lambda: parse_challenge(challenge, "S256"))
    assert at_authorize is None or at_authorize.error == "invalid_request"
    at_token = raised(OAuthError, lambda: verify_verifier(verifier, _PARAMS["code_challenge"]))
    assert at_token is None or at_token.error == "invalid_grant"


@given(st.one_of(redirect_uri_like, urlish_text))
def test_resource_parameter_resolves_or_is_invalid_target(resource: str) -> None:
    """RFC 8707 §2: an unusable resource is `invalid_target`."""
    error = raised(OAuthError, lambda: (canonical_uri(resource), _RESOURCES.resolve(resource)))
    assert error is None or error.error == "invalid_target"
