"""The Redis store over TLS and with ACL credentials: whom it trusts, the host name it
checks, the client certificate it shows when asked, and failing closed (never showing a
secret) when a login or a right is refused.

The servers are real (tests/fixtures/redis_server.py): redis-server speaking only TLS with
a certificate for `localhost` from a test CA, its default user off, the gate's user `gate`
with the rights docs/redis.md lists. The store contract itself runs on the shared one in
test_store_contract.py.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from mcp_gate.config.model import RedisTls, Secret
from mcp_gate.errors import StorageUnavailableError
from mcp_gate.store.redis import RedisStore
from tests.fixtures.redis_server import (
    CLUSTER_ACL,
    GATE_ACL,
    GATE_PASSWORD,
    GATE_USER,
    RedisTlsServer,
)

REDIS_DOC = Path(__file__).resolve().parents[2] / "docs" / "redis.md"


async def _round_trip(store: RedisStore) -> bytes | None:
    await store.put("probe", "k", b"over tls", ttl_seconds=60)
    value = await store.get("probe", "k")
    await store.close()
    return value


async def test_certificate_of_a_ca_not_trusted_is_refused(
    redis_tls_server: RedisTlsServer, redis_key_prefix: str
) -> None:
    """Policy: without `tls.caFile`, only the system's trust store vouches for the server."""
    config = replace(redis_tls_server.store_config(redis_key_prefix), tls=None)
    store = RedisStore(config)
    with pytest.raises(StorageUnavailableError, match="certificate verify failed"):
        await store.ping()
    await store.close()


async def test_certificate_for_another_host_name_is_refused(
    redis_tls_server: RedisTlsServer, redis_key_prefix: str
) -> None:
    """RFC 6125 §6: the certificate must name the host the URL names (IP or DNS name)."""
    config = redis_tls_server.store_config(redis_key_prefix)
    by_address = config.url.reveal().replace("localhost", "127.0.0.1")
    store = RedisStore(replace(config, url=Secret(by_address)))
    with pytest.raises(StorageUnavailableError, match="certificate verify failed"):
        await store.ping()
    await store.close()


async def test_insecure_skip_verify_accepts_any_certificate(
    redis_tls_server: RedisTlsServer, redis_key_prefix: str
) -> None:
    """Policy: `tls.insecureSkipVerify` turns every check off (encrypted, not authenticated)."""
    config = redis_tls_server.store_config(redis_key_prefix)
    by_address = config.url.reveal().replace("localhost", "127.0.0.1")
    insecure = RedisTls(insecure_skip_verify=True)
    assert await _round_trip(RedisStore(replace(config, url=Secret(by_address), tls=insecure)))


async def test_client_certificate_is_shown_when_the_server_asks_for_one(
    tmp_path: Path, redis_key_prefix: str
) -> None:
    """Policy: with `tls.certFile`/`keyFile` the store logs in to a Redis that requires a
    client certificate (`tls-auth-clients yes`, Redis's default); without, it is refused."""
    with RedisTlsServer(tmp_path, extra_args=["--tls-auth-clients", "yes"]) as server:
        config = server.store_config(redis_key_prefix)
        without = RedisStore(config)
        with pytest.raises(StorageUnavailableError):
            await without.ping()
        await without.close()
        files = {"cert_file": str(server.tls.client_cert_file)}
        files["key_file"] = str(server.tls.client_key_file)
        with_certificate = replace(config, tls=replace(config.tls or RedisTls(), **files))
        assert await _round_trip(RedisStore(with_certificate)) == b"over tls"


async def test_acl_credentials_in_the_url_work_as_the_keys_do(
    redis_tls_server: RedisTlsServer, redis_key_prefix: str
) -> None:
    """Policy: `rediss://user:password@host` logs in as `username`/`password` would."""
    config = redis_tls_server.store_config(redis_key_prefix)
    in_url = config.url.reveal().replace("rediss://", f"rediss://{GATE_USER}:{GATE_PASSWORD}@")
    store = RedisStore(replace(config, url=Secret(in_url), username="", password=None))
    assert await _round_trip(store) == b"over tls"


async def test_refused_acl_login_fails_closed_and_is_never_shown(
    redis_tls_server: RedisTlsServer, redis_key_prefix: str
) -> None:
    """Policy: a wrong ACL password is a 503 whose text, like the store's repr, has no secret."""
    config = redis_tls_server.store_config(redis_key_prefix)
    store = RedisStore(replace(config, password=Secret("wrong-acl-password")))
    with pytest.raises(StorageUnavailableError) as caught:
        await store.get("probe", "k")
    for text in (str(caught.value), repr(store)):
        assert "wrong-acl-password" not in text
        assert GATE_PASSWORD not in text
    await store.close()


async def test_keys_outside_the_users_acl_fail_closed(redis_tls_server: RedisTlsServer) -> None:
    """Policy: a right the ACL user lacks (here: keys outside its patterns) is a 503, as
    every Redis refusal is; nothing is written."""
    store = RedisStore(redis_tls_server.store_config("not-the-gates:"))
    with pytest.raises(StorageUnavailableError, match="NoPermissionError"):
        await store.put("probe", "k", b"v")
    await store.close()


def test_documented_acl_rule_is_the_one_the_suite_logs_in_with() -> None:
    """Policy: docs/redis.md's ACL rule grants exactly the rights of the suite's `gate`
    user (the store contract passes with them), and names the cluster's two more."""
    text = REDIS_DOC.read_text()
    rule = text.split("## The ACL user")[1].split("```")[1].split()
    documented = rule[rule.index(">PASSWORD") + 1 :]
    assert sorted(documented) == sorted(set(GATE_ACL) - {"~test-*"})  # the suite's prefixes
    assert f"`{' '.join(CLUSTER_ACL)}`" in text


async def test_missing_ca_file_fails_closed_naming_it_and_is_read_once_it_exists(
    redis_tls_server: RedisTlsServer, redis_key_prefix: str, tmp_path: Path
) -> None:
    """Policy: TLS files are read when a connection needs them: until the CA file exists
    (a Secret mounted late) the store is unavailable, saying why; then it works."""
    ca_file = tmp_path / "later" / "ca.pem"
    config = redis_tls_server.store_config(redis_key_prefix)
    store = RedisStore(replace(config, tls=RedisTls(ca_file=str(ca_file))))
    with pytest.raises(StorageUnavailableError, match="No such file"):
        await store.ping()
    ca_file.parent.mkdir()
    ca_file.write_bytes(redis_tls_server.tls.ca_file.read_bytes())
    assert await _round_trip(store) == b"over tls"
