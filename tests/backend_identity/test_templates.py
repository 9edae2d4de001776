"""`identity` templates: each placeholder's value per kind of principal, and safe encoding."""

from __future__ import annotations

import pytest

from mcp_gate.backend_identity.templates import (
    env_value,
    header_value,
    identity_values,
    render,
    template_problem,
)
from mcp_gate.principal import Principal

ALICE = Principal("user", "user:1234", "Alice@Example.com", subject="1234", client_id="vscode",
                  groups=("eng@example.com", "ops@example.com"))  # fmt: skip


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        (ALICE, {"email": "Alice@Example.com", "subject": "1234", "domain": "example.com",
                 "groups": "eng@example.com,ops@example.com", "client": "vscode",
                 "principal": "user:1234"}),
        (Principal.client("ci-bot"), {"email": "", "subject": "ci-bot", "domain": "",
                                      "groups": "", "client": "ci-bot",
                                      "principal": "client:ci-bot"}),
        (Principal.workload("github:acme/tools"), {"email": "", "subject": "github:acme/tools",
                                                   "domain": "", "groups": "", "client": "",
                                                   "principal": "github:acme/tools"}),
        (Principal.service("ci"), {"email": "", "subject": "ci", "domain": "", "groups": "",
                                   "client": "", "principal": "service:ci"}),
    ],
)  # fmt: skip
def test_each_placeholder_names_the_principal_by_its_kind(principal, expected):
    """policy: what a backend is told for a user, a machine, a workload, a service token."""
    assert identity_values(principal) == expected


def test_rendering_keeps_literal_text_around_placeholders():
    """policy: templates are text with `{{placeholder}}`s, like `Bearer {{token}}`."""
    assert (
        render("{{email}} via {{client}}", identity_values(ALICE)) == "Alice@Example.com via vscode"
    )


def test_header_value_never_breaks_its_line():
    """RFC 9110 §5.5: no CR, LF or NUL in a field value; the rest of it stays readable."""
    value = header_value("mallory@example.com\r\nX-Forwarded-Email: admin@example.com\0é%")
    assert "\r" not in value
    assert "\n" not in value
    assert value == ("mallory@example.com%0D%0AX-Forwarded-Email: admin@example.com%00%C3%A9%25")
    assert header_value("alice@example.com") == "alice@example.com"


def test_env_value_holds_no_nul():
    """execve(2): a NUL ends a variable; anything else passes as it is."""
    assert env_value("a\0b") == "a%00b"
    assert env_value("José\n%") == "José\n%"


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{{emial}}", "unknown placeholder {{emial}}"),
        ("{{email}", "malformed"),
        ("a\r\nb", "control character"),
    ],
)
def test_template_mistakes_are_named(template: str, problem: str):
    """policy: a template that cannot render as meant is refused when the config loads."""
    assert problem in (template_problem(template) or "")
