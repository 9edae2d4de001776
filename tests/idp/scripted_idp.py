"""A scripted OpenID Provider, for the ID tokens a real provider will not issue.

Serves a discovery document, a JWK Set and a token endpoint whose answer the test sets;
the test signs ID tokens itself with joserfc (wrong nonce, wrong audience, expired, `alg:
none`, HS256 keyed with the client secret, ...). The gate's side under test is the real
`OidcProvider` talking HTTP to it. Normal logins are tested against the real provider
(tests/servers/oidc), not this.
"""

from __future__ import annotations

import base64
import json
import time
from collections import Counter

import aiohttp
from aiohttp import web
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from mcp_gate.config.model import Secret
from mcp_gate.idp.oidc import OidcProvider

CLIENT_ID = "gate-client"
# Long enough to be a valid HS256 key, so the HS256 forgery test is a real one.
CLIENT_SECRET = "a-client-secret-that-is-long-enough-for-hs256"
NONCE = "nonce-of-this-login"
REDIRECT_URI = "http://127.0.0.1:8080/oauth/callback"


class FakeClock:
    """An injectable clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ScriptedIdp:
    """The IdP; `issuer` is set once its server listens."""

    def __init__(self) -> None:
        self.issuer = ""
        self.signing_key: RSAKey | ECKey = RSAKey.generate_key(2048, {"kid": "key-1"})
        self.published: list[RSAKey | ECKey] = [self.signing_key]
        self.auth_methods = ["client_secret_basic", "client_secret_post"]
        self.discovery_overrides: dict[str, object] = {}
        self.token_status = 200
        self.token_body: dict[str, object] = {}
        self.hits: Counter[str] = Counter()
        self.token_requests: list[tuple[dict[str, str], dict[str, str]]] = []

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self._discovery)
        app.router.add_get("/jwks", self._jwks)
        app.router.add_post("/token", self._token)
        return app

    def claims(self, **overrides: object) -> dict[str, object]:
        """A valid ID token's claims for this login; `None` values are removed."""
        now = int(time.time())
        claims: dict[str, object] = {
            "iss": self.issuer,
            "sub": "10769150350006150715113082367",
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 3600,
            "nonce": NONCE,
            "email": "alice@example.com",
            "email_verified": True,
            "hd": "example.com",
            "name": "Alice Example",
        }
        claims |= overrides
        return {name: value for name, value in claims.items() if value is not None}

    def sign(self, claims: dict[str, object], key: RSAKey | ECKey | None = None) -> str:
        key = key or self.signing_key
        alg = "RS256" if isinstance(key, RSAKey) else "ES256"
        return jwt.encode({"alg": alg, "kid": key.kid}, claims, key)

    def answer_with_id_token(self, id_token: str) -> None:
        self.token_status = 200
        self.token_body = {
            "access_token": "idp-access",
            "token_type": "Bearer",
            "id_token": id_token,
        }

    def rotate(self, key: RSAKey | ECKey) -> None:
        """Publish `key` first and sign with it from now on."""
        self.signing_key = key
        self.published.insert(0, key)

    def build_provider(
        self,
        http: aiohttp.ClientSession,
        *,
        kind: str = "oidc",
        allowed_domains: tuple[str, ...] = (),
        clock: FakeClock | None = None,
    ) -> OidcProvider:
        return OidcProvider(
            kind=kind,  # type: ignore[arg-type]
            issuer=self.issuer,
            discovery_url=f"{self.issuer}/.well-known/openid-configuration",
            client_id=CLIENT_ID,
            client_secret=Secret(CLIENT_SECRET),
            redirect_uri=REDIRECT_URI,
            allowed_domains=allowed_domains,
            http=http,
            clock=clock or time.time,
        )

    async def _discovery(self, request: web.Request) -> web.Response:
        self.hits["discovery"] += 1
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/auth",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "token_endpoint_auth_methods_supported": self.auth_methods,
        }
        return web.json_response(document | self.discovery_overrides)

    async def _jwks(self, request: web.Request) -> web.Response:
        self.hits["jwks"] += 1
        return web.json_response({"keys": [key.as_dict(private=False) for key in self.published]})

    async def _token(self, request: web.Request) -> web.Response:
        self.hits["token"] += 1
        form = {name: str(value) for name, value in (await request.post()).items()}
        self.token_requests.append((dict(request.headers), form))
        return web.json_response(self.token_body, status=self.token_status)


def build_unsigned_token(claims: dict[str, object]) -> str:
    """An `alg: none` JWT (RFC 7519 §6.1), which joserfc rightly will not make."""

    def part(value: dict[str, object]) -> str:
        raw = json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."
