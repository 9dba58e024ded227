"""Watching a ticket: who gets its notifications, and the choice to watch or not.

The reporter, the assignees and everyone who commented watch a ticket without asking. A user's
own choice overrides that: choosing to watch makes it a watcher, choosing not to stops it being
one, even if it reported or commented. Involvement after a choice not to watch (a new comment,
being assigned again) counts again, as on GitHub: taking part in a ticket is asking to follow it.

A choice is a fact of its own aggregate, one per ticket and user (`watch_id`), never a ticket
event: watching changes neither the ticket's version nor its history, and notifies nobody.
"""

from __future__ import annotations

from uuid import UUID, uuid5

import msgspec
from eventsourcing.domain import Aggregate

from domain.stamped import StampedAggregate
from domain.ticket_events import AssigneesChanged, Commented, Created, TicketEvent
from domain.values import Stamp
from domain.visibility import Audience

_WATCH_IDS = UUID("8c3f5a2e-41d7-4e0b-9a61-2f7d0c9e5b14")


def watch_id(ticket_id: UUID, user_id: UUID) -> UUID:
    return uuid5(_WATCH_IDS, f"{ticket_id}:{user_id}")


class Involvement(msgspec.Struct, frozen=True):
    """What makes one user watch one ticket, besides being its reporter or an assignee."""

    commented: bool = False
    choice: bool | None = None
    """True: chose to watch; False: chose not to; None: no choice in force."""


def is_watcher(user_id: UUID, ticket: Audience, involvement: Involvement | None) -> bool:
    if involvement is not None and involvement.choice is not None:
        return involvement.choice
    return (
        user_id == ticket.reporter_id
        or user_id in ticket.assignee_ids
        or (involvement is not None and involvement.commented)
    )


def involved(involvement: Involvement | None, *, commented: bool = False) -> Involvement:
    """After the user commented or was assigned: a choice not to watch no longer holds."""
    current = involvement or Involvement()
    return Involvement(
        commented=current.commented or commented,
        choice=None if current.choice is False else current.choice,
    )


def involved_by(event: TicketEvent) -> list[tuple[UUID, bool]]:
    """The users `event` involves in its ticket, each with whether it commented: the actor of a
    comment, and whoever the event assigns."""
    match event:
        case Commented():
            return [(event.actor_id, True)]
        case Created():
            return [(user_id, False) for user_id in event.assignee_ids]
        case AssigneesChanged():
            return [(user_id, False) for user_id in event.added]
    return []


def chose(involvement: Involvement | None, watching: bool) -> Involvement:
    return Involvement(commented=involvement.commented if involvement else False, choice=watching)


class Watch(StampedAggregate):
    """One user's choice to watch one ticket or not."""

    TOPIC = "trail.Watch"

    class Event(Aggregate.Event):
        TOPIC = "trail.Watch.Event"
        actor_id: UUID
        command_id: UUID
        ticket_id: UUID
        user_id: UUID

    class Chosen(Event, Aggregate.Created):
        """The user's first choice about this ticket."""

        TOPIC = "trail.Watch.Chosen"
        watching: bool

    class Started(Event):
        TOPIC = "trail.Watch.Started"

        def apply(self, watch: Watch) -> None:
            watch.watching = True

    class Stopped(Event):
        TOPIC = "trail.Watch.Stopped"

        def apply(self, watch: Watch) -> None:
            watch.watching = False

    def __init__(
        self, *, actor_id: UUID, command_id: UUID, ticket_id: UUID, user_id: UUID, watching: bool
    ) -> None:
        self.ticket_id = ticket_id
        self.user_id = user_id
        self.watching = watching

    @classmethod
    def choose(cls, stamp: Stamp, *, ticket_id: UUID, watching: bool) -> Watch:
        """The first choice of the stamp's actor about `ticket_id`."""
        return cls._begin(
            cls.Chosen, stamp, watch_id(ticket_id, stamp.actor_id),
            ticket_id=ticket_id, user_id=stamp.actor_id, watching=watching,
        )

    def change(self, stamp: Stamp, watching: bool) -> None:
        """Record a change of mind; choosing what is already chosen records nothing."""
        if watching != self.watching:
            event = self.Started if watching else self.Stopped
            self._record(stamp, event, ticket_id=self.ticket_id, user_id=self.user_id)
