"""Root of the test suite: every module in tests/fixtures/ is a pytest plugin.

Fixtures that start real programs (Redis, MCP servers, the OIDC provider, the gate) live
there, one module per program, so each piece of the suite owns its own setup.
"""

import pkgutil
from pathlib import Path

pytest_plugins = sorted(
    f"tests.fixtures.{module.name}"
    for module in pkgutil.iter_modules([str(Path(__file__).parent / "fixtures")])
)
