"""`proxy.workers` and `proxy.cluster`: what loads, and the errors that name their key."""

from __future__ import annotations

from typing import Any

from mcp_gate.config import parse_config
from tests.fixtures.config_files import google_auth, minimal_document, problems_of

REDIS_AUTH = {
    "storage": "redis",
    "redis": {"url": "redis://127.0.0.1:6379/0"},
    "jwtSecret": "j" * 40,
    "encryptionKey": "k" * 32,
}


def _document(**proxy: Any) -> dict[str, Any]:
    document = minimal_document()
    document["proxy"].update(proxy)
    return document


def _with_redis(**proxy: Any) -> dict[str, Any]:
    return _document(auth={**google_auth(), **REDIS_AUTH}, **proxy)


def test_workers_with_memory_storage_is_an_error_naming_proxy_workers() -> None:
    """DESIGN scale: workers > 1 need a store the workers share."""
    problems = problems_of(_document(workers=2))
    assert len(problems) == 1
    assert problems[0].startswith("proxy.workers: workers > 1 needs proxy.auth.storage: redis")


def test_workers_without_a_cluster_is_an_error_naming_proxy_workers() -> None:
    """Policy: each worker is a replica with an internal port; the cluster block says where."""
    problems = problems_of(_with_redis(workers=2))
    assert problems == [problems[0]]
    assert problems[0].startswith("proxy.workers: workers > 1 needs proxy.cluster")


def test_a_cluster_loads_with_its_defaults() -> None:
    """`internalAddr` defaults to every interface on the advertised port; lease 15 s."""
    cluster = {"advertiseURL": "http://10.0.0.5:8081"}
    config = parse_config(_with_redis(workers=3, cluster=cluster), {}, source="test")
    assert config.proxy.workers == 3
    assert config.proxy.cluster is not None
    assert config.proxy.cluster.internal_addr == "0.0.0.0:8081"
    assert config.proxy.cluster.lease_ttl_seconds == 15.0
    worker = config.proxy.cluster.for_worker(2)
    assert (worker.advertise_url, worker.internal_addr) == ("http://10.0.0.5:8083", "0.0.0.0:8083")


def test_a_cluster_on_memory_storage_is_an_error_naming_proxy_cluster() -> None:
    """Policy: replicas find each other's sessions in the store, and sign hops with jwtSecret."""
    problems = problems_of(_document(cluster={"advertiseURL": "http://10.0.0.5:8081"}))
    assert [p.split(":")[0] for p in problems] == ["proxy.cluster"]


def test_an_advertise_url_with_a_path_or_https_is_an_error() -> None:
    """The hop goes to http://host:port + the request's own path."""
    for url in ("http://10.0.0.5:8081/gate", "https://10.0.0.5:8081", "10.0.0.5:8081"):
        problems = problems_of(_with_redis(cluster={"advertiseURL": url}))
        assert [p.split(":")[0] for p in problems] == ["proxy.cluster.advertiseURL"]


def test_an_internal_addr_on_the_public_port_is_an_error() -> None:
    """Policy: the internal listener takes hops only; it cannot share the public port."""
    cluster = {"advertiseURL": "http://10.0.0.5:8080", "internalAddr": "0.0.0.0:8080"}
    problems = problems_of(_with_redis(addr="0.0.0.0:8080", cluster=cluster))
    assert [p.split(":")[0] for p in problems] == ["proxy.cluster.internalAddr"]
