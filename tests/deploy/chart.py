"""The mcp-gate Helm chart, rendered offline, and the checks every rendered object gets.

Renders with helm-python-sdk (Helm's own Go SDK through a bundled shared library: no helm
binary, no cluster, no network) and validates against the Kubernetes OpenAPI schemas that
kubernetes-validate ships, in strict mode (unknown fields are errors). Knows nothing about
what the chart should contain: the tests in tests/deploy/ say that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import yaml

CHART_DIR = Path(__file__).resolve().parents[2] / "helm" / "mcp-gate"
RELEASE = "gate"
NAMESPACE = "mcp"
# The oldest Kubernetes the chart's kubeVersion admits, and the newest with shipped schemas.
KUBE_VERSIONS = ("1.27.0", "1.37.0")
# Custom resources: no upstream schema; the tests check their fields themselves.
CUSTOM_KINDS = frozenset({"ServiceMonitor"})

Manifest = dict[str, Any]


@dataclass(frozen=True)
class Rendered:
    """One render of the chart: its Kubernetes objects and its NOTES.txt."""

    objects: tuple[Manifest, ...]
    notes: str

    def kinds(self) -> set[str]:
        return {obj["kind"] for obj in self.objects}

    def of_kind(self, kind: str) -> list[Manifest]:
        return [obj for obj in self.objects if obj["kind"] == kind]

    def one(self, kind: str, name: str | None = None) -> Manifest:
        """The only object of `kind` (named `name`, when given); raise if not exactly one."""
        found = [
            obj for obj in self.of_kind(kind) if name is None or obj["metadata"]["name"] == name
        ]
        if len(found) != 1:
            raise LookupError(f"{len(found)} {kind} objects named {name!r} in the render")
        return found[0]


def render_chart(values: Mapping[str, Any] | None = None) -> Rendered:
    """Render the chart as `helm template gate ./helm/mcp-gate -n mcp -f values` would."""
    with helm.Chart.load(CHART_DIR) as chart:
        files = chart.render(dict(values or {}), name=RELEASE, namespace=NAMESPACE, is_install=True)
    objects: list[Manifest] = []
    notes = ""
    for path, text in sorted(files.items()):
        if path.endswith("NOTES.txt"):
            notes = text
            continue
        objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return Rendered(objects=tuple(objects), notes=notes)


def merged_values(values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The chart's defaults with `values` merged over them, as an install would use."""
    with helm.Chart.load(CHART_DIR) as chart:
        return chart.merge_values(dict(values or {}))


def lint_findings(values: Mapping[str, Any] | None = None, kube_version: str = "") -> list[str]:
    """`helm lint --strict` of the chart: every warning and error, as text (info is left out)."""
    report = helm.lint(
        CHART_DIR,
        dict(values or {}),
        strict=True,
        namespace=NAMESPACE,
        kube_version=f"v{kube_version}" if kube_version else None,
    )
    findings = [
        f"{message['path']}: {message['error']}"
        for message in report["messages"]
        if message["severity"] >= 2  # 1 is info ("icon is recommended")
    ]
    return findings + list(report["errors"])


def schema_errors(obj: Manifest, kube_version: str) -> str | None:
    """Why the Kubernetes schema of `kube_version` rejects `obj` (strict), or None."""
    try:
        kubernetes_validate.validate(obj, kube_version, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(part) for part in error.path)
        return f"{obj['kind']}/{obj['metadata']['name']}: {where}: {error.message}"
    return None


def pod_specs(rendered: Rendered) -> dict[str, Manifest]:
    """Every pod spec of the render by `Kind/name` (workload templates and bare pods)."""
    specs = {}
    for obj in rendered.objects:
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] == "Pod":
            specs[name] = obj["spec"]
        elif obj["kind"] in ("Deployment", "StatefulSet"):
            specs[name] = obj["spec"]["template"]["spec"]
    return specs


def env_of(container: Manifest) -> dict[str, Manifest]:
    """A container's `env` entries by name."""
    return {entry["name"]: entry for entry in container.get("env", [])}
