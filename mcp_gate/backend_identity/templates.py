"""The `identity` templates and the values a principal gives them. Pure.

Owns the placeholders (`{{email}}`, `{{subject}}`, `{{domain}}`, `{{groups}}`,
`{{client}}`, `{{principal}}`), their values for each kind of principal, rendering, and the
encoding that keeps a rendered value inside its container: a header value stays one line
of visible ASCII (RFC 9110 §5.5: CR, LF and NUL never; other bytes outside it, and `%`
itself, are percent-encoded as UTF-8, RFC 3986 §2.1), an environment value holds no NUL.
Knows nothing of HTTP, processes or keys.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from mcp_gate.principal import Principal

PLACEHOLDERS = ("email", "subject", "domain", "groups", "client", "principal")
_PLACEHOLDER = re.compile(r"\{\{([A-Za-z_]+)\}\}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Visible ASCII and space, except `%`, stay as they are in a header value.
_HEADER_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def template_problem(template: str) -> str | None:
    """Why a configured template cannot be rendered, or None (checked at config load)."""
    unknown = [name for name in _PLACEHOLDER.findall(template) if name not in PLACEHOLDERS]
    if unknown:
        known = ", ".join("{{" + name + "}}" for name in PLACEHOLDERS)
        return f"unknown placeholder {{{{{unknown[0]}}}}}; use {known}"
    rest = _PLACEHOLDER.sub("", template)
    if "{{" in rest or "}}" in rest:
        return "holds a malformed {{placeholder}}"
    if _CONTROL.search(template):
        return "holds a control character"
    return None


def identity_values(principal: Principal) -> dict[str, str]:
    """What each placeholder says for `principal` ("" where its kind has no such thing:
    a machine has no email, a service token no client)."""
    email = principal.email or ""
    return {
        "email": email,
        "subject": principal.subject,
        "domain": email.rpartition("@")[2].lower() if "@" in email else "",
        "groups": ",".join(principal.groups),
        "client": principal.client_id,
        "principal": principal.id,
    }


def render(template: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), ""), template)


def header_value(text: str) -> str:
    """`text` as a header value: one line, visible ASCII; the rest percent-encoded."""
    return quote(text, safe=_HEADER_SAFE)


def env_value(text: str) -> str:
    """`text` as an environment value: a NUL would end it (execve), so it is encoded."""
    return text.replace("%", "%25").replace("\0", "%00") if "\0" in text else text
