"""The gate's exception tree. Every error the gate raises on purpose is a `GateError`.

    GateError
    ├── ConfigError              the config file is wrong; carries every problem with its key path
    ├── StorageUnavailableError  Redis (or another store) cannot be reached → 503, fail closed
    ├── BackendError             a backend MCP server failed this request
    │   ├── BackendUnavailableError   connection refused / reset / child exited → 502
    │   │   ├── UpstreamConnectError          no connection (refused, DNS, TLS)
    │   │   ├── UpstreamConnectionLostError   closed before the response was complete
    │   │   ├── MalformedResponseError        not an HTTP/1.x response
    │   │   └── ResponseTooLargeError         a body over the reader's cap
    │   └── BackendTimeoutError       no answer within the server's `timeout` → 504
    │       └── UpstreamTimeoutError          pool, connect, headers or body wait ran out
    │   (these six live in mcp_gate/http1/errors.py)
    ├── CryptoError              a sealed value did not open (tampered, wrong key, wrong user)
    ├── UnreadableBodyError      a form or JSON body too large or not decodable → 413 / 400
    ├── OAuthError               an RFC 6749 / 7591 / 8707 error; carries its code and status
    │   (subclasses live in mcp_gate/oauth/errors.py, one per RFC error code)
    ├── IdpError                 the IdP failed us (unreachable, bad discovery/JWKS) → 502
    ├── LoginRefusedError        the IdP's answer or the user is refused → 403 page
    │   └── IdTokenInvalidError  the ID token failed verification
    │   (these three live in mcp_gate/idp/errors.py)
    ├── MissingUserTokenError    a server needs the user's own token (proxy/credentials.py)
    └── UnusableUserTokenError   the user's token would change where the server's URL
                                 points (proxy/credentials.py)

Handlers translate these to responses; the error middleware is the only place that catches
`Exception`, and it answers 500 with a plain body that carries no detail.
"""

from __future__ import annotations


class GateError(Exception):
    """Root of every error the gate raises on purpose."""


class ConfigError(GateError):
    """The configuration is invalid. `problems` holds one line per error, key path first."""

    def __init__(self, problems: list[str], *, source: str = "config") -> None:
        self.problems = problems
        self.source = source
        super().__init__(f"{source}: {len(problems)} problem(s)\n" + "\n".join(problems))


class StorageUnavailableError(GateError):
    """The store cannot be reached. Requests that need it fail closed with 503."""


class BackendError(GateError):
    """A backend failed to serve a request. `server` names the configured server."""

    status = 502

    def __init__(self, server: str, reason: str) -> None:
        self.server = server
        self.reason = reason
        super().__init__(f"backend {server!r}: {reason}")


class BackendUnavailableError(BackendError):
    status = 502


class BackendTimeoutError(BackendError):
    status = 504


class CryptoError(GateError):
    """A sealed value failed to open: tampered, expired, or sealed for someone else."""


class UnreadableBodyError(GateError):
    """A request body the gate cannot read: over its size cap (413) or not decodable (400)."""

    def __init__(self, reason: str, *, status: int = 400) -> None:
        self.reason = reason
        self.status = status
        super().__init__(reason)


class OAuthError(GateError):
    """An OAuth error response (RFC 6749 §5.2, RFC 7591 §3.2.2, RFC 8707 §2).

    `error` is the RFC error code; `status` the HTTP status of the JSON error response.
    `description` is shown to the client, so it never carries a secret.
    """

    error: str = "invalid_request"
    status: int = 400
    # Sent as `Retry-After` (RFC 9110 §10.2.3) when set: a 429's wait.
    retry_after_seconds: int | None = None

    def __init__(self, description: str = "", *, error: str | None = None) -> None:
        if error is not None:
            self.error = error
        self.description = description
        super().__init__(f"{self.error}: {description}" if description else self.error)
