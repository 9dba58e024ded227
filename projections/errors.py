"""The read side's errors: what queries and projectors raise, for `api/errors.py` to map."""

from __future__ import annotations


class ProjectionError(Exception):
    """Anything the read side refuses or fails at."""


class InvalidQuery(ProjectionError):
    """A query parameter that does not make sense, such as a cursor that does not decode.

    `field` is the query parameter's public name, so the API can answer 422 naming it.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ProjectorFailed(ProjectionError):
    """A projector raised while processing an event: its runner stopped there, skipping nothing."""

    def __init__(self, name: str, position: int, topic: str) -> None:
        super().__init__(f"projection {name!r} failed at position {position} ({topic})")
        self.name = name
        self.position = position
        self.topic = topic


class NotRebuildable(ProjectionError):
    """A projection whose effects must not be replayed (the email outbox) was asked to rebuild."""


class RebuildInProgress(ProjectionError):
    """Another process is already rebuilding this projection."""
