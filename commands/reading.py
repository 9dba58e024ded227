"""Read marks: a user marks its own notifications read, one or all up to a position.

The API checks that a notification is the caller's before marking it (notifications are a read
model, which the write side does not read); marking one already marked records nothing.
"""

from __future__ import annotations

from eventsourcing.persistence import IntegrityError

from commands.base import Outcome, Service
from commands.messages import MarkAllNotificationsRead, MarkNotificationRead
from commands.permissions import Actor
from domain.errors import FieldError, require
from domain.reading import ReadMark


class ReadMarks(Service):
    def mark_read(self, actor: Actor, command: MarkNotificationRead) -> int:
        """The position of the mark, or the head when it was marked before."""
        mark = ReadMark.notification_read(self._stamp(actor.id), command.notification_id)
        try:
            return self._save(mark).position
        except IntegrityError:
            return self.store.current_position()

    def mark_all_read(self, actor: Actor, command: MarkAllNotificationsRead) -> Outcome[ReadMark]:
        """Every notification of `actor` up to `up_to_position`, which no command can have
        passed if it is beyond the head of the log."""
        errors: list[FieldError] = []
        if command.up_to_position > self.store.current_position():
            errors.append(FieldError("up_to_position", "is beyond the last recorded event"))
        require(errors)
        return self._save(ReadMark.all_read(self._stamp(actor.id), command.up_to_position))
