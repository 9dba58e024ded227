"""Who may do what: the role rules of the contract, in one place."""

from __future__ import annotations

from uuid import UUID

import msgspec

from commands.errors import Forbidden, NotFound
from domain.ticket import Ticket
from domain.values import Role


class Actor(msgspec.Struct, frozen=True):
    """The authenticated caller, with its role as it is now (not as when its token was issued)."""

    id: UUID
    role: Role
    name: str

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def works_tickets(self) -> bool:
        return self.role in (Role.ADMIN, Role.DEVELOPER)


def may_see(actor: Actor, ticket: Ticket) -> bool:
    return actor.works_tickets or ticket.can_be_seen_by_reporter(actor.id)


def require_visible(actor: Actor, ticket: Ticket) -> None:
    """A reporter learns nothing about tickets it may not see: they look missing."""
    if not may_see(actor, ticket):
        raise NotFound("no such ticket")


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only an admin may do this")


def require_ticket_worker(actor: Actor, what: str) -> None:
    if not actor.works_tickets:
        raise Forbidden(f"a reporter may not change {what}")


def require_self_or_admin(actor: Actor, user_id: UUID) -> None:
    if actor.id != user_id and not actor.is_admin:
        raise Forbidden("only an admin may change another user")
