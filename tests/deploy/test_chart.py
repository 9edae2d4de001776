"""The Helm chart (helm/mcp-gate): what it renders for real value sets, and what it refuses.

Rendered offline by Helm's own engine, validated against the Kubernetes schemas (strict),
linted, and its config checked by the gate itself; one test runs the gate from a render.
"""

from __future__ import annotations

import base64
import copy
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

from tests.deploy.chart import (
    CHART_DIR,
    CUSTOM_KINDS,
    KUBE_VERSIONS,
    Rendered,
    env_of,
    lint_findings,
    merged_values,
    pod_specs,
    render_chart,
    schema_errors,
)
from tests.deploy.value_sets import (
    BUNDLED_REDIS_AUTOSCALED,
    CHART_SECRETS,
    EXISTING_SECRET_OIDC,
    EXTERNAL_REDIS_HA,
    GATE_ENV,
    MANAGED_CLUSTER_TLS,
    REDIS_PASSWORD,
    SENTINEL_REDIS,
    VALUE_SETS,
)
from tests.fixtures.ports import free_port, wait_for_port

GATE_START_TIMEOUT_SECONDS = 30.0  # a cold interpreter importing aiohttp and the gate
GATE_STOP_TIMEOUT_SECONDS = 30.0  # the gate's own drain grace (15 s) plus margin


def gate_container(rendered: Rendered) -> dict[str, Any]:
    return rendered.one("Deployment")["spec"]["template"]["spec"]["containers"][0]


def wait_for_gate(gate: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Return once the gate accepts connections; fail with its log if it exits or stalls."""
    deadline = time.monotonic() + GATE_START_TIMEOUT_SECONDS
    while True:
        try:
            wait_for_port(port, timeout=0.2)
            return
        except TimeoutError:
            if gate.poll() is not None:
                pytest.fail(f"the gate exited with {gate.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the gate did not listen within the limit:\n{log.read_text()}")


def with_values(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """`base` with `changes` merged into it, maps key by key (as `helm -f a -f b` merges)."""

    def merge(into: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
        for key, value in update.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                merge(into[key], value)
            else:
                into[key] = value
        return into

    return merge(copy.deepcopy(base), changes)


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_value_set_renders_objects_the_kubernetes_schema_accepts(
    value_set: str, kube_version: str
) -> None:
    """Every rendered object validates strictly (no unknown field) on the oldest and newest
    Kubernetes the chart supports; custom resources are checked by their own tests."""
    rendered = render_chart(VALUE_SETS[value_set])
    errors = [
        schema_errors(obj, kube_version)
        for obj in rendered.objects
        if obj["kind"] not in CUSTOM_KINDS
    ]
    assert [error for error in errors if error] == []


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_value_set_passes_strict_chart_lint(value_set: str) -> None:
    """`helm lint --strict` finds no warning or error for any value set."""
    assert lint_findings(VALUE_SETS[value_set], kube_version=KUBE_VERSIONS[0]) == []


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_value_set_config_passes_check_config(value_set: str, tmp_path: Path) -> None:
    """The ConfigMap's config.yaml is a valid gate config: `mcp-gate check-config` accepts it."""
    config = render_chart(VALUE_SETS[value_set]).one("ConfigMap")["data"]["config.yaml"]
    (tmp_path / "config.yaml").write_text(config, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mcp_gate", "check-config", str(tmp_path / "config.yaml")],
        env={**os.environ, **GATE_ENV},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_configmap_holds_the_config_values_unchanged(value_set: str) -> None:
    """The config in the ConfigMap is exactly `config:` of the merged values (and the
    `workers` value as config.proxy.workers, when above 1)."""
    values = VALUE_SETS[value_set]
    config = yaml.safe_load(render_chart(values).one("ConfigMap")["data"]["config.yaml"])
    expected = copy.deepcopy(merged_values(values)["config"])
    if values.get("workers", 1) > 1:
        expected["proxy"]["workers"] = values["workers"]
    assert config == expected


def test_default_configmap_is_the_config_of_values_yaml() -> None:
    """With no values given, the ConfigMap holds values.yaml's `config:` as the file says it."""
    values_file = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    config = yaml.safe_load(render_chart().one("ConfigMap")["data"]["config.yaml"])
    assert config == values_file["config"]
    assert config["proxy"]["auth"]["idp"]["clientSecret"] == {"$env": "GOOGLE_CLIENT_SECRET"}


def test_chart_depends_on_nothing_to_download() -> None:
    """Rendering needs no subchart: Redis is the chart's own StatefulSet."""
    with helm.Chart.load(CHART_DIR) as chart:
        assert "dependencies" not in chart.metadata
        assert chart.dependencies == []


def test_default_values_render_a_single_replica_gate() -> None:
    """The defaults make one gate pod with its Service, Secret, ConfigMap and nothing more."""
    rendered = render_chart()
    assert rendered.kinds() == {
        "ConfigMap", "Deployment", "PodDisruptionBudget", "Secret", "Service",
        "ServiceAccount", "Pod",  # the `helm test` pod
    }  # fmt: skip
    assert rendered.one("Deployment")["spec"]["replicas"] == 1


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_every_pod_runs_restricted(value_set: str) -> None:
    """Pod Security "restricted": non-root, no privilege escalation, no capabilities,
    RuntimeDefault seccomp, and a read-only root filesystem."""
    for name, spec in pod_specs(render_chart(VALUE_SETS[value_set])).items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] > 0, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name


def test_stdio_caches_and_temp_files_go_to_writable_volumes() -> None:
    """HOME, the npm and uv caches and TMPDIR all lie under emptyDir mounts."""
    rendered = render_chart()
    container = gate_container(rendered)
    volumes = {
        v["name"]: v for v in rendered.one("Deployment")["spec"]["template"]["spec"]["volumes"]
    }
    writable = [
        mount["mountPath"]
        for mount in container["volumeMounts"]
        if "emptyDir" in volumes[mount["name"]]
    ]
    env = env_of(container)
    for name in ("HOME", "XDG_CACHE_HOME", "npm_config_cache", "UV_CACHE_DIR", "TMPDIR"):
        assert any(env[name]["value"].startswith(path) for path in writable), name


def test_probes_use_health_and_ready_under_the_base_url_path() -> None:
    """Liveness and startup probe `/health`, readiness `/ready`, under baseURL's path."""
    container = gate_container(render_chart(BUNDLED_REDIS_AUTOSCALED))
    assert container["livenessProbe"]["httpGet"] == {"path": "/mcp-gate/health", "port": "http"}
    assert container["startupProbe"]["httpGet"] == {"path": "/mcp-gate/health", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/mcp-gate/ready", "port": "http"}


def test_gate_started_from_the_render_answers_its_probes(tmp_path: Path) -> None:
    """The gate, run with the rendered config and the rendered Secret as its environment,
    answers every probe path on the container port, and `/metrics` on the metrics port."""
    port = free_port()
    metrics_port = free_port(other_than=(port,))
    proxy = {
        "baseURL": "https://tools.acme.test/gate/",
        "addr": f"0.0.0.0:{port}",
        "metricsAddr": f"0.0.0.0:{metrics_port}",
    }
    rendered = render_chart(
        {"config": {"proxy": proxy}, "secrets": {"googleClientSecret": "test-google-secret"}}
    )
    (tmp_path / "config.yaml").write_text(rendered.one("ConfigMap")["data"]["config.yaml"])
    secret_env = {
        key: base64.b64decode(value).decode()
        for key, value in rendered.one("Secret")["data"].items()
    }
    container = gate_container(rendered)
    assert container["ports"][0]["containerPort"] == port
    assert container["args"] == ["mcp-gate", "serve", "--config", "/etc/mcp-gate/config.yaml"]
    log = tmp_path / "gate.log"
    with log.open("wb") as log_file:
        gate = subprocess.Popen(
            [sys.executable, "-m", "mcp_gate", "serve", "--config", str(tmp_path / "config.yaml")],
            env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), **secret_env},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_gate(gate, port, log)
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            url = f"http://127.0.0.1:{port}{container[probe]['httpGet']['path']}"
            with urllib.request.urlopen(url, timeout=5) as response:
                assert response.status == 200, probe
        monitor_path = "/metrics"  # the ServiceMonitor's path, on the metrics port
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}{monitor_path}") as metrics:
            assert metrics.status == 200
            assert b"mcp_gate_requests_total" in metrics.read()
    finally:
        gate.terminate()
        gate.wait(timeout=GATE_STOP_TIMEOUT_SECONDS)


def test_config_change_rolls_the_pods() -> None:
    """The pod template's config checksum changes with the config, and only with it."""

    def checksum(values: dict[str, Any]) -> str:
        template = render_chart(values).one("Deployment")["spec"]["template"]
        return template["metadata"]["annotations"]["checksum/config"]

    other = {"config": {"proxy": {"auth": {"allowedDomains": ["acme.test"]}}}}
    assert checksum({}) == checksum({})
    assert checksum(other) != checksum({})


def test_secret_change_rolls_the_pods() -> None:
    """A changed value in the chart's Secret changes the pod template too."""

    def checksum(secret: str) -> str:
        template = render_chart({"secrets": {"googleClientSecret": secret}}).one("Deployment")
        return template["spec"]["template"]["metadata"]["annotations"]["checksum/secret"]

    assert checksum("first-secret") != checksum("second-secret")


def test_secrets_reach_the_pod_only_through_the_secret() -> None:
    """No secret value appears outside the Secret; the gate reads them as env from it."""
    rendered = render_chart(BUNDLED_REDIS_AUTOSCALED)
    outside = yaml.safe_dump([obj for obj in rendered.objects if obj["kind"] != "Secret"])
    for secret in CHART_SECRETS.values():
        assert secret not in outside
    assert gate_container(rendered)["envFrom"][0] == {"secretRef": {"name": "gate-mcp-gate"}}
    data = rendered.one("Secret")["data"]
    assert base64.b64decode(data["MCP_GATE_JWT_SECRET"]).decode() == CHART_SECRETS["jwtSecret"]


def test_existing_secret_replaces_the_chart_secret() -> None:
    """With existingSecret the chart makes no Secret and the gate reads the named one."""
    rendered = render_chart(EXISTING_SECRET_OIDC)
    assert rendered.of_kind("Secret") == []
    assert gate_container(rendered)["envFrom"][0] == {"secretRef": {"name": "mcp-gate-secrets"}}


def test_bundled_redis_keeps_its_data_on_a_claim_and_its_password_off_the_command_line() -> None:
    """One Redis pod with a PVC; the gate's REDIS_URL refers to the password by reference."""
    rendered = render_chart(BUNDLED_REDIS_AUTOSCALED)
    redis = rendered.one("StatefulSet")
    claim = redis["spec"]["volumeClaimTemplates"][0]["spec"]
    assert claim["resources"]["requests"]["storage"] == "5Gi"
    assert claim["storageClassName"] == "fast-ssd"
    assert REDIS_PASSWORD not in yaml.safe_dump(redis)
    url = env_of(gate_container(rendered))["REDIS_URL"]["value"]
    assert url == "redis://:$(REDIS_PASSWORD)@gate-mcp-gate-redis:6379/0"


def test_ingress_streams_unbuffered_on_the_base_url_host_and_path() -> None:
    """The Ingress serves baseURL's host and path, and OAuth discovery at the root, with
    ingress-nginx's buffering off and long timeouts, as SSE and streamable HTTP need."""
    ingress = render_chart(BUNDLED_REDIS_AUTOSCALED).one("Ingress")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    assert annotations["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "off"
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    rule = ingress["spec"]["rules"][0]
    assert rule["host"] == "tools.acme.test"
    assert [path["path"] for path in rule["http"]["paths"]] == [
        "/mcp-gate",
        "/.well-known/oauth-authorization-server",  # RFC 8414 §3: at the origin's root
        "/.well-known/oauth-protected-resource",  # RFC 9728 §3: at the origin's root
    ]


def test_ingress_of_a_gate_at_the_root_has_one_path() -> None:
    """At the root of its host, the gate's one `/` prefix covers discovery too."""
    ingress = render_chart(EXTERNAL_REDIS_HA).one("Ingress")
    assert [path["path"] for path in ingress["spec"]["rules"][0]["http"]["paths"]] == ["/"]


def test_service_monitor_scrapes_the_metrics_port_the_ingress_never_routes_to() -> None:
    """The ServiceMonitor (a custom resource) scrapes `/metrics` on the Service's `metrics`
    port (config.proxy.metricsAddr); the Ingress sends traffic only to `http`."""
    rendered = render_chart(EXTERNAL_REDIS_HA)
    monitor = rendered.one("ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    service = rendered.one("Service", "gate-mcp-gate")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    ports = {port["name"]: port for port in service["spec"]["ports"]}
    assert ports["metrics"]["port"] == 9090
    assert ports["metrics"]["targetPort"] == "metrics"
    container_ports = {port["name"]: port for port in gate_container(rendered)["ports"]}
    assert container_ports["metrics"]["containerPort"] == 9090
    backends = {
        path["backend"]["service"]["port"]["name"]
        for rule in rendered.one("Ingress")["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert backends == {"http"}


def test_loopback_metrics_addr_publishes_no_metrics_port() -> None:
    """A metricsAddr on loopback (the gate's own default) is unreachable from outside the
    pod, so neither the container nor the Service names a metrics port."""
    rendered = render_chart({"config": {"proxy": {"metricsAddr": "127.0.0.1:9090"}}})
    assert [port["name"] for port in gate_container(rendered)["ports"]] == ["http"]
    assert [port["name"] for port in rendered.one("Service")["spec"]["ports"]] == ["http"]


def test_network_policy_admits_the_metrics_port_from_the_chosen_peers() -> None:
    """With network policies on, the metrics port is open to `networkPolicy.metricsFrom`."""
    prometheus = {"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}
    values = with_values(EXTERNAL_REDIS_HA, networkPolicy={"metricsFrom": [prometheus]})
    policy = render_chart(values).one("NetworkPolicy", "gate-mcp-gate")
    rules = {rule["ports"][0]["port"]: rule.get("from") for rule in policy["spec"]["ingress"]}
    assert rules["metrics"] == [prometheus]
    assert rules["http"] == EXTERNAL_REDIS_HA["networkPolicy"]["ingressFrom"]


def test_network_policy_lets_only_the_gate_reach_redis() -> None:
    """With network policies on, Redis accepts only the gate's pods."""
    rendered = render_chart(BUNDLED_REDIS_AUTOSCALED)
    policy = rendered.one("NetworkPolicy", "gate-mcp-gate-redis")
    peers = policy["spec"]["ingress"][0]["from"]
    gate_labels = rendered.one("Deployment")["spec"]["selector"]["matchLabels"]
    assert peers == [{"podSelector": {"matchLabels": gate_labels}}]


def test_termination_grace_outlasts_the_stream_drain() -> None:
    """Kubernetes waits 60 s after SIGTERM (after a 5 s preStop pause) by default."""
    spec = render_chart().one("Deployment")["spec"]["template"]["spec"]
    assert spec["terminationGracePeriodSeconds"] == 60
    assert spec["containers"][0]["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "5"]


def test_notes_give_the_mcp_url_of_every_server() -> None:
    """NOTES.txt lists `<baseURL>/<name>/mcp` for each configured server, none removed, and
    the home page where users find them with their client setup."""
    notes = render_chart(EXISTING_SECRET_OIDC).notes
    assert "git: https://gate.acme.test/git/mcp" in notes
    assert "claude mcp add --transport http git https://gate.acme.test/git/mcp" in notes
    assert (
        "with\nits setup for Claude Code, Cursor, VS Code and Claude Desktop at https://gate.acme.test/,"
        in notes
    )
    assert "/time/mcp" not in notes


REFUSALS = {
    "replicas_with_memory_storage": ({"replicaCount": 2}, "replicaCount is 2"),
    "workers_with_memory_storage": ({"workers": 2}, "workers is 2"),
    "replicas_without_a_cluster": (
        with_values(EXTERNAL_REDIS_HA, config={"proxy": {"cluster": None}}),
        "config.proxy.cluster.advertiseURL does not read MCP_GATE_ADVERTISE_URL",
    ),
    "config_workers_beside_the_chart_value": (
        with_values(EXTERNAL_REDIS_HA, config={"proxy": {"workers": 4}}),
        "set workers: 4",
    ),
    "autoscaling_with_memory_storage": ({"autoscaling": {"enabled": True}}, "storage: redis"),
    "redis_storage_without_fixed_keys": (
        with_values(
            EXTERNAL_REDIS_HA, replicaCount=1, config={"proxy": {"auth": {"jwtSecret": None}}}
        ),
        "config.proxy.auth.jwtSecret is not set",
    ),
    "keys_missing_from_the_chart_secret": (
        with_values(EXTERNAL_REDIS_HA, secrets={"jwtSecret": ""}),
        "the chart's Secret has no value for it",
    ),
    "literal_secret_in_config": (
        {"config": {"proxy": {"auth": {"jwtSecret": "in-a-configmap-0123456789abcdef0123"}}}},
        "holds a literal secret",
    ),
    "service_monitor_on_a_loopback_metrics_addr": (
        with_values(EXTERNAL_REDIS_HA, config={"proxy": {"metricsAddr": "127.0.0.1:9090"}}),
        "Prometheus cannot reach it",
    ),
    "loopback_listen_address": (
        {"config": {"proxy": {"addr": "127.0.0.1:8080"}}},
        "must listen on all interfaces",
    ),
    "redis_without_redis_storage": ({"redis": {"enabled": True}}, 'storage is "memory"'),
    "redis_storage_without_redis": (
        {
            "config": {
                "proxy": {"auth": {"storage": "redis", "redis": {"url": {"$env": "REDIS_URL"}}}}
            }
        },
        "no Redis is configured",
    ),
    "sentinels_beside_an_external_redis": (
        with_values(SENTINEL_REDIS, externalRedis={"url": "redis://redis:6379/0"}),
        "would go unused",
    ),
    "literal_redis_password_in_config": (
        with_values(SENTINEL_REDIS, config={"proxy": {"auth": {"redis": {"password": "pw"}}}}),
        "config.proxy.auth.redis.password holds a literal secret",
    ),
    "credentials_in_a_literal_redis_url": (
        with_values(
            EXTERNAL_REDIS_HA,
            config={"proxy": {"auth": {"redis": {"url": "redis://:pw@redis:6379/0"}}}},
        ),
        "config.proxy.auth.redis.url holds credentials",
    ),
    "bundled_redis_without_password": (
        with_values(BUNDLED_REDIS_AUTOSCALED, secrets={"redisPassword": ""}),
        "set secrets.redisPassword",
    ),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_unworkable_values_are_refused_with_what_to_change(case: str) -> None:
    """Values that would give a broken gate fail to render, and the message says why."""
    values, message = REFUSALS[case]
    with pytest.raises(helm.HelmRenderError, match=re.escape(message)) as refused:
        render_chart(values)
    assert "mcp-gate:" in str(refused.value)


def test_values_schema_rejects_a_misspelled_value() -> None:
    """values.schema.json catches a top-level typo before anything renders."""
    with pytest.raises(helm.HelmValuesError, match="replicas"):
        render_chart({"replicas": 3})


# Values documented as a whole: the gate's config, and Kubernetes objects passed through.
WHOLE_VALUES = frozenset({
    "config", "secrets.extra", "ingress.annotations", "autoscaling.behavior", "updateStrategy",
    "resources", "podSecurityContext", "securityContext", "livenessProbe", "readinessProbe",
    "startupProbe", "redis.resources", "redis.podSecurityContext", "redis.securityContext",
})  # fmt: skip


def leaf_paths(values: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted paths of the chart's values, down to leaves or to a value documented whole."""
    paths = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and path not in WHOLE_VALUES:
            paths.extend(leaf_paths(value, f"{path}."))
        else:
            paths.append(path)
    return paths


def test_chart_readme_documents_every_value() -> None:
    """Each value of values.yaml has its row in the chart's README."""
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    readme = (CHART_DIR / "README.md").read_text()
    assert [path for path in leaf_paths(values) if f"`{path}`" not in readme] == []


def test_every_pod_advertises_its_own_ip_for_the_relay() -> None:
    """DESIGN scale: the downward API gives each pod's IP to config.proxy.cluster."""
    container = gate_container(render_chart(EXTERNAL_REDIS_HA))
    env = env_of(container)
    assert env["POD_IP"]["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    assert env["MCP_GATE_ADVERTISE_URL"]["value"] == "http://$(POD_IP):8081"
    names = [e["name"] for e in container["env"]]
    assert names.index("POD_IP") < names.index("MCP_GATE_ADVERTISE_URL")  # $(POD_IP) expands
    assert {"name": "internal", "containerPort": 8081, "protocol": "TCP"} in container["ports"]


def test_network_policy_admits_gate_to_gate_traffic_on_the_internal_ports_only() -> None:
    """Only the gate's own pods reach the internal listener, on every worker's port."""
    rendered = render_chart(with_values(EXTERNAL_REDIS_HA, workers=3))
    gate_labels = rendered.one("Deployment")["spec"]["selector"]["matchLabels"]
    rules = rendered.one("NetworkPolicy", "gate-mcp-gate")["spec"]["ingress"]
    internal = [r for r in rules if r["ports"][0]["port"] == 8081]
    assert internal == [
        {
            "from": [{"podSelector": {"matchLabels": gate_labels}}],
            "ports": [{"port": 8081, "endPort": 8083, "protocol": "TCP"}],
        }
    ]


def test_workers_value_sets_config_and_opens_a_port_per_worker() -> None:
    """`workers: 2`: config.proxy.workers is 2, and worker 1's internal port is declared."""
    rendered = render_chart(MANAGED_CLUSTER_TLS)
    config = yaml.safe_load(rendered.one("ConfigMap", "gate-mcp-gate")["data"]["config.yaml"])
    assert config["proxy"]["workers"] == 2
    ports = {p["name"]: p["containerPort"] for p in gate_container(rendered)["ports"]}
    assert (ports["internal"], ports["internal-1"]) == (8081, 8082)
