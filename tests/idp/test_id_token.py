"""ID token validation (OIDC Core 1.0 §3.1.3.7) through `exchange_code`, with crafted tokens."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from mcp_gate.config.model import IdpConfig, Secret
from mcp_gate.idp import Identity, IdTokenInvalidError, LoginRefusedError
from mcp_gate.idp.google import build_google_provider
from mcp_gate.idp.id_token import ID_TOKEN_LEEWAY_SECONDS
from tests.idp.scripted_idp import (
    CLIENT_ID,
    CLIENT_SECRET,
    NONCE,
    REDIRECT_URI,
    FakeClock,
    ScriptedIdp,
    build_unsigned_token,
)


async def exchange(
    idp: ScriptedIdp, http: aiohttp.ClientSession, id_token: str, **kwargs: Any
) -> Identity:
    idp.answer_with_id_token(id_token)
    provider = idp.build_provider(http, **kwargs)
    return await provider.exchange_code(code="the-code", code_verifier="the-verifier", nonce=NONCE)


async def refusal(
    idp: ScriptedIdp, http: aiohttp.ClientSession, id_token: str, **kwargs: Any
) -> str:
    """The reason the exchange was refused for; the message must not carry the token."""
    with pytest.raises(IdTokenInvalidError) as refused:
        await exchange(idp, http, id_token, **kwargs)
    assert id_token not in str(refused.value)
    return refused.value.reason


async def test_valid_rs256_token_yields_the_identity(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """OIDC Core 1.0 §3.1.3.7: a token passing every check gives its claims as an Identity."""
    identity = await exchange(scripted_idp, http, scripted_idp.sign(scripted_idp.claims()))

    assert (identity.subject, identity.email, identity.hosted_domain, identity.issuer) == (
        "10769150350006150715113082367",
        "alice@example.com",
        "example.com",
        scripted_idp.issuer,
    )


async def test_valid_es256_token_is_accepted(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """Policy: ES256 is on the algorithm allowlist beside RS256."""
    scripted_idp.rotate(ECKey.generate_key("P-256", {"kid": "ec-1"}))

    identity = await exchange(scripted_idp, http, scripted_idp.sign(scripted_idp.claims()))

    assert identity.email == "alice@example.com"


async def test_token_for_another_nonce_is_refused(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """OIDC Core 1.0 §3.1.3.7 item 11: nonce must equal the one we sent."""
    token = scripted_idp.sign(scripted_idp.claims(nonce="someone-elses-nonce"))
    assert await refusal(scripted_idp, http, token) == "nonce_mismatch"


async def test_token_without_nonce_is_refused(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """OIDC Core 1.0 §3.1.3.7 item 11: we always send a nonce, so it must come back."""
    token = scripted_idp.sign(scripted_idp.claims(nonce=None))
    assert await refusal(scripted_idp, http, token) == "nonce_mismatch"


async def test_token_for_another_client_is_refused(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """OIDC Core 1.0 §3.1.3.7 item 3: aud must contain our client_id."""
    token = scripted_idp.sign(scripted_idp.claims(aud="some-other-client"))
    assert await refusal(scripted_idp, http, token) == "audience_mismatch"


async def test_token_with_an_extra_audience_is_refused(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """OIDC Core 1.0 §3.1.3.7 item 3: extra audiences we do not trust are refused (policy)."""
    token = scripted_idp.sign(scripted_idp.claims(aud=[CLIENT_ID, "another-client"]))
    assert await refusal(scripted_idp, http, token) == "audience_mismatch"


async def test_token_authorized_for_another_party_is_refused(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """OIDC Core 1.0 §3.1.3.7 item 5: azp, when present, must be our client_id."""
    token = scripted_idp.sign(scripted_idp.claims(azp="another-client"))
    assert await refusal(scripted_idp, http, token) == "azp_mismatch"


async def test_expired_token_is_refused(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """OIDC Core 1.0 §3.1.3.7 item 9: exp must be in the future (with our leeway)."""
    clock = FakeClock()
    token = scripted_idp.sign(scripted_idp.claims())
    clock.advance(3600 + ID_TOKEN_LEEWAY_SECONDS)

    assert await refusal(scripted_idp, http, token, clock=clock) == "token_expired"


async def test_token_just_past_exp_within_leeway_is_accepted(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """Policy: a minute of clock skew with the IdP is tolerated."""
    clock = FakeClock()
    token = scripted_idp.sign(scripted_idp.claims())
    clock.advance(3600 + ID_TOKEN_LEEWAY_SECONDS / 2)

    identity = await exchange(scripted_idp, http, token, clock=clock)

    assert identity.email == "alice@example.com"


async def test_token_issued_in_the_future_is_refused(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """OIDC Core 1.0 §3.1.3.7 item 10: an iat beyond our clock's leeway is not sane."""
    token = scripted_idp.sign(scripted_idp.claims(iat=int(time.time()) + 600))
    assert await refusal(scripted_idp, http, token) == "issued_in_future"


async def test_token_from_another_issuer_is_refused(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """OIDC Core 1.0 §3.1.3.7 item 2: iss must be exactly the discovered issuer."""
    token = scripted_idp.sign(scripted_idp.claims(iss="https://accounts.example.net"))
    assert await refusal(scripted_idp, http, token) == "issuer_mismatch"


async def test_legacy_google_issuer_is_refused_from_a_stand_in_provider(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """Google's `accounts.google.com` spelling is accepted only when the issuer is Google."""
    config = IdpConfig(
        provider="google",
        client_id=CLIENT_ID,
        discovery_url=f"{scripted_idp.issuer}/.well-known/openid-configuration",
    )
    provider = build_google_provider(
        config,
        client_secret=Secret(CLIENT_SECRET),
        redirect_uri=REDIRECT_URI,
        allowed_domains=("example.com",),
        http=http,
    )
    scripted_idp.answer_with_id_token(
        scripted_idp.sign(scripted_idp.claims(iss="accounts.google.com"))
    )

    with pytest.raises(IdTokenInvalidError) as refused:
        await provider.exchange_code(code="c", code_verifier="v", nonce=NONCE)

    assert refused.value.reason == "issuer_mismatch"


async def test_unsigned_alg_none_token_is_refused(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """RFC 8725 §3.1, OIDC Core 1.0 §3.1.3.7 item 7: `alg: none` is never accepted."""
    token = build_unsigned_token(scripted_idp.claims())
    assert await refusal(scripted_idp, http, token) == "alg_not_allowed"


async def test_hs256_token_keyed_with_the_client_secret_is_refused(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """RFC 8725 §2.1 algorithm confusion: a MAC with our own client secret is refused (policy)."""
    token = jwt.encode({"alg": "HS256"}, scripted_idp.claims(), OctKey.import_key(CLIENT_SECRET))
    assert await refusal(scripted_idp, http, token) == "alg_not_allowed"


async def test_token_signed_by_a_key_posing_under_a_known_kid_is_refused(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """OIDC Core 1.0 §3.1.3.7 item 6: the signature must verify with the published key."""
    impostor = RSAKey.generate_key(2048, {"kid": "key-1"})  # the published key's kid
    token = scripted_idp.sign(scripted_idp.claims(), key=impostor)
    assert await refusal(scripted_idp, http, token) == "signature_invalid"


async def test_token_signed_with_an_unpublished_key_is_refused(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """OIDC Core 1.0 §10.1.1: a kid absent from the JWKS, even after a refetch, is refused."""
    stranger = RSAKey.generate_key(2048, {"kid": "never-published"})
    token = scripted_idp.sign(scripted_idp.claims(), key=stranger)
    assert await refusal(scripted_idp, http, token) == "key_unknown"


async def test_garbage_instead_of_a_token_is_refused(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """RFC 7515 §7.1: something that is not a compact JWS is malformed."""
    assert await refusal(scripted_idp, http, "not.a-token") == "id_token_malformed"


async def test_token_without_subject_is_refused(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """OIDC Core 1.0 §2: sub is REQUIRED."""
    token = scripted_idp.sign(scripted_idp.claims(sub=None))
    assert await refusal(scripted_idp, http, token) == "subject_missing"


async def test_token_without_email_is_refused_with_a_reason(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """Policy: the allowlist needs an email, so a token without one cannot enter."""
    token = scripted_idp.sign(scripted_idp.claims(email=None))

    with pytest.raises(LoginRefusedError) as refused:
        await exchange(scripted_idp, http, token)

    assert refused.value.reason == "email_missing"


async def test_email_verified_as_a_string_does_not_count(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """Policy (id_token.py): only JSON `true` is a verified email."""
    token = scripted_idp.sign(scripted_idp.claims(email_verified="true"))

    with pytest.raises(LoginRefusedError) as refused:
        await exchange(scripted_idp, http, token)

    assert refused.value.reason == "email_unverified"
