"""The JWKS cache: key rotation, its rate limit, and keys it cannot use (jwks.py)."""

from __future__ import annotations

import aiohttp
import pytest
from joserfc.jwk import ECKey, RSAKey

from mcp_gate.idp import IdTokenInvalidError
from mcp_gate.idp.jwks import JWKS_MAX_AGE_SECONDS, JWKS_REFETCH_MIN_INTERVAL_SECONDS, parse_jwks
from tests.idp.scripted_idp import NONCE, FakeClock, ScriptedIdp


async def test_rotated_key_is_found_by_one_refetch(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """OIDC Core 1.0 §10.1.1: an unknown kid means the JWKS is refetched, once."""
    provider = scripted_idp.build_provider(http)
    scripted_idp.answer_with_id_token(scripted_idp.sign(scripted_idp.claims()))
    await provider.exchange_code(code="c", code_verifier="v", nonce=NONCE)

    scripted_idp.rotate(RSAKey.generate_key(2048, {"kid": "key-2"}))
    scripted_idp.answer_with_id_token(scripted_idp.sign(scripted_idp.claims()))
    await provider.exchange_code(code="c", code_verifier="v", nonce=NONCE)

    assert scripted_idp.hits["jwks"] == 2


async def test_unknown_kids_refetch_at_most_once_per_interval(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """Policy: a stream of unknown kids costs the IdP one JWKS fetch a minute, no more."""
    clock = FakeClock()
    provider = scripted_idp.build_provider(http, clock=clock)
    for kid in ("stranger-1", "stranger-2"):
        stranger = RSAKey.generate_key(2048, {"kid": kid})
        scripted_idp.answer_with_id_token(scripted_idp.sign(scripted_idp.claims(), key=stranger))
        with pytest.raises(IdTokenInvalidError):
            await provider.exchange_code(code="c", code_verifier="v", nonce=NONCE)
    assert scripted_idp.hits["jwks"] == 2  # the first fetch, then one refetch

    clock.advance(JWKS_REFETCH_MIN_INTERVAL_SECONDS)
    with pytest.raises(IdTokenInvalidError):
        await provider.exchange_code(code="c", code_verifier="v", nonce=NONCE)

    assert scripted_idp.hits["jwks"] == 3


async def test_jwks_is_refreshed_after_its_max_age(
    scripted_idp: ScriptedIdp, http: aiohttp.ClientSession
) -> None:
    """Policy: keys are refetched hourly, so a key the IdP withdrew stops being trusted."""
    clock = FakeClock()
    provider = scripted_idp.build_provider(http, clock=clock)
    scripted_idp.answer_with_id_token(scripted_idp.sign(scripted_idp.claims()))
    await provider.exchange_code(code="c", code_verifier="v", nonce=NONCE)
    withdrawn = scripted_idp.published.pop()
    scripted_idp.rotate(RSAKey.generate_key(2048, {"kid": "key-2"}))

    clock.advance(JWKS_MAX_AGE_SECONDS)
    # Fresh claims at the moved clock, still signed with the withdrawn key.
    claims = scripted_idp.claims(iat=int(clock.now), exp=int(clock.now) + 3600)
    scripted_idp.answer_with_id_token(scripted_idp.sign(claims, key=withdrawn))

    with pytest.raises(IdTokenInvalidError) as refused:
        await provider.exchange_code(code="c", code_verifier="v", nonce=NONCE)

    assert refused.value.reason == "key_unknown"


def test_jwks_keeps_usable_signature_keys_and_skips_the_rest() -> None:
    """RFC 7517 §4.2 `use`: encryption keys, symmetric keys and junk are not signature keys."""
    rsa = RSAKey.generate_key(2048, {"kid": "rsa"}).as_dict(private=False)
    ec = ECKey.generate_key("P-256", {"kid": "ec"}).as_dict(private=False)
    document = {
        "keys": [
            rsa,
            ec,
            rsa | {"kid": "for-encryption", "use": "enc"},
            {"kty": "oct", "kid": "shared", "k": "c2VjcmV0"},
            {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
            "not-a-key",
        ]
    }

    assert [(entry.kid, entry.kty) for entry in parse_jwks(document)] == [
        ("rsa", "RSA"),
        ("ec", "EC"),
    ]
