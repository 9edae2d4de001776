"""Citations in code, tests and docs name sources a reader of the repository can open.

Comments, docstrings and docs cite the MCP specification (revision, page, heading), an RFC
section, a client's behaviour stated plainly, or a page in docs/. They never cite the
team's private design notes or their private digest of the MCP rules, which nobody reading
the repository has. This walks the repository's own text files and fails on any such
citation, naming the file and the line.

The patterns are built from pieces, so this file does not match itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCANNED = ("mcp_gate", "tests", "docs", "bench", "README.md")
# Generated or third-party trees: not the repository's own words.
SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "results", ".venv"})
TEXT_SUFFIXES = frozenset(
    {".py", ".md", ".yaml", ".yml", ".json", ".toml", ".tpl", ".txt", ".js", ".mjs", ".ts"}
)

_DESIGN = "DES" + "IGN"
_REFERENCE = "refer" + "ence"
# Between words: blanks, a line break, and the comment or quote marks that start a line.
_GAP = r"[\s#>*\"']+"
PRIVATE_CITATIONS = (
    re.compile(_REFERENCE + _GAP + "§", re.IGNORECASE),
    re.compile(_REFERENCE + _GAP + "(item|pit" + "fall)s?" + _GAP + r"\d", re.IGNORECASE),
    re.compile(r"\b" + "pit" + "falls?" + _GAP + r"\d+"),  # the digest's numbering
    re.compile(r"\b" + _DESIGN + r"\b"),  # its sections, its file name
    re.compile("mcp-auth-" + "and-transport"),
    re.compile("shared/" + _REFERENCE),
)


def _scanned_files() -> list[Path]:
    files: list[Path] = []
    for name in SCANNED:
        root = REPO / name
        if root.is_file():
            files.append(root)
            continue
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(REPO)
            if SKIPPED_DIRS.intersection(relative.parts):
                continue
            if path.is_file() and path.suffix in TEXT_SUFFIXES:
                files.append(path)
    return files


def _private_citations(text: str) -> list[tuple[int, str]]:
    """(line number, line) of each citation, one that wraps a line included."""
    lines = text.splitlines()
    numbers = {
        text.count("\n", 0, match.start()) + 1
        for pattern in PRIVATE_CITATIONS
        for match in pattern.finditer(text)
    }
    return [(number, lines[number - 1].strip()) for number in sorted(numbers)]


def test_the_scan_covers_code_tests_docs_and_bench() -> None:
    """The walk reaches each scanned tree, so an empty result means something."""
    scanned = {path.relative_to(REPO).parts[0] for path in _scanned_files()}
    assert scanned == set(SCANNED)


@pytest.mark.parametrize(
    "line",
    [
        "# " + _REFERENCE + " §2.4 item 21: a redirect stops discovery",
        '"""' + _REFERENCE.capitalize() + ' §3.5: answer preflight."""',
        "Policy (" + _REFERENCE + " pit" + "fall 5): script schemes",
        "refresh_token kept (pit" + "fall 12).",
        '"""' + _DESIGN + ' §4: approval is remembered."""',
        "# The example of " + _DESIGN + ".md §3, verbatim",
        "see shared/" + _REFERENCE + "/mcp-auth-" + "and-transport.md",
        "for SOME_TTL (" + _REFERENCE + "\n# §2.11 item 50), and",
    ],
)
def test_a_private_citation_is_recognised(line: str) -> None:
    assert _private_citations(line) == [(1, line.splitlines()[0].strip())]


@pytest.mark.parametrize(
    "line",
    [
        "MCP 2025-11-25 authorization §Protected Resource Metadata Discovery Requirements",
        "RFC 8414 §3.3: clients compare the issuer strings exactly",
        "claude.ai registers a new client on every fresh connection",
        "docs/config.md `shutdownGrace`: SIGTERM drains streams",
        "Configuration reference",  # docs/config.md's own title
    ],
)
def test_a_public_citation_passes(line: str) -> None:
    assert _private_citations(line) == []


def test_no_file_cites_a_private_document() -> None:
    """Every citation names a public source: MCP spec, RFC, a client's behaviour, docs/."""
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line}"
        for path in _scanned_files()
        for number, line in _private_citations(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "\n".join(offenders)
