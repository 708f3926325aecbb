"""The domain errors; the HTTP edge and the CLI turn each into a clear message."""

from __future__ import annotations


class OmnideskError(Exception):
    """Base of every error omnidesk reports to a user."""

    status_code = 400
    code = "bad_request"
    retry_after_s: int | None = None  # sent as Retry-After when the client should come back

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(OmnideskError):
    """The object does not exist, or belongs to another tenant."""

    status_code = 404
    code = "not_found"


class Conflict(OmnideskError):
    """The request clashes with the current state (duplicate, invalid transition)."""

    status_code = 409
    code = "conflict"


class InvalidInput(OmnideskError):
    """A value was well-formed but not acceptable."""

    status_code = 422
    code = "invalid"


class Unauthorized(OmnideskError):
    """Missing, expired or invalid credentials."""

    status_code = 401
    code = "unauthorized"


class Forbidden(OmnideskError):
    """Authenticated, but the role does not allow this."""

    status_code = 403
    code = "forbidden"


class Overloaded(OmnideskError):
    """The server is too busy (no database connection in time, routing far behind); the
    client should retry after `retry_after_s`."""

    status_code = 503
    code = "overloaded"

    def __init__(self, message: str, *, field: str | None = None,
                 retry_after_s: int = 1) -> None:
        super().__init__(message, field=field)
        self.retry_after_s = retry_after_s
