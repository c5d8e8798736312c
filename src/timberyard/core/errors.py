"""Errors that cross layers, each carrying the HTTP status and machine code the API reports.

Messages are lowercase-free prose meant for the person who sent the request: they say what
was wrong and, where it helps, what to do instead.
"""

from __future__ import annotations


class TimberyardError(Exception):
    """Base of every error we raise on purpose."""

    status = 500
    code = "InternalError"

    def __init__(self, message: str, **fields: object) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    def to_dict(self) -> dict[str, object]:
        return {"error": self.message, "code": self.code, "status": "error", **self.fields}


class BadRequest(TimberyardError):
    status = 400
    code = "BadRequest"


class MissingCredentials(TimberyardError):
    status = 401
    code = "MissingCredentials"


class Forbidden(TimberyardError):
    status = 403
    code = "Forbidden"


class SessionEnded(MissingCredentials):
    """The session cookie names a session that expired, was ended, or whose user was disabled."""

    code = "SessionEnded"


class PermissionDenied(Forbidden):
    """Authenticated, but the caller's role lacks the permission."""

    code = "PermissionDenied"


class CsrfFailed(Forbidden):
    code = "CsrfFailed"


class OutsideScope(Forbidden):
    """What was asked for would show the caller lines outside their access scope (an anomaly
    alert, which speaks of the whole account)."""

    code = "OutsideScope"


class NotFound(TimberyardError):
    status = 404
    code = "NotFound"


class ClientDisconnected(BadRequest):
    """The client went away before sending its whole request: its doing, not the node's, so it
    counts as a client error and no answer can reach it anyway."""

    code = "ClientDisconnected"


class Conflict(TimberyardError):
    status = 409
    code = "Conflict"


class PayloadTooLarge(TimberyardError):
    status = 413
    code = "PayloadTooLarge"


class UnsupportedMediaType(TimberyardError):
    status = 415
    code = "UnsupportedMediaType"


class Overloaded(TimberyardError):
    """The node cannot take more right now; the client should retry after `retry_after` s."""

    status = 503
    code = "Overloaded"

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TooManyRequests(TimberyardError):
    """Throttled (sign-in guessing, rate limits); retry after `retry_after` seconds."""

    status = 429
    code = "TooManyRequests"

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DataDirLocked(TimberyardError):
    """Another process owns the data directory (chDB allows one owner per directory)."""

    code = "DataDirLocked"


class ConfigError(TimberyardError):
    code = "ConfigError"
