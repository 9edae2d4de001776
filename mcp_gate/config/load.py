"""Loading the config file: bytes → YAML/JSON document → `GateConfig`, or every problem at once.

Owns the file side (reading, YAML or JSON syntax, duplicate keys) and the top level of the
document (`version`, `proxy`, `mcpServers`); each section's meaning belongs to the
`*_schema.py` modules. The only module that imports `yaml` (house style), so YAML output
for `render.py` is made here too. Raises `ConfigError` listing every problem, key path
first; never a Python exception for bad input, never a secret's value in a message.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import yaml

from mcp_gate.config.model import GateConfig
from mcp_gate.config.proxy_schema import parse_proxy
from mcp_gate.config.section import Section
from mcp_gate.config.servers_schema import parse_servers
from mcp_gate.config.values import Context, describe
from mcp_gate.errors import ConfigError

ROOT_KEYS = ("proxy", "mcpServers")
# policy: mcp-front's format marker ("v0.0.1-DEV_EDITION_EXPECT_CHANGES"); accepted, ignored.
ROOT_IGNORED = ("version",)


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> GateConfig:
    """Read, parse and check the config file at `path` (YAML, or JSON for `*.json`)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ConfigError([f"cannot read the file: {reason}"], source=source) from None
    is_json = Path(path).suffix.lower() == ".json"
    data, problems = _read_json(text) if is_json else _read_yaml(text)
    if problems:
        raise ConfigError(problems, source=source)
    return parse_config(data, environ, source=source)


def parse_config(
    data: object, environ: Mapping[str, str] | None = None, source: str = "config"
) -> GateConfig:
    """Check a loaded document (mappings, lists, scalars) and build the typed config."""
    ctx = Context(os.environ if environ is None else environ)
    if not isinstance(data, Mapping):
        found = "the file is empty" if data is None else f"found {describe(data)}"
        problem = f"{found}; expected a mapping with proxy and mcpServers"
        raise ConfigError([problem], source=source)
    root = Section(ctx, "", data, ROOT_KEYS, ignored=ROOT_IGNORED)
    proxy = parse_proxy(root)
    servers = parse_servers(root, has_auth=proxy.auth is not None)
    if ctx.problems:
        raise ConfigError(ctx.problems, source=source)
    return GateConfig(proxy=proxy, servers=servers)


def dump_yaml(document: object) -> str:
    """A plain document as block YAML, keys in given order, `{$userToken: ...}` kept inline."""
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


class _Dumper(yaml.SafeDumper):
    def represent_dict(self, data: Mapping[object, object]) -> yaml.MappingNode:
        node = super().represent_dict(data)
        if len(data) == 1 and next(iter(data)) in ("$env", "$userToken"):
            node.flow_style = True
        return node


_Dumper.add_representer(dict, _Dumper.represent_dict)


class _Loader(yaml.SafeLoader):
    """SafeLoader that records duplicate keys instead of letting the last one win silently."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[str] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(
                key_node, yaml.ScalarNode
            ):
                continue
            if key_node.value in seen:
                line = key_node.start_mark.line + 1
                self.duplicates.append(f"line {line}: duplicate key {key_node.value!r}")
            seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(text: str) -> tuple[object, list[str]]:
    try:
        # The reader refuses control characters as the loader is made (yaml.reader.ReaderError).
        loader = _Loader(text)
    except yaml.YAMLError as error:
        return None, [f"invalid YAML: {error}"]
    try:
        return loader.get_single_data(), loader.duplicates
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return None, [f"invalid YAML{where}: {error.problem or error.context}"]
    except yaml.YAMLError as error:
        return None, [f"invalid YAML: {type(error).__name__}"]
    except (ValueError, RecursionError) as error:  # e.g. an integer past Python's digit limit
        return None, [f"invalid YAML: {error}"]
    finally:
        loader.dispose()


def _read_json(text: str) -> tuple[object, list[str]]:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        keys = [key for key, _ in items]
        duplicates.extend(
            f"duplicate key {key!r} in a JSON object"
            for index, key in enumerate(keys)
            if key in keys[:index]
        )
        return dict(items)

    try:
        return json.loads(text, object_pairs_hook=pairs), duplicates
    except json.JSONDecodeError as error:
        return None, [f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"]
    except (ValueError, RecursionError) as error:  # e.g. an integer past Python's digit limit
        return None, [f"invalid JSON: {error}"]
