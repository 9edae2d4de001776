"""A Google service account key file, read for the JWT bearer grant (RFC 7523).

Owns which fields of the key JSON matter (`client_email`, `private_key`,
`private_key_id`, `token_uri`) and the errors for a key that lacks them, which name the
field and never a value. Pure: the config loader checks an inline key with it, the
Directory client (google_groups.py) signs with what it returns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the crypto stack loads only when a key is read (check-config stays light)
    from joserfc.jwk import RSAKey

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL


class ServiceAccountKeyError(ValueError):
    """The key JSON lacks what delegation needs; the message names the field, not values."""


@dataclass(frozen=True)
class ServiceAccountKey:
    """The fields of a Google service account key file that the JWT bearer grant uses."""

    client_email: str
    private_key: RSAKey = field(repr=False)
    private_key_id: str = ""
    token_uri: str = GOOGLE_TOKEN_URI


def parse_service_account_key(text: str) -> ServiceAccountKey:
    """A key file's JSON (`"type": "service_account"`); ServiceAccountKeyError if unfit."""
    try:
        document = json.loads(text)
    except ValueError:
        raise ServiceAccountKeyError("is not JSON (the service account's key file)") from None
    if not isinstance(document, dict) or document.get("type") != "service_account":
        raise ServiceAccountKeyError('is not a service account key ("type": "service_account")')
    email, pem = document.get("client_email"), document.get("private_key")
    if not isinstance(email, str) or "@" not in email:
        raise ServiceAccountKeyError("has no client_email")
    from joserfc.errors import JoseError
    from joserfc.jwk import RSAKey

    try:
        key = RSAKey.import_key(pem) if isinstance(pem, str) else None
    except (JoseError, ValueError, TypeError):
        key = None
    if key is None or not key.is_private:
        raise ServiceAccountKeyError("has no usable RSA private_key")
    key_id, token_uri = document.get("private_key_id"), document.get("token_uri")
    return ServiceAccountKey(
        client_email=email,
        private_key=key,
        private_key_id=key_id if isinstance(key_id, str) else "",
        token_uri=token_uri if isinstance(token_uri, str) and token_uri else GOOGLE_TOKEN_URI,
    )
