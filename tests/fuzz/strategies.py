"""Hypothesis strategies for what arrives from outside: JSON values, URL-ish text, headers.

Shapes a client, a scanner or an attacker sends: valid documents with one member bent,
near-miss URLs, control characters and non-ASCII, huge numbers, deep nesting.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import TypeVar

from hypothesis import strategies as st

# Text that looks like protocol text: printable ASCII with the separators URLs use, plus
# control characters, non-ASCII and the odd surrogate-free astral character.
URLISH_ALPHABET = string.ascii_letters + string.digits + ":/?#[]@!$&'()*+,;=%-._~ \t\r\n"
urlish_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(URLISH_ALPHABET), st.characters(codec="utf-8", exclude_categories=["Cs"])
    ),
    max_size=80,
)

_PREFIXES = [
    "http://127.0.0.1",
    "http://localhost:",
    "http://[::1]",
    "https://",
    "https://client.example",
    "cursor://",
    "javascript:",
    "JaVa\tScript:",
    "data:",
    "com.example.app:/",
    "vscode://",
    "",
]
redirect_uri_like = st.builds(lambda p, rest: p + rest, st.sampled_from(_PREFIXES), urlish_text)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    urlish_text,
    redirect_uri_like,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(urlish_text, inner, max_size=5)
    ),
    max_leaves=20,
)


def bent_document(base: dict[str, object]) -> st.SearchStrategy[dict[str, object]]:
    """`base` with some members replaced by arbitrary JSON values and some extra members."""
    return st.builds(
        lambda replacements, extra: {**base, **replacements, **extra},
        st.dictionaries(st.sampled_from(sorted(base)), json_values, max_size=len(base)),
        st.dictionaries(urlish_text, json_values, max_size=3),
    )


E = TypeVar("E", bound=BaseException)


def raised(expected: type[E], call: Callable[[], object]) -> E | None:
    """The `expected` error `call` raised, or None; any other exception fails the test."""
    try:
        call()
    except expected as error:
        return error
    return None
