"""The application layer's errors. Domain errors pass through unchanged; the API maps both."""

from __future__ import annotations

import psycopg
import redis
from eventsourcing import persistence

# A database or Redis that cannot be reached right now (refused, restarting, no pooled
# connection within the pool's short timeout): the request may well work in a moment, so the
# API and the web app answer 503 with Retry-After, not a 500. psycopg's errors and the event
# store's wrappers of them.
SERVICE_UNAVAILABLE: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    persistence.OperationalError,
    persistence.InterfaceError,
    redis.ConnectionError,
    redis.TimeoutError,
)


class CommandError(Exception):
    """A command the application service refuses before or after asking the domain."""


class NotFound(CommandError):
    """No such thing, or the caller may not see it (the two look the same from outside)."""


class Forbidden(CommandError):
    """The caller is known and may see the thing, but its role may not do this."""


class Unauthenticated(CommandError):
    """Bad credentials, or an account that may no longer act."""


class AccountPending(CommandError):
    """The account waits for an admin's approval and cannot log in yet."""


class Conflict(CommandError):
    """Concurrent writers kept winning; the command was not applied."""


class VersionMismatch(CommandError):
    """The caller expected a version the aggregate has moved on from (If-Match)."""

    def __init__(self, expected: int, actual: int) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(f"expected version {expected}, the ticket is at version {actual}")


class InvalidResetToken(CommandError):
    """A password-reset token that is unknown, used or expired."""


class TooManyRequests(CommandError):
    """Past a limit on requests of some kind; wait `retry_after` seconds."""

    def __init__(self, retry_after: int, detail: str) -> None:
        self.retry_after = retry_after
        super().__init__(detail)


class TooManyLogins(TooManyRequests):
    """Too many failed sign-ins for an email or from an address; wait `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after,
                         f"too many failed logins; try again in {retry_after} seconds")


class LoginsUnavailable(CommandError):
    """The failure counters cannot be read, so no sign-in is allowed (failing closed)."""


class UploadInterrupted(CommandError):
    """The bytes of an upload were swept away before its event could name them (a sweep of
    bytes no event named ran just then): nothing was recorded, send the file again."""
