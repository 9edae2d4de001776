"""What a pasted token must look like: trimmed, one printable line, the server's regex."""

from __future__ import annotations

import pytest

from mcp_gate.config.model import UserAuthentication
from mcp_gate.usertokens.validation import (
    MAX_TOKEN_LENGTH,
    InvalidUserTokenError,
    parse_pasted_token,
)

NOTION = UserAuthentication(type="manual", display_name="Notion", validation=r"^ntn_.+$")
ANY = UserAuthentication(type="manual", display_name="Any")


def test_value_matching_the_regex_is_kept_without_surrounding_whitespace():
    """policy: a copied token often carries a trailing newline; it is not part of it."""
    assert parse_pasted_token("  ntn_abc123\n", NOTION) == "ntn_abc123"


def test_value_failing_the_regex_is_refused_with_a_message_naming_the_format():
    """Issue 5 §2: `validation` is checked, with a clear message that never quotes the value."""
    with pytest.raises(InvalidUserTokenError) as refused:
        parse_pasted_token("secret_wrong_kind", NOTION)
    assert "Notion" in refused.value.message
    assert "^ntn_.+$" in refused.value.message
    assert "secret_wrong_kind" not in refused.value.message


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "line\nbreak",
        "tab\tinside",
        "null\x00byte",
        "caf\u00e9",
        "x" * (MAX_TOKEN_LENGTH + 1),
    ],
)
def test_empty_multiline_control_non_ascii_or_huge_values_are_refused(raw):
    """policy: a token goes into a header or an argument; it must be one short ASCII line."""
    with pytest.raises(InvalidUserTokenError):
        parse_pasted_token(raw, ANY)


def test_regex_without_anchors_matches_anywhere_as_in_mcp_front():
    """policy: `re.search`, like Go's regexp.MatchString that mcp-front uses."""
    loose = UserAuthentication(type="manual", validation="ntn_")
    assert parse_pasted_token("prefix-ntn_x", loose) == "prefix-ntn_x"
