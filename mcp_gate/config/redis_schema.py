"""The `proxy.auth.redis` block: where the store's Redis is and how the gate logs in to it.

Owns the meaning and checks of every `redis.*` key: one server or a cluster seed at `url`
(`cluster: true` for Redis Cluster: ElastiCache, Memorystore), or a primary found through
`sentinels` + `masterName`; ACL credentials (`username`, `password`, in the URL or beside
it, never both) and the sentinels' own; TLS (`rediss://`, or `tls.enabled` with sentinels)
with its files. Reads no files and opens no connections: the store does, at its first
command, so a CA file mounted later (a Kubernetes Secret) is read where it is used.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from mcp_gate.config.model import RedisConfig, RedisTls, Secret
from mcp_gate.config.section import Section
from mcp_gate.config.values import resolve, split_url

REDIS_KEYS = (
    "url", "keyPrefix", "cluster", "sentinels", "masterName", "db", "username", "password",
    "sentinelUsername", "sentinelPassword", "tls",
)  # fmt: skip
TLS_KEYS = ("enabled", "caFile", "certFile", "keyFile", "insecureSkipVerify")
URL_SCHEMES = ("redis", "rediss", "unix")
DEFAULT_SENTINEL_PORT = 26379  # Redis Sentinel's registered port
_SENTINEL_ONLY = ("masterName", "db", "sentinelUsername", "sentinelPassword")


def parse_redis(auth: Section) -> RedisConfig:
    """`auth.redis`, present or reported missing; every problem recorded with its path."""
    section = auth.child("redis", REDIS_KEYS)
    if not auth.need("redis", "storage: redis needs redis.url (or redis.sentinels)"):
        return RedisConfig(url=Secret(""))
    with_sentinels = section.has("sentinels")
    sentinels = _sentinels(section)
    cluster = section.boolean("cluster", False)
    url = section.secret("url")
    if with_sentinels:
        section.need("masterName", "the name the sentinels monitor the primary under")
        section.forbid(["url"], "with sentinels the primary's address comes from them")
        if cluster:
            section.ctx.error(section.at("cluster"), "Redis Cluster has no sentinels; use url")
    else:
        section.need("url", "like redis://host:6379/0 or rediss://host:6380/0, or sentinels")
        section.forbid(_SENTINEL_ONLY, "only used with redis.sentinels")
    if url is not None and not with_sentinels:
        _check_url(section, url.reveal(), cluster)
    tls = _tls(section, url.reveal() if url is not None else "", with_sentinels)
    key_prefix = section.text("keyPrefix", RedisConfig.key_prefix)
    if cluster and "{" in key_prefix:
        # policy: Redis Cluster hashes only the `{...}` of a key: every key on one shard.
        section.ctx.error(section.at("keyPrefix"), "must not hold { in cluster mode")
    return RedisConfig(
        url=url if url is not None and not with_sentinels else Secret(""),
        key_prefix=key_prefix,
        cluster=cluster,
        sentinels=sentinels,
        master_name=section.text("masterName"),
        db=section.integer("db", 0),
        username=section.text("username"),
        password=section.secret("password"),
        sentinel_username=section.text("sentinelUsername"),
        sentinel_password=section.secret("sentinelPassword"),
        tls=tls,
    )


def _check_url(section: Section, url: str, cluster: bool) -> None:
    parts = split_url(url)
    path = section.at("url")
    if parts.scheme not in URL_SCHEMES:
        section.ctx.error(path, "must start with redis://, rediss:// or unix://")
        return
    query = parse_qs(parts.query)
    if section.has("username") and (parts.username or "username" in query):
        section.ctx.error(section.at("username"), "the url names a user already; keep one")
    if section.has("password") and (parts.password is not None or "password" in query):
        section.ctx.error(section.at("password"), "the url holds a password already; keep one")
    if not cluster:
        return
    database = (query.get("db") or [parts.path.strip("/") or "0"])[0]
    if parts.scheme == "unix":
        section.ctx.error(path, "Redis Cluster is reached over TCP: redis:// or rediss://")
    elif database != "0":
        # Redis Cluster specification §Implemented subset: only database 0.
        section.ctx.error(path, f"Redis Cluster has only database 0, not {database}")


def _sentinels(section: Section) -> tuple[tuple[str, int], ...]:
    """`sentinels`: a list of `host:port` (port 26379 when left out), or one string of them
    separated by commas, for a value from the environment (`{$env: REDIS_SENTINELS}`)."""
    if not section.has("sentinels"):
        return ()
    path = section.at("sentinels")
    items: list[tuple[str, object]]
    if isinstance(section.data["sentinels"], list):
        items = [(at, resolve(section.ctx, at, item)) for at, item in section.items("sentinels")]
    else:
        text = resolve(section.ctx, path, section.data["sentinels"])
        if not isinstance(text, str):
            return ()  # reported
        items = [(path, part) for part in text.split(",") if part.strip()]
    if not items:
        section.ctx.error(path, "expected host:port of at least one sentinel")
    addresses = []
    for at, item in items:
        if not isinstance(item, str):
            continue
        address = _host_port(item.strip())
        if address is None:
            section.ctx.error(at, f"expected host:port like sentinel-0:26379, got {item!r}")
        else:
            addresses.append(address)
    return tuple(addresses)


def _host_port(text: str) -> tuple[str, int] | None:
    parts = split_url(f"//{text}")
    if not parts.hostname or parts.path or parts.query or parts.fragment or parts.username:
        return None
    if parts.port is None:
        return parts.hostname, DEFAULT_SENTINEL_PORT
    return (parts.hostname, parts.port) if parts.port > 0 else None


def _tls(section: Section, url: str, with_sentinels: bool) -> RedisTls | None:
    tls = section.child("tls", TLS_KEYS)
    if with_sentinels:
        enabled = tls.boolean("enabled", False)
    else:
        tls.forbid(["enabled"], "with url, TLS is the scheme's choice: rediss://")
        enabled = split_url(url).scheme == "rediss"
    if not enabled:
        why = "tls.enabled is false" if with_sentinels else "the url is not rediss://"
        tls.forbid(("caFile", "certFile", "keyFile", "insecureSkipVerify"), f"{why}, no TLS")
        return None
    if tls.has("certFile") != tls.has("keyFile"):
        missing = "keyFile" if tls.has("certFile") else "certFile"
        tls.need(missing, "a client certificate needs both certFile and keyFile")
    return RedisTls(
        ca_file=tls.text("caFile") or None,
        cert_file=tls.text("certFile") or None,
        key_file=tls.text("keyFile") or None,
        insecure_skip_verify=tls.boolean("insecureSkipVerify", False),
    )
