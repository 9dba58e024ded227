"""Who may do what: the role rules of the contract, in one place. Who may *see* a ticket is the
domain's rule (`domain.visibility`); a ticket the caller may not see looks missing."""

from __future__ import annotations

from uuid import UUID

from commands.errors import Forbidden, NotFound
from domain.ticket import Ticket
from domain.values import Role
from domain.visibility import Viewer, may_see


class Actor(Viewer, frozen=True):
    """The authenticated caller, with its role as it is now (not as when its token was issued)."""

    name: str

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def works_tickets(self) -> bool:
        return self.role in (Role.ADMIN, Role.DEVELOPER)


def require_visible(actor: Actor, ticket: Ticket) -> None:
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


def require_uploader_or_admin(actor: Actor, uploaded_by: UUID) -> None:
    if actor.id != uploaded_by and not actor.is_admin:
        raise Forbidden("only its uploader or an admin may remove an attachment")
