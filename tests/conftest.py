"""Root of the test suite: every module in tests/fixtures/ is a pytest plugin.

Fixtures that start real programs (Redis, MCP servers, the OIDC provider, the gate) live
there, one module per program, so each piece of the suite owns its own setup.
"""

import pkgutil
from pathlib import Path

import pytest

# Plugins import each other; marking the package first lets pytest rewrite them all.
pytest.register_assert_rewrite("tests.fixtures")

pytest_plugins = sorted(
    f"tests.fixtures.{module.name}"
    for module in pkgutil.iter_modules([str(Path(__file__).parent / "fixtures")])
)
