"""Conversations: private messages between a ticket's reporter and its current assignees.

A message is a fact of its own (a `Message` aggregate with one event), never a ticket event: it
does not change the ticket's version, history, search or statistics, and only the people who
take part in the conversation now may read it (`takes_part`). Posting needs no other message,
so concurrent posts never contend.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import FieldError, require
from domain.stamped import StampedAggregate
from domain.values import Stamp, clean_message
from domain.visibility import Audience


def takes_part(user_id: UUID, ticket: Audience) -> bool:
    """The ticket's reporter and its current assignees take part; nobody else, admins
    included. An assignee removed from the ticket no longer does."""
    return user_id == ticket.reporter_id or user_id in ticket.assignee_ids


class Message(StampedAggregate):
    TOPIC = "trail.Message"

    class Event(Aggregate.Event):
        TOPIC = "trail.Message.Event"
        actor_id: UUID
        command_id: UUID

    class Posted(Event, Aggregate.Created):
        TOPIC = "trail.Message.Posted"
        ticket_id: UUID
        body: str

    def __init__(self, *, actor_id: UUID, command_id: UUID, ticket_id: UUID, body: str) -> None:
        self.ticket_id = ticket_id
        self.author_id = actor_id
        self.body = body

    @classmethod
    def post(cls, stamp: Stamp, *, message_id: UUID, ticket_id: UUID, body: str) -> Message:
        errors: list[FieldError] = []
        text = clean_message(errors, body)
        require(errors)
        return cls._begin(cls.Posted, stamp, message_id, ticket_id=ticket_id, body=text)
