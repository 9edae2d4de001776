"""One server's identity for backends: what its requests and its children get, per principal.

`BackendIdentity` is built once per server at startup (`build_backend_identities`) from its
`identity` config; the request path then only calls it:

    identity = identities.get(server.name)          # None: the server has no `identity`
    if identity is not None:
        drop every client header whose lower-cased name is in identity.header_names
        upstream_headers.update(identity.headers_for(principal))     # remote servers
        child_env.update(identity.env_for(principal))                # stdio, at start

A header whose rendered value is empty (a machine has no email) is left out, and still
dropped from what the client sent. The identity JWT of a principal is signed once and
reused while more than half of its lifetime is left (signing costs more than the rest of
a request's work at the gate); the cache holds the most recent principals only. Owns no
I/O; never logs a value.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

from mcp_gate.backend_identity.signer import IdentitySigner
from mcp_gate.backend_identity.templates import env_value, header_value, identity_values, render
from mcp_gate.config.model import GateConfig, IdentityConfig
from mcp_gate.principal import Principal

# policy: enough principals for a busy server; the least recently used goes first.
JWT_CACHE_ENTRIES = 1024


class BackendIdentity:
    def __init__(
        self,
        config: IdentityConfig,
        signer: IdentitySigner | None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if config.jwt is not None and signer is None:
            raise ValueError("identity.jwt needs a signer (proxy.auth)")
        self._config = config
        self._signer = signer
        self._clock = clock
        self._jwts: OrderedDict[Principal, tuple[str, float]] = OrderedDict()
        names = set(config.headers)
        if config.jwt is not None:
            names.add(config.jwt.header)
        self.header_names = frozenset(name.lower() for name in names)

    def headers_for(self, principal: Principal) -> dict[str, str]:
        """The identity headers of a request made for `principal` (remote servers)."""
        values = identity_values(principal)
        headers = {}
        for name, template in self._config.headers.items():
            value = header_value(render(template, values))
            if value:
                headers[name] = value
        jwt = self._config.jwt
        if jwt is not None:
            token = self._jwt(principal, jwt.audience, jwt.ttl_seconds)
            headers[jwt.header] = (
                f"Bearer {token}" if jwt.header.lower() == "authorization" else token
            )
        return headers

    def env_for(self, principal: Principal) -> dict[str, str]:
        """The identity variables of a stdio child started for `principal`."""
        values = identity_values(principal)
        return {
            name: env_value(render(template, values)) for name, template in self._config.env.items()
        }

    def _jwt(self, principal: Principal, audience: str, ttl_seconds: float) -> str:
        assert self._signer is not None
        now = self._clock()
        cached = self._jwts.get(principal)
        if cached is not None and cached[1] - now > ttl_seconds / 2:
            self._jwts.move_to_end(principal)
            return cached[0]
        token, expires_at = self._signer.sign(principal, audience, ttl_seconds)
        self._jwts[principal] = (token, expires_at)
        self._jwts.move_to_end(principal)
        while len(self._jwts) > JWT_CACHE_ENTRIES:
            self._jwts.popitem(last=False)
        return token


def build_backend_identities(
    config: GateConfig, signer: IdentitySigner | None
) -> Mapping[str, BackendIdentity]:
    """The `BackendIdentity` of every server with an `identity` block, by server name."""
    return {
        name: BackendIdentity(server.identity, signer)
        for name, server in config.servers.items()
        if server.identity is not None
    }


def uses_identity_jwt(config: GateConfig) -> bool:
    return any(s.identity is not None and s.identity.jwt for s in config.servers.values())
