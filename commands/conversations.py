"""Conversations: messages between a ticket's reporter and its current assignees.

Whoever does not take part gets "not found", admins included: a conversation is private to the
people working the ticket, and its existence is not for others to learn.
"""

from __future__ import annotations

from uuid import UUID

from commands.base import Outcome, Service
from commands.errors import NotFound
from commands.messages import PostMessage
from commands.permissions import Actor, require_visible
from domain.conversation import Message, takes_part
from domain.ticket import Ticket


class Conversations(Service):
    def post(self, actor: Actor, command: PostMessage) -> Outcome[Message]:
        ticket = self.require_participant(actor, command.ticket_id)
        message = Message.post(
            self._stamp(actor.id), message_id=self.new_id(), ticket_id=ticket.id,
            body=command.body,
        )
        return self._save(message)

    def require_participant(self, actor: Actor, ticket_id: UUID) -> Ticket:
        """The ticket whose conversation `actor` takes part in now; NotFound otherwise."""
        ticket = self._load(Ticket, ticket_id, "ticket")
        require_visible(actor, ticket)
        if not takes_part(actor.id, ticket):
            raise NotFound("only the reporter and the assignees take part in this conversation")
        return ticket
