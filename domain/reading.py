"""Read marks: that a user has read one of its notifications, or all of them up to a position.

Notifications themselves are derived from the log (the notifications read model); having read
them is a fact, so it is recorded as an event and survives any rebuild of that model. Each mark
is an aggregate of one event: marking one notification has the notification's own mark id
(`notification_mark_id`), so marking it again collides and records nothing; marking all has
the command's id. The reader is the event's actor.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.stamped import StampedAggregate
from domain.values import Stamp

_MARK_IDS = UUID("3e9d7b61-0c4a-4f25-8e1b-6a2c9f0d7e38")


def notification_mark_id(notification_id: UUID) -> UUID:
    return uuid5(_MARK_IDS, str(notification_id))


class ReadMark(StampedAggregate):
    TOPIC = "trail.ReadMark"

    class Event(Aggregate.Event):
        TOPIC = "trail.ReadMark.Event"
        actor_id: UUID
        command_id: UUID

    class NotificationRead(Event, Aggregate.Created):
        TOPIC = "trail.ReadMark.NotificationRead"
        notification_id: UUID

    class AllRead(Event, Aggregate.Created):
        """Every notification of the actor's up to this position (inclusive)."""

        TOPIC = "trail.ReadMark.AllRead"
        up_to_position: int

    def __init__(self, *, actor_id: UUID, command_id: UUID) -> None:
        self.reader_id = actor_id

    @classmethod
    def notification_read(cls, stamp: Stamp, notification_id: UUID) -> ReadMark:
        return cls._begin(cls.NotificationRead, stamp, notification_mark_id(notification_id),
                          notification_id=notification_id)

    @classmethod
    def all_read(cls, stamp: Stamp, up_to_position: int) -> ReadMark:
        return cls._begin(cls.AllRead, stamp, stamp.command_id, up_to_position=up_to_position)
