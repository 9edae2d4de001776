"""`proxy.auth.redis`: the keys of each Redis topology (standalone, Sentinel, Cluster), ACL
credentials and TLS, read into `RedisConfig`; every misuse reported with its key path, and
no secret in a message or in the effective config."""

from __future__ import annotations

import pytest

from mcp_gate.config import parse_config, render_effective_config
from mcp_gate.config.model import RedisConfig, RedisTls, Secret
from mcp_gate.config.render import build_document
from tests.fixtures.config_files import google_auth, minimal_document, problems_of

KEYS = {"jwtSecret": "j" * 32, "encryptionKey": "e" * 32}
ENVIRON = {"REDIS_SENTINELS": "sentinel-0:26379, sentinel-1", "REDIS_PASSWORD": "pw-from-env"}


def _document(redis: object) -> dict:
    document = minimal_document()
    document["proxy"]["auth"] = {**google_auth(), "storage": "redis", "redis": redis, **KEYS}
    return document


def _redis(redis: object, environ: dict[str, str] | None = None) -> RedisConfig:
    config = parse_config(_document(redis), environ or ENVIRON)
    assert config.proxy.auth is not None
    assert config.proxy.auth.redis is not None
    return config.proxy.auth.redis


def test_sentinel_keys_are_read() -> None:
    """docs/redis.md, Sentinel: `sentinels` (host:port, 26379 when left out) and `masterName`, with
    the primary's ACL login, the sentinels' own password, a database and TLS."""
    redis = _redis({
        "sentinels": ["10.0.0.1:26380", "sentinel-1", "[fd00::1]:26379"],
        "masterName": "mymaster", "db": 2, "username": "gate",
        "password": {"$env": "REDIS_PASSWORD"}, "sentinelPassword": "s-pw",
        "tls": {"enabled": True, "caFile": "/etc/redis/ca.pem"},
    })  # fmt: skip
    assert redis == RedisConfig(
        url=Secret(""),
        sentinels=(("10.0.0.1", 26380), ("sentinel-1", 26379), ("fd00::1", 26379)),
        master_name="mymaster",
        db=2,
        username="gate",
        password=Secret("pw-from-env"),
        sentinel_password=Secret("s-pw"),
        tls=RedisTls(ca_file="/etc/redis/ca.pem"),
    )


def test_sentinels_may_come_from_one_environment_variable() -> None:
    """Policy: a comma-separated `host:port` list, as Helm charts pass it in the environment."""
    redis = _redis({"sentinels": {"$env": "REDIS_SENTINELS"}, "masterName": "m"})
    assert redis.sentinels == (("sentinel-0", 26379), ("sentinel-1", 26379))


def test_cluster_url_with_acl_and_tls_is_read() -> None:
    """docs/redis.md, Cluster: `cluster: true` with the configuration endpoint as `url`; TLS from
    `rediss://`, verified against `tls.caFile`."""
    redis = _redis({
        "url": "rediss://clustercfg.gate.cache.amazonaws.com:6379", "cluster": True,
        "username": "gate", "password": "pw", "tls": {"caFile": "/ca.pem"},
    })  # fmt: skip
    assert redis.cluster
    assert redis.tls == RedisTls(ca_file="/ca.pem")
    assert (redis.username, redis.password) == ("gate", Secret("pw"))


def test_rediss_url_alone_means_tls_with_the_system_trust_store() -> None:
    """Policy: `rediss://` is TLS, fully verified; `redis://` is plain TCP."""
    assert _redis({"url": "rediss://r.example.test:6380/0"}).tls == RedisTls()
    assert _redis({"url": "redis://r.example.test:6379/0"}).tls is None


@pytest.mark.parametrize(
    ("redis", "problems"),
    [
        ({"sentinels": ["s:26379"]},
         ["redis.masterName: required: the name the sentinels monitor the primary under"]),
        ({"sentinels": ["s"], "masterName": "m", "url": "redis://r"},
         ["redis.url: not allowed: with sentinels the primary's address comes from them"]),
        ({"sentinels": ["s"], "masterName": "m", "cluster": True},
         ["redis.cluster: Redis Cluster has no sentinels; use url"]),
        ({"sentinels": [], "masterName": "m"},
         ["redis.sentinels: expected host:port of at least one sentinel"]),
        ({"sentinels": ["s:0", "s:x", "user@s"], "masterName": "m"},
         ["redis.sentinels[0]: expected host:port like sentinel-0:26379, got 's:0'",
          "redis.sentinels[1]: expected host:port like sentinel-0:26379, got 's:x'",
          "redis.sentinels[2]: expected host:port like sentinel-0:26379, got 'user@s'"]),
        ({"url": "redis://r", "masterName": "m", "sentinelPassword": "p"},
         ["redis.masterName: not allowed: only used with redis.sentinels",
          "redis.sentinelPassword: not allowed: only used with redis.sentinels"]),
        ({"masterName": "m"},
         ["redis.url: required: like redis://host:6379/0 or rediss://host:6380/0, or sentinels",
          "redis.masterName: not allowed: only used with redis.sentinels"]),
        ({"url": "redis://r/3", "cluster": True},
         ["redis.url: Redis Cluster has only database 0, not 3"]),
        ({"url": "unix:///run/redis.sock", "cluster": True},
         ["redis.url: Redis Cluster is reached over TCP: redis:// or rediss://"]),
        ({"url": "redis://r", "cluster": True, "keyPrefix": "{gate}:"},
         ["redis.keyPrefix: must not hold { in cluster mode"]),
        ({"url": "redis://:in-url@r", "password": "beside"},
         ["redis.password: the url holds a password already; keep one"]),
        ({"url": "redis://someone@r", "username": "gate"},
         ["redis.username: the url names a user already; keep one"]),
        ({"url": "redis://r", "tls": {"caFile": "/ca.pem"}},
         ["redis.tls.caFile: not allowed: the url is not rediss://, no TLS"]),
        ({"url": "rediss://r", "tls": {"enabled": True}},
         ["redis.tls.enabled: not allowed: with url, TLS is the scheme's choice: rediss://"]),
        ({"sentinels": ["s"], "masterName": "m", "tls": {"insecureSkipVerify": True}},
         ["redis.tls.insecureSkipVerify: not allowed: tls.enabled is false, no TLS"]),
        ({"url": "rediss://r", "tls": {"certFile": "/c.pem"}},
         ["redis.tls.keyFile: required: a client certificate needs both certFile and keyFile"]),
        ({"url": "rediss://r", "tls": {"verify": False}},
         ["redis.tls.verify: unknown key (known keys: caFile, certFile, enabled, "
          "insecureSkipVerify, keyFile)"]),
        ({"url": "redis://r", "masterNmae": "m"},
         ["redis.masterNmae: unknown key; did you mean masterName?"]),
    ],
)  # fmt: skip
def test_misused_redis_keys_are_reported_with_their_path(redis: dict, problems: list) -> None:
    """docs/config.md, Errors: every problem with its key path and what to do."""
    assert problems_of(_document(redis), ENVIRON) == [f"proxy.auth.{p}" for p in problems]


def test_redis_secrets_never_appear_in_messages_or_the_render() -> None:
    """Policy: passwords, in the URL or beside it, are secrets everywhere."""
    problems = problems_of(_document({"url": "ftp://:url-secret@r", "password": "key-secret"}))
    assert not any("secret" in problem for problem in problems), problems
    sentinel = _document(
        {"sentinels": ["s"], "masterName": "m", "password": "pw-1", "sentinelPassword": "pw-2"}
    )
    text = render_effective_config(parse_config(sentinel, {}))
    assert "pw-1" not in text
    assert "pw-2" not in text
    assert "sentinelPassword: '***'" in text


@pytest.mark.parametrize(
    "redis",
    [
        {"sentinels": ["s:1", "[::1]:2"], "masterName": "m", "db": 1, "username": "u",
         "password": "p", "sentinelUsername": "su", "sentinelPassword": "sp",
         "tls": {"enabled": True, "caFile": "/ca", "certFile": "/c", "keyFile": "/k"}},
        {"url": "rediss://:pw@r:6380", "cluster": True, "keyPrefix": "gate:",
         "tls": {"insecureSkipVerify": True}},
        {"url": "redis://r"},
    ],
)  # fmt: skip
def test_rendered_redis_block_parses_back_to_an_equal_config(redis: dict) -> None:
    """Round trip: check-config's effective `redis` block, secrets given back, is the same."""
    config = parse_config(_document(redis), {})
    environ: dict[str, str] = {}

    def as_env(secret: Secret) -> dict[str, str]:
        environ[f"S{len(environ)}"] = secret.reveal()
        return {"$env": f"S{len(environ) - 1}"}

    assert parse_config(build_document(config, show=as_env), environ) == config
