"""The gate's configuration: the typed model, the loader, and the effective-config renderer."""

from mcp_gate.config.load import load_config, parse_config
from mcp_gate.config.render import render_effective_config

__all__ = ["load_config", "parse_config", "render_effective_config"]
