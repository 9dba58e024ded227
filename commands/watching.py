"""Watching tickets: a user's choice to watch one or not. Anyone who may see a ticket may
choose; the choice is its own aggregate (`domain.watching.Watch`), never a ticket event."""

from __future__ import annotations

from commands.base import Outcome, Service
from commands.messages import WatchTicket
from commands.permissions import Actor, require_visible
from domain.ticket import Ticket
from domain.watching import Watch, watch_id


class Watching(Service):
    def choose(self, actor: Actor, command: WatchTicket) -> Outcome[Watch]:
        """Record the choice if it changes anything; the outcome's position is the head when
        it does not."""

        def attempt() -> Outcome[Watch]:
            ticket = self._load(Ticket, command.ticket_id, "ticket")
            require_visible(actor, ticket)
            stamp = self._stamp(actor.id)
            watch = self._find(Watch, watch_id(ticket.id, actor.id))
            if watch is None:
                watch = Watch.choose(stamp, ticket_id=ticket.id, watching=command.watching)
            else:
                watch.change(stamp, command.watching)
            return self._save(watch)

        return self._retrying(attempt, "watch")
