"""The package's declared runtime dependencies are the ones its code imports, no more."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _declared() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = (re.match(r"[A-Za-z0-9._-]+", spec) for spec in project["dependencies"])
    return {match.group(0).lower() for match in names if match}


def _imported_distributions() -> set[str]:
    modules = set()
    for path in (REPO / "mcp_gate").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module.split(".")[0])
    owners = metadata.packages_distributions()
    return {dist.lower() for module in modules for dist in owners.get(module, [])}


def test_every_declared_dependency_is_imported_by_the_gate():
    """Policy: a declared dependency is used, or it goes (authlib went: nothing used it)."""
    assert _declared() - _imported_distributions() == set()


def test_every_third_party_import_of_the_gate_is_declared():
    """An import of a distribution not in `dependencies` would break a clean install."""
    imported = _imported_distributions() - {"mcp-gate"}
    assert imported - _declared() == set()
