"""`parse_groups`: the user's groups from a verified ID token's `idp.groupsClaim`."""

from __future__ import annotations

from mcp_gate.idp.id_token import MAX_GROUPS, parse_groups


def test_a_list_of_strings_is_read_in_order_without_repeats() -> None:
    """Okta, Entra, Keycloak: a JSON array of names (Entra: object ids)."""
    claims = {"groups": ["eng", "admins", "eng"]}
    assert parse_groups(claims, "groups") == ("eng", "admins")


def test_one_string_is_one_group() -> None:
    assert parse_groups({"groups": "eng"}, "groups") == ("eng",)


def test_a_dotted_name_reads_a_nested_claim_unless_a_claim_has_the_whole_name() -> None:
    """Keycloak's `realm_access.roles`; an Auth0 namespaced URL claim is read as one name."""
    nested = {"realm_access": {"roles": ["eng"]}}
    namespaced = {"https://gate.test/groups": ["eng"], "https://gate": {"test/groups": ["x"]}}
    assert parse_groups(nested, "realm_access.roles") == ("eng",)
    assert parse_groups(namespaced, "https://gate.test/groups") == ("eng",)


def test_what_is_not_a_short_visible_string_is_left_out() -> None:
    """Numbers, objects, empty or control-character strings never become groups."""
    claims = {"groups": ["eng", 7, {"a": 1}, "", "bad\nname", "x" * 300]}
    assert parse_groups(claims, "groups") == ("eng",)


def test_absent_or_malformed_claims_mean_no_groups() -> None:
    assert parse_groups({}, "groups") == ()
    assert parse_groups({"groups": {"eng": True}}, "groups") == ()
    assert parse_groups({"realm_access": "eng"}, "realm_access.roles") == ()


def test_groups_are_capped() -> None:
    claims = {"groups": [f"g{index}" for index in range(MAX_GROUPS + 50)]}
    assert len(parse_groups(claims, "groups")) == MAX_GROUPS
