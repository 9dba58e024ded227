"""The domain's error hierarchy: every rule the aggregates enforce fails with one of these."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec


class FieldError(msgspec.Struct, frozen=True):
    """One invalid field and why, named as the API names it."""

    field: str
    message: str


class DomainError(Exception):
    """A command the domain refuses."""


class InvalidFields(DomainError):
    """One or more fields break their rules; carries every bad field, not only the first."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))


class TransitionNotAllowed(DomainError):
    """A change that the current state forbids, such as an illegal status transition."""


class NameTaken(DomainError):
    """A unique name (an email, a project name or key) that someone else holds."""


class ProjectArchived(DomainError):
    """An archived project takes no new tickets and no edits."""


class NotCommentAuthor(DomainError):
    """Only the author of a comment may rewrite it."""


class UnknownComment(DomainError):
    """The ticket has no comment with that id."""


class LinkNotAllowed(DomainError):
    """A link the tickets cannot take: to the ticket itself, or between two tickets already
    linked (whatever the type, from either end)."""


class CycleNotAllowed(DomainError):
    """A blocking link or a parent that would close a cycle."""


class UnknownLink(DomainError):
    """The ticket has no link with that id."""


class TicketBlocked(DomainError):
    """A ticket blocked by unfinished tickets cannot be resolved or closed; `keys` names them."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = tuple(keys)
        super().__init__(f"blocked by {', '.join(self.keys)}, not resolved or closed yet")


class UnknownAttachment(DomainError):
    """The ticket never had an attachment with that id."""


class AttachmentGone(DomainError):
    """The attachment was removed from its ticket."""


def require(errors: list[FieldError]) -> None:
    """Raise every collected field error at once."""
    if errors:
        raise InvalidFields(errors)
