"""Root of the test suite: every module in tests/fixtures/ is a pytest plugin.

Fixtures that start real programs (Redis, MCP servers, the OIDC provider, the gate) live
there, one module per program, so each piece of the suite owns its own setup.
"""

import os
import pkgutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property-based tests (tests/fuzz/ and elsewhere): a fixed, fast profile for CI (the same
# examples every run: no flakes), and a long one by hand: HYPOTHESIS_PROFILE=long make test.
settings.register_profile(
    "ci",
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("long", max_examples=5000, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Plugins import each other; marking the package first lets pytest rewrite them all.
pytest.register_assert_rewrite("tests.fixtures")

pytest_plugins = sorted(
    f"tests.fixtures.{module.name}"
    for module in pkgutil.iter_modules([str(Path(__file__).parent / "fixtures")])
)
