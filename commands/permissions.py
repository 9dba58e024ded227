"""Who may do what: the role rules of the contract, in one place. Who may *see* a ticket is the
domain's rule (`domain.visibility`); a ticket the caller may not see looks missing."""

from __future__ import annotations

from uuid import UUID

from commands.errors import Forbidden, NotFound
from domain.ticket import Ticket
from domain.values import Role
from domain.visibility import Viewer, may_see


class Actor(Viewer, frozen=True, kw_only=True):
    """The authenticated caller, with its role and teams as they are now (not as when its token
    was issued)."""

    name: str

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def works_tickets(self) -> bool:
        return self.role in (Role.ADMIN, Role.DEVELOPER)

    def works_team(self, team_id: UUID | None) -> bool:
        """Whether it works the tickets of `team_id` as a developer does: developers and
        admins work every ticket, a team's lead the team's tickets."""
        return self.works_tickets or (team_id is not None and team_id in self.led_team_ids)


def require_visible(actor: Actor, ticket: Ticket) -> None:
    if not may_see(actor, ticket):
        raise NotFound("no such ticket")


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only an admin may do this")


def require_ticket_worker(actor: Actor, what: str, team_id: UUID | None = None) -> None:
    """Developers and admins, and the lead of `team_id` (the ticket's team) when given."""
    if not actor.works_team(team_id):
        who = "developers and admins" if team_id is None else "developers, admins and its lead"
        raise Forbidden(f"only {who} may change the ticket's {what}")


def require_team_change(actor: Actor, old: UUID | None, new: UUID | None) -> None:
    """Developers and admins put a ticket in any team; a team's lead puts tickets in its team
    and takes them out of it."""
    if actor.works_tickets:
        return
    if not actor.led_team_ids or not {old, new} - {None} <= actor.led_team_ids:
        raise Forbidden("only developers, admins and the team's lead may change team_id")


def require_self_or_admin(actor: Actor, user_id: UUID) -> None:
    if actor.id != user_id and not actor.is_admin:
        raise Forbidden("only an admin may change another user")


def require_uploader_or_admin(actor: Actor, uploaded_by: UUID) -> None:
    if actor.id != uploaded_by and not actor.is_admin:
        raise Forbidden("only its uploader or an admin may remove an attachment")
